package server

import (
	"mime"
	"mime/multipart"
	"net/http"

	"github.com/falproxy/falproxy/internal/openai"
)

// readForm reads a request that carries files: multipart/form-data, as the
// OpenAI SDKs send it, decoded by decodeMultipart within MAX_BODY_BYTES;
// or, when decodeJSON is not nil, application/json. what names the
// requests in the error for another body type ("Image edits").
func readForm[T any](s *Server, w http.ResponseWriter, r *http.Request, what string,
	decodeMultipart func(*multipart.Reader, openai.FormLimits) (T, *openai.Error),
	decodeJSON func([]byte) (T, *openai.Error), maxFileBytes int64) (T, *openai.Error) {
	var none T
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case mt == "multipart/form-data":
		mr, err := r.MultipartReader() // the body is buffered, within MaxBodyBytes
		if err != nil {
			return none, openai.InvalidRequest("", "invalid_multipart", "The multipart body cannot be read: the Content-Type needs a boundary.")
		}
		return decodeMultipart(mr, openai.FormLimits{MaxBodyBytes: s.opt.MaxBodyBytes, MaxFileBytes: maxFileBytes})
	case mt == "application/json" && decodeJSON != nil:
		body, e := s.readBody(w, r)
		if e != nil {
			return none, e
		}
		return decodeJSON(body)
	}
	formats := "a multipart/form-data body (as the OpenAI SDKs send)"
	if decodeJSON != nil {
		formats += " or application/json"
	}
	return none, openai.InvalidRequest("", "unsupported_content_type", "%s take %s; got %q.", what, formats, openai.Echo(r.Header.Get("Content-Type")))
}
