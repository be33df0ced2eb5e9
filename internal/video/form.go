package video

import (
	"errors"
	"io"
	"mime/multipart"
	"net/http"

	"github.com/falproxy/falproxy/internal/openai"
)

// maxFormField caps a text part: a long prompt fits many times over.
const maxFormField = 1 << 20

// DecodeForm reads the multipart form of a video request, what the SDKs
// send: input_reference is an image file part, checked by its bytes and
// capped at lim.MaxFileBytes; the other parts are text.
func DecodeForm(mr *multipart.Reader, lim openai.FormLimits) (*Request, *openai.Error) {
	req := &Request{Text: map[string]string{}}
	seen := map[string]bool{}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return req, req.check()
		}
		if err != nil {
			return nil, formError(err, lim)
		}
		e := req.addPart(part, seen, lim)
		part.Close()
		if e != nil {
			return nil, e
		}
	}
}

// addPart stores one part of the form.
func (r *Request) addPart(part *multipart.Part, seen map[string]bool, lim openai.FormLimits) *openai.Error {
	name := part.FormName()
	switch {
	case name == "":
		return openai.InvalidRequest("", "invalid_multipart", "A multipart part has no form field name.")
	case seen[name]:
		return openai.InvalidRequest(openai.Echo(name), "duplicate_parameter", "The field '%s' is given more than once.", openai.Echo(name))
	}
	seen[name] = true
	limit := int64(maxFormField)
	if name == "input_reference" {
		limit = lim.MaxFileBytes
	}
	b, err := io.ReadAll(io.LimitReader(part, limit+1))
	if err != nil {
		return formError(err, lim)
	}
	if int64(len(b)) > limit {
		if name == "input_reference" {
			return openai.FileTooLarge(name, limit)
		}
		return openai.InvalidRequest(openai.Echo(name), "invalid_value", "The field '%s' is longer than %d bytes.", openai.Echo(name), limit)
	}
	switch name {
	case "input_reference":
		f, e := openai.ImageFile(name, "input-reference", b)
		if e != nil {
			return e
		}
		r.Image = &openai.ImageRef{File: &f}
	case "prompt":
		r.Prompt = string(b)
	case "model":
		r.Model = string(b)
	case "seconds":
		r.Seconds = string(b)
	case "size":
		r.Size = string(b)
	default:
		r.Text[name] = string(b)
	}
	return nil
}

// formError reports a body that could not be read: over the body limit
// (413) or malformed (400).
func formError(err error, lim openai.FormLimits) *openai.Error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return openai.BodyTooLarge(lim.MaxBodyBytes)
	}
	return openai.InvalidRequest("", "invalid_multipart", "The multipart body is malformed: its parts do not follow the multipart/form-data format.")
}
