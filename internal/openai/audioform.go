package openai

import (
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
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
	f := &transcriptForm{editForm: editForm{lim: lim, seen: map[string]bool{}}, req: &TranscriptionRequest{}}
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

// transcriptForm is a multipart transcription being read; it shares the
// body limits and error words of an edit form.
type transcriptForm struct {
	editForm
	req *TranscriptionRequest
}

func (f *transcriptForm) add(part *multipart.Part) *Error {
	name := part.FormName()
	if isGranularity(name) {
		v, e := f.text(part, "timestamp_granularities")
		f.req.Granularities = append(f.req.Granularities, v)
		return e
	}
	if name == "" {
		return InvalidRequest("", "invalid_multipart", "A multipart part has no form field name.")
	}
	if f.seen[name] {
		return InvalidRequest(Echo(name), "duplicate_parameter", "The field '%s' is given more than once.", Echo(name))
	}
	f.seen[name] = true
	if name == "file" {
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

// text reads a text field, capped at maxFormField.
func (f *transcriptForm) text(part io.Reader, name string) (string, *Error) {
	b, err := io.ReadAll(io.LimitReader(part, maxFormField+1))
	if err != nil {
		return "", f.bodyError(err)
	}
	if len(b) > maxFormField {
		return "", InvalidRequest(Echo(name), "invalid_value", "The field '%s' is longer than %d bytes.", Echo(name), maxFormField)
	}
	return string(b), nil
}

// readAudio reads the file part and checks by its bytes that it is audio.
func (f *transcriptForm) readAudio(part io.Reader) *Error {
	data, err := io.ReadAll(io.LimitReader(part, f.lim.MaxFileBytes+1))
	if err != nil {
		return f.bodyError(err)
	}
	if int64(len(data)) > f.lim.MaxFileBytes {
		return &Error{Status: http.StatusRequestEntityTooLarge, Type: TypeInvalidRequest, Param: "file", Code: "file_too_large", NoRetry: true,
			Message: fmt.Sprintf("The audio file is larger than the %d bytes (25 MB) this server accepts.", f.lim.MaxFileBytes)}
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
