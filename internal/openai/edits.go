package openai

import (
	"fmt"
)

// MaxEditImages is OpenAI's limit on the input images of one edit.
const MaxEditImages = 16

// ImageRef is one image of an edit request. In JSON it is a URL (https,
// http or a data: URI) or the id of a file uploaded to OpenAI; in a
// multipart body it is a File.
type ImageRef struct {
	ImageURL string `json:"image_url,omitempty"`
	FileID   string `json:"file_id,omitempty"`
	File     *File  `json:"-"`
}

// ImageEditRequest is POST /v1/images/edits in either of its formats
// (DecodeImageEdit, DecodeImageEditForm): the generation fields plus the
// input images and an optional mask.
type ImageEditRequest struct {
	ImageGenerationRequest
	Images []ImageRef
	Mask   *ImageRef
	// Text holds the multipart fields falproxy does not know. They arrive
	// as strings and are typed from the model's schema once it is known; a
	// JSON edit has them in Extra instead.
	Text map[string]string
}

// DecodeImageEdit parses the JSON variant of an edit. images must hold 1
// to MaxEditImages references and each reference, like the mask, must name
// an image_url: file ids point into OpenAI's file store, which falproxy
// does not have. The URLs themselves are checked by the caller. Every other
// field is decoded as for a generation, unknown ones kept in Extra.
func DecodeImageEdit(body []byte) (*ImageEditRequest, *Error) {
	fields, e := DecodeObject(body)
	if e != nil {
		return nil, e
	}
	var images []ImageRef
	if e := field(fields, "images", &images, "an array of objects"); e != nil {
		return nil, e
	}
	var mask *ImageRef
	if e := field(fields, "mask", &mask, "an object"); e != nil {
		return nil, e
	}
	delete(fields, "images")
	delete(fields, "mask")
	switch n := len(images); {
	case n == 0:
		return nil, InvalidRequest("images", "missing_required_parameter", "Missing required parameter: 'images' (1 to %d image references).", MaxEditImages)
	case n > MaxEditImages:
		return nil, InvalidRequest("images", "invalid_value", "Invalid 'images': %d references; at most %d are allowed.", n, MaxEditImages)
	}
	for i, ref := range images {
		if e := checkRef(fmt.Sprintf("images[%d]", i), ref); e != nil {
			return nil, e
		}
	}
	if mask != nil {
		if e := checkRef("mask", *mask); e != nil {
			return nil, e
		}
	}
	gen, e := decodeGeneration(fields)
	if e != nil {
		return nil, e
	}
	return &ImageEditRequest{ImageGenerationRequest: *gen, Images: images, Mask: mask}, nil
}

// checkRef requires an image_url and refuses file ids.
func checkRef(param string, ref ImageRef) *Error {
	switch {
	case ref.FileID != "":
		return InvalidRequest(param+".file_id", "unsupported_parameter",
			"File ids are not supported here: falproxy has no OpenAI file store. Send the image as image_url (an https or data: URL).")
	case ref.ImageURL == "":
		return InvalidRequest(param+".image_url", "missing_required_parameter", "Missing required parameter: '%s.image_url'.", param)
	}
	return nil
}
