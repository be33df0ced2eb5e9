package images

import (
	"maps"
	"slices"
	"strings"

	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/openai"
)

// PreparedEdit is an edit checked against its model and planned in full
// except for the URLs of its images, which exist only once the images are
// uploaded. Every check runs in PrepareEdit, before any upload; Build
// cannot fail, so a request is validated exactly once.
type PreparedEdit struct {
	plan   Plan
	caps   *falschema.Capabilities
	images int
	mask   bool
}

// PrepareEdit checks and plans an edit of images input images, with a mask
// when mask is set. The images go to the model's image field (image_url
// takes exactly one, image_urls up to its declared maximum) and the mask
// to its mask field; everything else is mapped as by PlanGeneration. A
// model without an image field cannot edit (400 on "model"); a mask the
// model cannot take, or a missing one it requires, is a 400 on "mask".
func PrepareEdit(req *openai.ImageGenerationRequest, images int, mask bool, caps *falschema.Capabilities, opt Options) (*PreparedEdit, *openai.Error) {
	in := caps.ImageInput
	if in == nil {
		return nil, openai.InvalidRequest("model", "model_not_supported",
			"This model does not edit images: its input has no image field.")
	}
	switch {
	case images == 0:
		return nil, openai.InvalidRequest("image", "missing_required_parameter", "Missing required parameter: 'image'.")
	case !in.Multiple && images > 1:
		return nil, openai.InvalidRequest("image", "invalid_value",
			"This model takes one input image; %d were given.", images)
	case in.MaxImages > 0 && images > in.MaxImages:
		return nil, openai.InvalidRequest("image", "invalid_value",
			"This model takes at most %d input images; %d were given.", in.MaxImages, images)
	}
	switch {
	case mask && in.MaskField == "":
		return nil, openai.InvalidRequest("mask", "invalid_value", "This model does not take a mask.")
	case !mask && in.MaskRequired:
		return nil, openai.InvalidRequest("mask", "missing_required_parameter", "This model needs a mask: 'mask' is required.")
	}
	// The image and mask fields are reserved here, so that client extras
	// cannot fill them, and set by Build.
	p, e := plan(req, caps, opt, []string{in.Field, in.MaskField})
	if e != nil {
		return nil, e
	}
	return &PreparedEdit{plan: *p, caps: caps, images: images, mask: mask}, nil
}

// Build completes the plan with the URLs fal reads the images from: the
// images in order, then the mask when the edit has one, as many as
// PrepareEdit was told. The PreparedEdit is left unchanged.
func (p *PreparedEdit) Build(urls []string) *Plan {
	out := p.plan
	in := p.caps.ImageInput
	out.params = map[string]string{in.Field: "image"}
	if p.mask {
		out.params[in.MaskField] = "mask"
	}
	out.Inputs = make([]map[string]any, len(p.plan.Inputs))
	for i, job := range p.plan.Inputs {
		b := &builder{caps: p.caps, in: maps.Clone(job)}
		if in.Multiple {
			b.set(in.Field, slices.Clone(urls[:p.images]))
		} else {
			b.set(in.Field, urls[0])
		}
		if p.mask {
			b.set(in.MaskField, urls[p.images])
		}
		out.Inputs[i] = b.in
	}
	return &out
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
