package server

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/falproxy/falproxy/internal/openai"
)

// editInput is an edit request as read from either body format, before a
// model is chosen.
type editInput struct {
	req    openai.ImageGenerationRequest
	images []editImage
	mask   *editImage
	// text holds the multipart fields falproxy does not know. They arrive
	// as strings and are typed from the model's schema once it is known
	// (see typedExtras); a JSON edit has them in req.Extra instead.
	text map[string]string
}

// all returns the images followed by the mask, if any.
func (in *editInput) all() []editImage {
	if in.mask == nil {
		return in.images
	}
	return append(in.images[:len(in.images):len(in.images)], *in.mask)
}

// maxFormField caps a multipart field that is not a file: a prompt of
// 32000 characters fits many times over.
const maxFormField = 1 << 20

// readEdit reads an edit in either of its formats: multipart/form-data (what
// the SDKs send) or application/json.
func (s *Server) readEdit(w http.ResponseWriter, r *http.Request) (*editInput, *openai.Error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "multipart/form-data":
		r.Body = http.MaxBytesReader(w, r.Body, s.opt.MaxBodyBytes)
		return s.readEditForm(r)
	case "application/json":
		return s.readEditJSON(w, r)
	}
	return nil, openai.InvalidRequest("", "unsupported_content_type",
		"Image edits take a multipart/form-data body (as the OpenAI SDKs send) or application/json; got %q.", openai.Echo(r.Header.Get("Content-Type")))
}

// readEditJSON reads the JSON variant: images and mask as image_url
// references.
func (s *Server) readEditJSON(w http.ResponseWriter, r *http.Request) (*editInput, *openai.Error) {
	body, e := s.readBody(w, r)
	if e != nil {
		return nil, e
	}
	req, e := openai.DecodeImageEdit(body)
	if e != nil {
		return nil, e
	}
	in := &editInput{req: req.ImageGenerationRequest}
	for i, ref := range req.Images {
		img, e := urlImage(fmt.Sprintf("images[%d].image_url", i), fmt.Sprintf("image-%d", i+1), ref.ImageURL, s.opt.MaxImageBytes)
		if e != nil {
			return nil, e
		}
		in.images = append(in.images, img)
	}
	if req.Mask != nil {
		img, e := urlImage("mask.image_url", "mask", req.Mask.ImageURL, s.opt.MaxImageBytes)
		if e != nil {
			return nil, e
		}
		in.mask = &img
	}
	return in, nil
}

// readEditForm reads a multipart edit part by part, holding nothing but
// the files' bytes: no temporary files, each file capped as it is read.
// Parts may come in any order (the Go SDK sends the files before the
// prompt). The images may be named image, image[] (what both SDKs send for
// a list) or image[<n>], and repeated.
func (s *Server) readEditForm(r *http.Request) (*editInput, *openai.Error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, openai.InvalidRequest("", "invalid_multipart", "The multipart body cannot be read: the Content-Type needs a boundary.")
	}
	in := &editInput{text: map[string]string{}}
	seen := map[string]bool{}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return in, nil
		}
		if err != nil {
			return nil, s.bodyError(err)
		}
		e := s.addPart(in, part, seen)
		part.Close()
		if e != nil {
			return nil, e
		}
	}
}

// addPart adds one multipart part to the edit.
func (s *Server) addPart(in *editInput, part *multipart.Part, seen map[string]bool) *openai.Error {
	name := part.FormName()
	switch {
	case name == "":
		return openai.InvalidRequest("", "invalid_multipart", "A multipart part has no form field name.")
	case isImageField(name):
		if len(in.images) == openai.MaxEditImages {
			return openai.InvalidRequest("image", "invalid_value", "Too many images: at most %d are allowed.", openai.MaxEditImages)
		}
		data, e := s.readFile(part, "image")
		if e != nil {
			return e
		}
		img, e := fileImage("image", fmt.Sprintf("image-%d", len(in.images)+1), data)
		if e != nil {
			return e
		}
		in.images = append(in.images, img)
		return nil
	}
	if seen[name] {
		return openai.InvalidRequest(openai.Echo(name), "duplicate_parameter", "The field '%s' is given more than once.", openai.Echo(name))
	}
	seen[name] = true
	switch {
	case name == "mask":
		data, e := s.readFile(part, "mask")
		if e != nil {
			return e
		}
		img, e := fileImage("mask", "mask", data)
		if e != nil {
			return e
		}
		in.mask = &img
		return nil
	case part.FileName() != "":
		return openai.InvalidRequest(openai.Echo(name), "unsupported_parameter", "The file field '%s' is not supported; send the images as 'image' and the mask as 'mask'.", openai.Echo(name))
	}
	b, err := io.ReadAll(io.LimitReader(part, maxFormField+1))
	if err != nil {
		return s.bodyError(err)
	}
	if len(b) > maxFormField {
		return openai.InvalidRequest(openai.Echo(name), "invalid_value", "The field '%s' is longer than %d bytes.", openai.Echo(name), maxFormField)
	}
	return setFormField(in, name, string(b))
}

// isImageField reports the names a client may give input images.
func isImageField(name string) bool {
	if name == "image" || name == "image[]" {
		return true
	}
	inner, ok := strings.CutPrefix(name, "image[")
	if !ok {
		return false
	}
	if inner, ok = strings.CutSuffix(inner, "]"); !ok {
		return false
	}
	_, err := strconv.ParseUint(inner, 10, 16)
	return err == nil
}

// readFile reads one file part, capped at MaxImageBytes.
func (s *Server) readFile(part io.Reader, param string) ([]byte, *openai.Error) {
	data, err := io.ReadAll(io.LimitReader(part, s.opt.MaxImageBytes+1))
	if err != nil {
		return nil, s.bodyError(err)
	}
	if int64(len(data)) > s.opt.MaxImageBytes {
		return nil, fileTooLarge(param, s.opt.MaxImageBytes)
	}
	return data, nil
}

// bodyError reports a failure to read the multipart body: over the body
// limit (413), or malformed (400).
func (s *Server) bodyError(err error) *openai.Error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return s.bodyTooLarge()
	}
	return openai.InvalidRequest("", "invalid_multipart", "The multipart body is malformed: its parts do not follow the multipart/form-data format.")
}

// setFormField stores a text field. Fields OpenAI defines are parsed into
// the request (n, seed and output_compression must be integers); the rest
// wait in in.text for the model's schema.
func setFormField(in *editInput, name, v string) *openai.Error {
	req := &in.req
	strs := map[string]*string{
		"prompt": &req.Prompt, "model": &req.Model, "size": &req.Size, "quality": &req.Quality,
		"style": &req.Style, "response_format": &req.ResponseFormat, "output_format": &req.OutputFormat,
		"background": &req.Background, "moderation": &req.Moderation, "user": &req.User,
	}
	if p, ok := strs[name]; ok {
		*p = v
		return nil
	}
	switch name {
	case "n", "output_compression":
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return notInteger(name, v)
		}
		if name == "n" {
			req.N = &n
		} else {
			req.OutputCompression = &n
		}
	case "seed":
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return notInteger(name, v)
		}
		req.Seed = &n
	case "stream":
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return openai.InvalidRequest(name, "invalid_type", "Invalid type for 'stream': expected a boolean, got %q.", openai.Echo(v))
		}
		req.Stream = b
	case "partial_images":
		// Only meaningful with stream, which is refused.
	default:
		in.text[name] = v
	}
	return nil
}

func notInteger(name, v string) *openai.Error {
	return openai.InvalidRequest(name, "invalid_type", "Invalid type for '%s': expected an integer, got %q.", name, openai.Echo(v))
}
