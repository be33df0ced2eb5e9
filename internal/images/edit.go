package images

import (
	"slices"
	"strings"

	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/openai"
)

// EditRequest is an image edit: the generation fields plus the input
// images and mask, already available as URLs (https or data:).
type EditRequest struct {
	openai.ImageGenerationRequest
	ImageURLs []string
	MaskURL   string
}

// PlanEdit plans POST /v1/images/edits. The images go to the model's image
// field (image_url takes exactly one, image_urls up to its declared
// maximum) and the mask to its mask field; everything else is mapped as by
// PlanGeneration. A model without an image field cannot edit (400 on
// "model"); a mask the model cannot take, or a missing one it requires, is a
// 400 on "mask".
func PlanEdit(req *EditRequest, caps *falschema.Capabilities, opt Options) (*Plan, *openai.Error) {
	in := caps.ImageInput
	if in == nil {
		return nil, openai.InvalidRequest("model", "model_not_supported",
			"This model does not edit images: its input has no image field.")
	}
	if len(req.ImageURLs) == 0 || slices.Contains(req.ImageURLs, "") {
		return nil, openai.InvalidRequest("image", "missing_required_parameter", "Missing required parameter: 'image'.")
	}
	switch n := len(req.ImageURLs); {
	case !in.Multiple && n > 1:
		return nil, openai.InvalidRequest("image", "invalid_value",
			"This model takes one input image; %d were given.", n)
	case in.MaxImages > 0 && n > in.MaxImages:
		return nil, openai.InvalidRequest("image", "invalid_value",
			"This model takes at most %d input images; %d were given.", in.MaxImages, n)
	}
	switch {
	case req.MaskURL != "" && in.MaskField == "":
		return nil, openai.InvalidRequest("mask", "invalid_value", "This model does not take a mask.")
	case req.MaskURL == "" && in.MaskRequired:
		return nil, openai.InvalidRequest("mask", "missing_required_parameter", "This model needs a mask: 'mask' is required.")
	}
	attach := func(b *builder) []string {
		if in.Multiple {
			b.set(in.Field, slices.Clone(req.ImageURLs))
		} else {
			b.set(in.Field, req.ImageURLs[0])
		}
		if req.MaskURL != "" {
			b.set(in.MaskField, req.MaskURL)
		}
		return []string{in.Field, in.MaskField}
	}
	return plan(&req.ImageGenerationRequest, caps, opt, attach)
}

// CanGenerate reports whether the model can make an image from a prompt
// alone. It cannot when its schema requires an input image or mask (an
// edit-only model), which the server answers with a clear 400 rather than
// fal's 422.
func CanGenerate(caps *falschema.Capabilities) bool {
	if in := caps.ImageInput; in != nil && (in.Required || in.MaskRequired) {
		return false
	}
	for _, r := range caps.Required {
		if strings.HasSuffix(r, "image_url") || strings.HasSuffix(r, "image_urls") {
			return false
		}
	}
	return true
}
