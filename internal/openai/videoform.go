package openai

import "mime/multipart"

// VideoForm is the multipart form of a video request, read but not yet
// mapped: the video package turns it into its request.
type VideoForm struct {
	Text  map[string]string // the text fields by name
	Image *ImageRef         // input_reference, a File
}

// DecodeVideoForm reads the multipart form of POST /v1/videos, what the
// SDKs send, part by part as DecodeImageEditForm: input_reference is an
// image file, capped at lim.MaxFileBytes and checked by its bytes; any
// other file part is refused, as an edit refuses one; every field comes
// once.
func DecodeVideoForm(mr *multipart.Reader, lim FormLimits) (*VideoForm, *Error) {
	f := &videoForm{partReader: newPartReader(lim), out: &VideoForm{Text: map[string]string{}}}
	if e := f.eachPart(mr, f.add); e != nil {
		return nil, e
	}
	return f.out, nil
}

// videoForm is a multipart video request being read.
type videoForm struct {
	partReader
	out *VideoForm
}

func (f *videoForm) add(part *multipart.Part) *Error {
	name, e := f.field(part, nil)
	switch {
	case e != nil:
		return e
	case name == "input_reference":
		file, e := f.image(part, name, "input-reference")
		f.out.Image = &ImageRef{File: &file}
		return e
	case part.FileName() != "":
		return InvalidRequest(Echo(name), "unsupported_parameter", "The file field '%s' is not supported; send the image as 'input_reference'.", Echo(name))
	}
	v, e := f.text(part, name)
	f.out.Text[name] = v
	return e
}
