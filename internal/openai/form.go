package openai

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"reflect"
	"strconv"
	"strings"
)

// FormLimits cap what a multipart body may hold.
type FormLimits struct {
	// MaxBodyBytes is the cap on the whole body, enforced by the caller's
	// reader (http.MaxBytesReader); it is named in the 413 when hit.
	MaxBodyBytes int64
	// MaxFileBytes caps each file part.
	MaxFileBytes int64
}

// maxFormField caps a multipart field that is not a file: a prompt of
// 32000 characters fits many times over.
const maxFormField = 1 << 20

// partReader reads a multipart body part by part, holding nothing but
// what each part's reader keeps: the edit, transcription and video forms
// share its caps, its duplicate check and the words of its errors.
type partReader struct {
	lim  FormLimits
	seen map[string]bool
}

func newPartReader(lim FormLimits) partReader {
	return partReader{lim: lim, seen: map[string]bool{}}
}

// eachPart calls add for every part of mr, in order, closing each.
func (p *partReader) eachPart(mr *multipart.Reader, add func(*multipart.Part) *Error) *Error {
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return p.bodyError(err)
		}
		e := add(part)
		part.Close()
		if e != nil {
			return e
		}
	}
}

// field is the form field name of a part, which must be given and, unless
// repeats (which may be nil) allows the name again, come once.
func (p *partReader) field(part *multipart.Part, repeats func(string) bool) (string, *Error) {
	name := part.FormName()
	switch {
	case name == "":
		return "", InvalidRequest("", "invalid_multipart", "A multipart part has no form field name.")
	case repeats != nil && repeats(name):
		return name, nil
	case p.seen[name]:
		return "", InvalidRequest(Echo(name), "duplicate_parameter", "The field '%s' is given more than once.", Echo(name))
	}
	p.seen[name] = true
	return name, nil
}

// text reads a text field, capped at maxFormField.
func (p *partReader) text(part io.Reader, name string) (string, *Error) {
	b, err := io.ReadAll(io.LimitReader(part, maxFormField+1))
	if err != nil {
		return "", p.bodyError(err)
	}
	if len(b) > maxFormField {
		return "", InvalidRequest(Echo(name), "invalid_value", "The field '%s' is longer than %d bytes.", Echo(name), maxFormField)
	}
	return string(b), nil
}

// file reads a file part whole, capped at max bytes (413 beyond).
func (p *partReader) file(part io.Reader, param string, max int64) ([]byte, *Error) {
	data, err := io.ReadAll(io.LimitReader(part, max+1))
	if err != nil {
		return nil, p.bodyError(err)
	}
	if int64(len(data)) > max {
		return nil, FileTooLarge(param, max)
	}
	return data, nil
}

// image reads an image file part, capped at MaxFileBytes and checked by
// its bytes, as a File named base.
func (p *partReader) image(part io.Reader, param, base string) (File, *Error) {
	data, e := p.file(part, param, p.lim.MaxFileBytes)
	if e != nil {
		return File{}, e
	}
	return ImageFile(param, base, data)
}

// bodyError reports a failure to read the multipart body: over the body
// limit (413), or malformed (400).
func (p *partReader) bodyError(err error) *Error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return BodyTooLarge(p.lim.MaxBodyBytes)
	}
	return InvalidRequest("", "invalid_multipart", "The multipart body is malformed: its parts do not follow the multipart/form-data format.")
}

// DecodeImageEditForm reads the multipart variant of an edit (what the
// SDKs send) part by part, holding nothing but the files' bytes: no
// temporary files, each file capped and its type checked as it is read.
// Parts may come in any order (the Go SDK sends the files before the
// prompt). The images may be named image, image[] (what both SDKs send
// for a list) or image[<n>], and repeated; each comes out as an ImageRef
// holding a File. The generation fields are the ones DecodeImageEdit reads
// from JSON; the fields falproxy does not know are kept as text in Text.
func DecodeImageEditForm(mr *multipart.Reader, lim FormLimits) (*ImageEditRequest, *Error) {
	f := &editForm{partReader: newPartReader(lim), req: &ImageEditRequest{Text: map[string]string{}}}
	if e := f.eachPart(mr, f.add); e != nil {
		return nil, e
	}
	return f.req, nil
}

// editForm is a multipart edit being read.
type editForm struct {
	partReader
	req *ImageEditRequest
}

// add adds one part to the request.
func (f *editForm) add(part *multipart.Part) *Error {
	name, e := f.field(part, isImageField)
	if e != nil {
		return e
	}
	if isImageField(name) {
		if len(f.req.Images) == MaxEditImages {
			return InvalidRequest("image", "invalid_value", "Too many images: at most %d are allowed.", MaxEditImages)
		}
		file, e := f.image(part, "image", fmt.Sprintf("image-%d", len(f.req.Images)+1))
		if e != nil {
			return e
		}
		f.req.Images = append(f.req.Images, ImageRef{File: &file})
		return nil
	}
	switch {
	case name == "mask":
		file, e := f.image(part, "mask", "mask")
		if e != nil {
			return e
		}
		f.req.Mask = &ImageRef{File: &file}
		return nil
	case part.FileName() != "":
		return InvalidRequest(Echo(name), "unsupported_parameter", "The file field '%s' is not supported; send the images as 'image' and the mask as 'mask'.", Echo(name))
	}
	v, e := f.text(part, name)
	if e != nil {
		return e
	}
	return f.setText(name, v)
}

// setText stores a text field: a generation field is parsed into the
// request (n, seed and output_compression must be integers, stream a
// boolean); the rest wait in Text for the model's schema.
func (f *editForm) setText(name, v string) *Error {
	if name == "partial_images" {
		return nil // only meaningful with stream, which edits refuse
	}
	for _, s := range generationFields(&f.req.ImageGenerationRequest) {
		if s.name == name {
			if !setFromText(s.dst, v) {
				return InvalidRequest(name, "invalid_type", "Invalid type for '%s': expected %s, got %q.", name, s.want, Echo(v))
			}
			return nil
		}
	}
	f.req.Text[name] = v
	return nil
}

// setFromText stores the text of a form field in dst, a pointer to a
// string, a bool, or a pointer to an integer; false when v is not of that
// type.
func setFromText(dst any, v string) bool {
	if p, ok := dst.(*string); ok {
		*p = v
		return true
	}
	t := strings.TrimSpace(v)
	switch p := dst.(type) {
	case *bool:
		b, err := strconv.ParseBool(t)
		*p = b
		return err == nil
	case **int:
		n, err := strconv.Atoi(t)
		*p = &n
		return err == nil
	case **int64:
		n, err := strconv.ParseInt(t, 10, 64)
		*p = &n
		return err == nil
	}
	panic("openai: no text form for " + reflect.TypeOf(dst).String())
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
