package falfake

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
)

// wavRate is the sample rate of the emulator's speech: 16 kHz mono PCM.
const wavRate = 16000

// ToneWAV returns a real WAV file (16-bit mono PCM at 16 kHz) holding a
// tone of hz lasting ms milliseconds. The emulator speaks with it, and
// tests send it as a recording.
func ToneWAV(ms, hz int) []byte {
	n := wavRate * ms / 1000
	var b bytes.Buffer
	b.Grow(44 + 2*n)
	le := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(36 + 2*n))
	b.WriteString("WAVEfmt ")
	le(uint32(16))
	le(uint16(1)) // PCM
	le(uint16(1)) // mono
	le(uint32(wavRate))
	le(uint32(2 * wavRate))
	le(uint16(2))
	le(uint16(16))
	b.WriteString("data")
	le(uint32(2 * n))
	for i := range n {
		le(int16(8000 * math.Sin(2*math.Pi*float64(hz)*float64(i)/wavRate)))
	}
	return b.Bytes()
}

// audioFile is a File of an audio model's output.
type audioFile struct {
	URL         string `json:"url"`
	ContentType string `json:"content_type"`
	FileName    string `json:"file_name"`
	FileSize    int    `json:"file_size"`
}

// speechOutcome speaks the input text: a WAV tone 300 ms plus 60 ms per
// character long, pitched by the voice, stored on the emulator's CDN. The
// emulator encodes only WAV (and raw PCM when audio_setting asks pcm), so
// a model asked for mp3 or flac answers WAV and says so in content_type,
// as the proxy must tell from the bytes. A
// model whose output_format is "hex" (MiniMax's default) answers the
// bytes hex-encoded in the url field instead of a URL.
func (f *Fake) speechOutcome(x execution, in node) outcome {
	m := x.model
	text := firstString(in, "text", "prompt", "input")
	voice := firstString(in, "voice", "voice_id")
	if vs, ok := in["voice_setting"].(node); ok {
		voice, _ = vs["voice_id"].(string)
	}
	hz := 220 + int(fnvString(voice)%440)
	ms := 300 + 60*len([]rune(text))
	data := ToneWAV(ms, hz)
	file := audioFile{ContentType: "audio/wav", FileName: "speech.wav"}
	if as, ok := in["audio_setting"].(node); ok && as["format"] == "pcm" {
		data = data[44:] // raw samples, as asked, without the WAV header
		file.ContentType, file.FileName = "audio/pcm", "speech.pcm"
	}
	file.FileSize = len(data)
	if m.has("output_format") && m.param(in, "output_format") == "hex" {
		file.URL = hex.EncodeToString(data)
	} else {
		token := randomID(21)
		p := "/files/" + animal(fnvString(text)) + "/" + token + "_" + file.FileName
		f.files.reserve(token, p, file.ContentType)
		f.files.fill(token, data, file.ContentType)
		file.URL = x.cdnBase + p
	}
	return successOutcome(m.pick(node{"audio": file, "duration_ms": ms}))
}

// transcriptChunk is one entry of a speech-to-text model's "chunks".
type transcriptChunk struct {
	Timestamp [2]float64 `json:"timestamp"`
	Text      string     `json:"text"`
}

// transcriptionOutcome "hears" the audio_url: the transcript names the
// number of bytes received and the start of their SHA-256, so that a test
// can tell that fal got the file intact. It has two segments spanning the
// recording (its WAV duration, or one second per 32000 bytes), one chunk
// per word when chunk_level is "word", and is "translated" (prefixed)
// when task is "translate".
func (f *Fake) transcriptionOutcome(x execution, in node) outcome {
	m := x.model
	ref, _, ok := f.lookupURL(firstString(in, "audio_url"), x.cdnBase)
	if !ok || ref.data == nil {
		return validationOutcome([]detail{{Type: "file_download_error", Loc: []any{"body", "audio_url"},
			Msg: "Failed to download the file. Please check if the URL is accessible.", Input: in["audio_url"]}})
	}
	sum := sha256.Sum256(ref.data)
	segments := []string{
		fmt.Sprintf("Heard %d bytes.", len(ref.data)),
		fmt.Sprintf("Digest %s.", hex.EncodeToString(sum[:4])),
	}
	if m.param(in, "task") == "translate" {
		segments[0] = "Translated: " + segments[0]
	}
	secs := wavSeconds(ref.data)
	var chunks []transcriptChunk
	switch m.param(in, "chunk_level") {
	case "word":
		var words []string
		for _, s := range segments {
			words = append(words, strings.Fields(s)...)
		}
		chunks = spread(words, secs)
	case "none":
		chunks = spread([]string{strings.Join(segments, " ")}, secs)
	default:
		chunks = spread(segments, secs)
	}
	lang, _ := m.param(in, "language").(string)
	if lang == "" || m.param(in, "task") == "translate" {
		lang = "en"
	}
	return successOutcome(m.pick(node{
		"text":                 strings.Join(segments, " "),
		"chunks":               chunks,
		"languages":            []string{lang},
		"inferred_languages":   []string{lang},
		"diarization_segments": []any{},
	}))
}

// spread gives texts consecutive timestamps over secs seconds, each a
// share proportional to its length.
func spread(texts []string, secs float64) []transcriptChunk {
	total := 0
	for _, t := range texts {
		total += len(t)
	}
	out := make([]transcriptChunk, len(texts))
	at := 0.0
	for i, t := range texts {
		end := at + secs*float64(len(t))/float64(max(total, 1))
		if i == len(texts)-1 {
			end = secs
		}
		out[i] = transcriptChunk{Timestamp: [2]float64{round2(at), round2(end)}, Text: t}
		at = end
	}
	return out
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// wavSeconds is the duration of a PCM WAV file, or of any other bytes at
// 32000 bytes a second.
func wavSeconds(b []byte) float64 {
	if len(b) >= 44 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WAVE" {
		if rate := binary.LittleEndian.Uint32(b[28:32]); rate > 0 {
			return float64(len(b)-44) / float64(rate)
		}
	}
	return math.Max(float64(len(b))/32000, 0.5)
}

// firstString is the first of the named input fields that holds a string.
func firstString(in node, names ...string) string {
	for _, n := range names {
		if s, ok := in[n].(string); ok {
			return s
		}
	}
	return ""
}

// fnvString hashes s (FNV-1a), for values derived from text.
func fnvString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := range len(s) {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
