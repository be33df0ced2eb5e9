package server

import (
	"fmt"
	"net/http"

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

// readEdit reads an edit in either of its formats, multipart/form-data
// (what the SDKs send) or application/json, both decoded by openai into
// one request.
func (s *Server) readEdit(w http.ResponseWriter, r *http.Request) (*editInput, *openai.Error) {
	req, e := readForm(s, w, r, "Image edits", openai.DecodeImageEditForm, openai.DecodeImageEdit, s.opt.MaxImageBytes)
	if e != nil {
		return nil, e
	}
	return s.editInput(req)
}

// editInput turns each image of a decoded edit into an editImage: files
// as they are, URLs checked (a data: URL decoded into a file).
func (s *Server) editInput(req *openai.ImageEditRequest) (*editInput, *openai.Error) {
	in := &editInput{req: req.ImageGenerationRequest, text: req.Text}
	for i, ref := range req.Images {
		img, e := s.refImage(ref, fmt.Sprintf("images[%d].image_url", i), fmt.Sprintf("image-%d", i+1))
		if e != nil {
			return nil, e
		}
		in.images = append(in.images, img)
	}
	if req.Mask != nil {
		img, e := s.refImage(*req.Mask, "mask.image_url", "mask")
		if e != nil {
			return nil, e
		}
		in.mask = &img
	}
	return in, nil
}

// refImage makes an editImage of one image reference: a file part, which
// the decoder has checked, or a URL, named in errors by urlParam.
func (s *Server) refImage(ref openai.ImageRef, urlParam, base string) (editImage, *openai.Error) {
	if ref.File != nil {
		return fileImage(*ref.File), nil
	}
	return urlImage(urlParam, base, ref.ImageURL, s.opt.MaxImageBytes)
}
