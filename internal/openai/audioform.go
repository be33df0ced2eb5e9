package openai

import (
	"io"
	"mime/multipart"
	"slices"
	"strconv"
	"strings"

	"github.com/falproxy/falproxy/internal/media"
)

// MaxAudioFile is the largest recording OpenAI's transcription takes.
const MaxAudioFile = 25 << 20

// audioExtensions are the file extensions of the audio formats
// SniffAudio knows, used to name an upload.
var audioExtensions = map[string]string{
	"audio/wav": "wav", "audio/mpeg": "mp3", "audio/flac": "flac", "audio/ogg": "ogg",
	"audio/aac": "aac", "audio/mp4": "m4a", "audio/webm": "webm",
}

// DecodeTranscriptionForm reads a transcription or translation as the SDKs
// send it, multipart with a "file" part, part by part like
// DecodeImageEditForm: the file is held whole, capped at lim.MaxFileBytes
// (413 beyond) and must be audio by its bytes, which are never changed.
// timestamp_granularities may come as "timestamp_granularities[]" (what
// the SDKs send), with an index, or bare, and repeat.
func DecodeTranscriptionForm(mr *multipart.Reader, lim FormLimits) (*TranscriptionRequest, *Error) {
	f := &transcriptForm{partReader: newPartReader(lim), req: &TranscriptionRequest{}}
	if e := f.eachPart(mr, f.add); e != nil {
		return nil, e
	}
	switch {
	case f.req.File.Data == nil:
		return nil, InvalidRequest("file", "missing_required_parameter", "Missing required parameter: 'file'.")
	case f.req.ResponseFormat != "" && !slices.Contains(TranscriptFormats, f.req.ResponseFormat):
		return nil, InvalidRequest("response_format", "invalid_value",
			"Invalid 'response_format': %q is not one of json, text, srt, verbose_json, vtt.", Echo(f.req.ResponseFormat))
	}
	for _, g := range f.req.Granularities {
		if g != "segment" && g != "word" {
			return nil, InvalidRequest("timestamp_granularities", "invalid_value",
				"Invalid 'timestamp_granularities': %q is not one of segment, word.", Echo(g))
		}
	}
	return f.req, nil
}

// transcriptForm is a multipart transcription being read.
type transcriptForm struct {
	partReader
	req *TranscriptionRequest
}

func (f *transcriptForm) add(part *multipart.Part) *Error {
	name, e := f.field(part, isGranularity)
	switch {
	case e != nil:
		return e
	case isGranularity(name):
		v, e := f.text(part, "timestamp_granularities")
		f.req.Granularities = append(f.req.Granularities, v)
		return e
	case name == "file":
		return f.readAudio(part)
	}
	v, e := f.text(part, name)
	if e != nil {
		return e
	}
	switch name {
	case "model":
		f.req.Model = v
	case "language":
		f.req.Language = strings.TrimSpace(v)
	case "prompt":
		f.req.Prompt = v
	case "response_format":
		f.req.ResponseFormat = strings.TrimSpace(v)
	case "temperature":
		// checked, then dropped: fal's models take none
		if _, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
			return InvalidRequest("temperature", "invalid_type", "Invalid type for 'temperature': expected a number, got %q.", Echo(v))
		}
	}
	return nil
}

// readAudio reads the file part and checks by its bytes that it is audio.
func (f *transcriptForm) readAudio(part io.Reader) *Error {
	data, e := f.file(part, "file", f.lim.MaxFileBytes)
	if e != nil {
		return e
	}
	ct := media.SniffAudio(data)
	if ct == "" {
		return InvalidRequest("file", "invalid_file_format",
			"Invalid file format: the file is not audio this server recognises. Supported formats: flac, m4a, mp3, mp4, mpeg, mpga, oga, ogg, wav, webm.")
	}
	f.req.File = File{Name: "audio." + audioExtensions[ct], ContentType: ct, Data: data}
	return nil
}

// isGranularity reports the names a client may give
// timestamp_granularities under.
func isGranularity(name string) bool {
	rest, ok := strings.CutPrefix(name, "timestamp_granularities")
	return ok && (rest == "" || strings.HasPrefix(rest, "[") && strings.HasSuffix(rest, "]"))
}
