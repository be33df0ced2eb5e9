package video

import "github.com/falproxy/falproxy/internal/openai"

// FromForm maps a multipart video request, as openai.DecodeVideoForm read
// it: the fields falproxy maps itself, and the rest as text until the
// model's schema types them.
func FromForm(form *openai.VideoForm) (*Request, *openai.Error) {
	req := &Request{Image: form.Image, Text: map[string]string{}}
	for name, v := range form.Text {
		switch name {
		case "prompt":
			req.Prompt = v
		case "model":
			req.Model = v
		case "seconds":
			req.Seconds = v
		case "size":
			req.Size = v
		default:
			req.Text[name] = v
		}
	}
	return req, req.check()
}
