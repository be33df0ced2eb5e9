package server

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/falproxy/falproxy/internal/pricing"
)

// workload is what a request asks of fal: its measures, read from its
// body before it runs, and the alias and fal endpoint the handler
// resolved (see admitModel).
type workload struct {
	alias    string
	endpoint string
	measures pricing.Measures
	// unmeasured: the units are known only after the job (a recording's
	// length), so no estimate is made.
	unmeasured bool
	// settle says what in the answer settles the cost.
	settle settleBy
}

// settleBy names what of an answer settles a request's cost.
type settleBy int

const (
	settleAsEstimated settleBy = iota
	settleByTokens             // the tokens of chat, responses and embeddings (reportUsage)
	settleByDuration           // the seconds a transcription covers (reportHeard)
)

// requestFields are the body fields that size a request, on any route.
type requestFields struct {
	N                   json.RawMessage `json:"n"`
	Size                string          `json:"size"`
	Seconds             json.RawMessage `json:"seconds"`
	Input               json.RawMessage `json:"input"`
	MaxTokens           json.RawMessage `json:"max_tokens"`
	MaxCompletionTokens json.RawMessage `json:"max_completion_tokens"`
	MaxOutputTokens     json.RawMessage `json:"max_output_tokens"`
}

// Defaults of the measures a request leaves out.
const (
	defaultImageSize    = "1024x1024"
	defaultVideoSeconds = 4
	// defaultOutputTokens is reserved for a chat without max_tokens,
	// until the answer's usage settles it.
	defaultOutputTokens = 1024
	// bytesPerToken turns a body's size into an input token estimate.
	bytesPerToken = 4
)

// workloadOf reads a buffered request's measures.
func (s *Server) workloadOf(r *http.Request) workload {
	body, _ := r.Body.(*bufferedBody)
	if body == nil {
		return workload{}
	}
	f := readFields(r.Header.Get("Content-Type"), body.bytes)
	var w workload
	switch r.Pattern {
	case "POST /v1/images/generations", "POST /v1/images/edits":
		n := max(number(f.N, 1), 1)
		w.measures.Images = n
		w.measures.Megapixels = float64(n) * megapixels(f.Size)
	case "POST /v1/chat/completions", "POST /v1/responses":
		out := number(f.MaxTokens, number(f.MaxCompletionTokens, number(f.MaxOutputTokens, defaultOutputTokens)))
		w.measures.Tokens = len(body.bytes)/bytesPerToken + out
		w.measures.OutputTokens = out
		w.settle = settleByTokens
	case "POST /v1/embeddings":
		w.measures.Tokens = len(body.bytes) / bytesPerToken
		w.settle = settleByTokens
	case "POST /v1/videos":
		w.measures.Seconds = float64(number(f.Seconds, defaultVideoSeconds))
	case "POST /v1/videos/{id}/remix":
		// The length is the source video's, known once the handler has
		// opened its id (remeasure); else a remix is recorded unpriced.
		w.unmeasured = true
	case "POST /v1/audio/speech":
		var text string
		_ = json.Unmarshal(f.Input, &text)
		w.measures.Characters = utf8.RuneCountInString(text)
	case "POST /v1/audio/transcriptions", "POST /v1/audio/translations":
		w.unmeasured, w.settle = true, settleByDuration
	}
	return w
}

// readFields reads the sizing fields of a JSON or multipart body; a body
// it cannot read gives zero fields, and the handler explains the fault.
func readFields(contentType string, body []byte) requestFields {
	var f requestFields
	mt, params, _ := mime.ParseMediaType(contentType)
	if mt != "multipart/form-data" {
		_ = json.Unmarshal(body, &f)
		return f
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			return f
		}
		if p.FileName() != "" {
			continue
		}
		v, _ := io.ReadAll(io.LimitReader(p, 4096))
		quoted, _ := json.Marshal(string(v))
		switch p.FormName() {
		case "n":
			f.N = quoted
		case "size":
			f.Size = string(v)
		case "seconds":
			f.Seconds = quoted
		}
	}
}

// number reads a JSON number or a numeric string, else def.
func number(raw json.RawMessage, def int) int {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		return n
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 {
		return int(f + 0.5)
	}
	return def
}

// megapixels of one image of a "WxH" size; other sizes (auto, presets)
// count as 1024x1024.
func megapixels(size string) float64 {
	wStr, hStr, ok := strings.Cut(size, "x")
	w, errW := strconv.Atoi(wStr)
	h, errH := strconv.Atoi(hStr)
	if !ok || errW != nil || errH != nil || w <= 0 || h <= 0 {
		return megapixels(defaultImageSize)
	}
	return float64(w) * float64(h) / 1e6
}

// falWork is what fal completed for a request, as its handler saw it. fal
// bills a job once it completed, whatever falproxy answers afterwards (a
// failed download, a client gone), and nothing for a job that failed or
// was cancelled before it completed: this, not the client's status,
// settles a request's cost.
type falWork struct {
	jobs    int     // completed jobs
	images  int     // images in their outputs, also those the answer drops
	tokens  int     // tokens of the answer; 0: not reported
	seconds float64 // seconds of audio transcribed; 0: not reported

	// outputTokens are those of tokens the model wrote.
	outputTokens int
	// costMicros is what fal's answer says the tokens cost (OpenRouter's
	// usage.cost, USD); 0: not reported.
	costMicros int64
}
