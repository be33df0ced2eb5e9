package server

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/falproxy/falproxy/internal/openai"
)

// writeJSON sends v with the given status. Every JSON answer carries
// Content-Type: application/json: the Go SDK refuses other types and the
// Node SDK hands back a string.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(openai.ServerError("encoding the response failed"))
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// fixedAnswer is a 200 JSON answer encoded ahead of time, with its header
// values ready to share: net/http only reads them, and Header.Add copies
// before it appends, so no request's changes reach another.
type fixedAnswer struct {
	body          []byte
	contentLength []string
}

// jsonContentType is the Content-Type value of every JSON answer, shared
// as fixedAnswer's values are.
var jsonContentType = []string{"application/json"}

// newFixedAnswer encodes v; it must be a value that encodes.
func newFixedAnswer(v any) fixedAnswer {
	b, err := json.Marshal(v)
	if err != nil {
		panic("encoding a fixed answer: " + err.Error())
	}
	return fixedAnswer{body: b, contentLength: []string{strconv.Itoa(len(b))}}
}

// writeFixedJSON sends a as writeJSON sends a value, without encoding it
// or allocating a header value.
func writeFixedJSON(w http.ResponseWriter, a *fixedAnswer) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = a.contentLength
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(a.body)
}

// maxRetryAfter caps the Retry-After sent to clients. The SDKs sleep for
// whatever the server says before each retry, so a fal key resting for half
// an hour would hang a client for as long; past a minute, a client is
// better told to come back than kept waiting.
const maxRetryAfter = 60 * time.Second

// writeError sends an OpenAI-shaped error with the retry hints the SDKs
// read: x-should-retry and retry-after(-ms), the latter at most
// maxRetryAfter.
func writeError(w http.ResponseWriter, e *openai.Error) {
	h := w.Header()
	if e.NoRetry {
		h.Set("X-Should-Retry", "false")
	}
	if e.RetryAfter > 0 {
		wait := min(e.RetryAfter, maxRetryAfter)
		secs := int((wait + time.Second - 1) / time.Second)
		h.Set("Retry-After", strconv.Itoa(max(secs, 1)))
		h.Set("Retry-After-Ms", strconv.FormatInt(wait.Milliseconds(), 10))
	}
	writeJSON(w, e.Status, e)
}

// readBody reads a JSON request body up to MaxBodyBytes; beyond it the
// answer is a 413 in OpenAI's shape. A body bufferBody already holds is
// returned as it is.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *openai.Error) {
	if b, ok := r.Body.(*bufferedBody); ok {
		return b.bytes, nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opt.MaxBodyBytes))
	if err != nil {
		return nil, s.bodyReadError(err)
	}
	return b, nil
}

// decodeBody reads the request body and decodes it with decode. On
// failure it has answered the client and reports false.
func decodeBody[T any](s *Server, w http.ResponseWriter, r *http.Request, decode func([]byte) (T, *openai.Error)) (T, bool) {
	var zero T
	body, e := s.readBody(w, r)
	if e == nil {
		var req T
		if req, e = decode(body); e == nil {
			return req, true
		}
	}
	writeError(w, e)
	return zero, false
}

// bodyTooLarge is the 413 for a body over MaxBodyBytes.
func (s *Server) bodyTooLarge() *openai.Error {
	return openai.BodyTooLarge(s.opt.MaxBodyBytes)
}
