package video

import (
	"encoding/json"

	"github.com/falproxy/falproxy/internal/openai"
)

// Request is POST /v1/videos as read from JSON or multipart.
type Request struct {
	Prompt  string
	Model   string
	Seconds string // "4", "8", ...; "" leaves the model's default
	Size    string // "1280x720", ...; "" leaves the model's default
	// Image is input_reference: a file part, or in JSON an image_url.
	Image *openai.ImageRef
	// Extra holds the JSON fields falproxy does not map itself; Text the
	// multipart ones, as text until the model's schema types them.
	Extra map[string]json.RawMessage
	Text  map[string]string
}

// mapped are the request fields falproxy maps itself; the rest are extras.
var mapped = map[string]bool{"prompt": true, "model": true, "seconds": true, "size": true, "input_reference": true}

// DecodeJSON reads the JSON form of a video request.
func DecodeJSON(body []byte) (*Request, *openai.Error) {
	fields, e := openai.DecodeObject(body)
	if e != nil {
		return nil, e
	}
	req := &Request{Extra: map[string]json.RawMessage{}}
	for name, dst := range map[string]*string{"prompt": &req.Prompt, "model": &req.Model, "seconds": &req.Seconds, "size": &req.Size} {
		raw, ok := fields[name]
		if !ok || string(raw) == "null" {
			continue
		}
		if json.Unmarshal(raw, dst) != nil {
			return nil, openai.InvalidRequest(name, "invalid_type", "Invalid type for '%s': expected a string.", name)
		}
	}
	if raw, ok := fields["input_reference"]; ok && string(raw) != "null" {
		var ref openai.ImageRef
		if json.Unmarshal(raw, &ref) != nil || ref.ImageURL == "" {
			return nil, openai.InvalidRequest("input_reference", "invalid_value",
				"Invalid 'input_reference': expected an object with an image_url (an https or data: URL).")
		}
		req.Image = &ref
	}
	for name, raw := range fields {
		if !mapped[name] {
			req.Extra[name] = raw
		}
	}
	return req, req.check()
}

// check requires a prompt.
func (r *Request) check() *openai.Error {
	if r.Prompt == "" {
		return openai.InvalidRequest("prompt", "missing_required_parameter", "Missing required parameter: 'prompt'.")
	}
	return nil
}
