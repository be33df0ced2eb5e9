package images

import (
	"maps"
	"slices"
	"strings"

	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/openai"
)

// DefaultMaxN is OpenAI's own limit on n.
const DefaultMaxN = 10

// Options are the operator's settings for every plan.
type Options struct {
	// SafetyChecker is sent as enable_safety_checker wherever the model
	// has that field (SAFETY_CHECKER). Clients cannot override it.
	SafetyChecker bool
	// MaxN is the largest n accepted (default DefaultMaxN).
	MaxN int
}

// Plan is what to run at fal for one OpenAI request.
type Plan struct {
	// Inputs holds one fal input per job. Jobs are independent; their
	// images are answered in this order. The maps must be treated as
	// read-only: nested values may be shared between them.
	Inputs []map[string]any
	// JobImages[i] is how many images Inputs[i] asks for, and N how many
	// the client asked for in all (fewer than their sum when a model's
	// minimum batch exceeds n). See Keep.
	JobImages []int
	N         int
	// B64 reports that the client asked for response_format=b64_json.
	B64 bool
	// SyncMode reports that the inputs ask fal for data: URIs (only when
	// B64 and the model has sync_mode), so the images need no download.
	SyncMode bool
	// Size is the "WxH" actually requested, to echo in the response; empty
	// when the model was sent no pixel size (auto, default, aspect ratio).
	Size string
	// native lists the fal fields the client set in the model's own terms,
	// which Param names as they are.
	native []string
	// params names the request field of a fal input that Param cannot
	// tell from the input's name (an edit's image and mask fields).
	params map[string]string
}

// Param names the request field a fal input comes from, so that fal's
// validation error on it can name what the client sent: the OpenAI field
// the plan filled it from ("size" for image_size, "n" for num_images,
// "mask" for the model's mask field), or the fal field itself when the
// client set it in the model's own terms.
func (p *Plan) Param(falField string) string {
	if name, ok := p.params[falField]; ok {
		return name
	}
	if len(p.Inputs) == 0 || slices.Contains(p.native, falField) {
		return falField
	}
	if _, ok := p.Inputs[0][falField]; ok { // every job has the same fields
		if name := plannedFrom(falField); name != "" {
			return name
		}
	}
	return falField
}

// PlanGeneration plans POST /v1/images/generations for a model.
//
// Mapping, each to a field only when the model declares it:
//   - prompt (required, non-blank) → prompt;
//   - size → the model's size family (see mapSize), fitted to the model's
//     bounds rather than rejected; "auto" → an "auto" preset if the model
//     has one, else nothing; empty → nothing (the model's default);
//   - n (1..MaxN) → num_images within the model's range, split over
//     several jobs when n exceeds it or the model has no num_images;
//   - seed → seed; when n is split each job gets a distinct seed: seed plus
//     the number of images requested by the jobs before it;
//   - output_format → output_format or format, 400 when the model's
//     enumeration lacks it (jpg and jpeg are one value);
//   - style, quality, background → the field of that name when its
//     enumeration holds the value (case-insensitively), else ignored, so
//     OpenAI-only values such as quality "hd" never break a request;
//   - response_format b64_json → sync_mode: true;
//   - Options.SafetyChecker → enable_safety_checker.
//
// Other request fields (req.Extra) that the model declares are passed
// through as given and win over values mapped from OpenAI fields (a client
// naming a model-native field means it), except the fields the plan must
// control: num_images, sync_mode, enable_safety_checker and, for edits,
// the image and mask fields. Passed-through values are not validated
// here: fal validates them and answers 422 naming the field.
func PlanGeneration(req *openai.ImageGenerationRequest, caps *falschema.Capabilities, opt Options) (*Plan, *openai.Error) {
	return plan(req, caps, opt, nil)
}

// plan builds a Plan; reserved names further fields that client extras
// may not fill (an edit's image and mask fields, set after uploads).
func plan(req *openai.ImageGenerationRequest, caps *falschema.Capabilities, opt Options, reserved []string) (*Plan, *openai.Error) {
	if strings.TrimSpace(req.Prompt) == "" {
		return nil, openai.InvalidRequest("prompt", "missing_required_parameter", "Missing required parameter: 'prompt'.")
	}
	n, e := count(req.N, opt.MaxN)
	if e != nil {
		return nil, e
	}
	b64, e := responseFormat(req.ResponseFormat)
	if e != nil {
		return nil, e
	}
	b := &builder{caps: caps, in: map[string]any{}}
	b.set("prompt", req.Prompt)
	size, e := applySize(b, req.Size)
	if e != nil {
		return nil, e
	}
	format := req.OutputFormat
	if format == "" && b64 {
		// OpenAI answers b64_json with PNG, and clients write the bytes
		// to .png files: ask for PNG where the model offers it.
		format = defaultB64Format(caps)
	}
	if e := applyOutputFormat(b, format); e != nil {
		return nil, e
	}
	applyEnums(b, map[string]string{"style": req.Style, "quality": req.Quality, "background": req.Background})
	if caps.SafetyChecker {
		b.set("enable_safety_checker", opt.SafetyChecker)
	}
	if b64 && caps.SyncMode {
		b.set("sync_mode", true)
	}
	protected := append(slices.Clone(planControlled), reserved...)
	native, e := applyExtras(b, req.Extra, protected)
	if e != nil {
		return nil, e
	}
	if slices.ContainsFunc(native, isSizeField) {
		size = "" // the client chose the size in the model's own terms
	}
	inputs, sizes := splitJobs(b, n, req.Seed)
	return &Plan{
		Inputs:    inputs,
		JobImages: sizes,
		N:         n,
		B64:       b64,
		SyncMode:  b.in["sync_mode"] == true,
		Size:      size,
		native:    native,
	}, nil
}

// Keep trims the outputs of the plan's jobs, given in the order of Inputs,
// to the images asked for: each job's to its JobImages, all of them to N.
// It returns how many images it dropped. A model, or an upstream that
// misbehaves, answering more images than requested must not make falproxy
// download them or hand them on.
func (p *Plan) Keep(outputs []*Output) (dropped int) {
	left := p.N
	for i, out := range outputs {
		if out == nil {
			continue
		}
		k := min(len(out.Images), left)
		if i < len(p.JobImages) {
			k = min(k, p.JobImages[i])
		}
		dropped += len(out.Images) - k
		out.Images = out.Images[:k]
		left -= k
	}
	return dropped
}

// isSizeField reports a field that carries an output size.
func isSizeField(name string) bool {
	switch name {
	case "image_size", "size", "width", "height", "aspect_ratio", "resolution":
		return true
	}
	return false
}

// plannedFrom names the OpenAI field a plan fills a fal input from, or ""
// for an input that comes from no OpenAI field of its own (prompt, seed,
// sync_mode and the like, whose names are the same or the plan's own).
func plannedFrom(falField string) string {
	switch {
	case isSizeField(falField):
		return "size"
	case falField == "num_images":
		return "n"
	case falField == "format" || falField == "output_format":
		return "output_format"
	}
	return ""
}

// builder collects one fal input. set drops undeclared fields, which is
// how a plan keeps its one rule.
type builder struct {
	caps *falschema.Capabilities
	in   map[string]any
}

func (b *builder) declared(name string) bool {
	_, ok := b.caps.Fields[name]
	return ok
}

func (b *builder) set(name string, v any) {
	if b.declared(name) {
		b.in[name] = v
	}
}

// clone copies the input collected so far.
func (b *builder) clone() map[string]any { return maps.Clone(b.in) }

// count validates n; nil means 1.
func count(n *int, maxN int) (int, *openai.Error) {
	if maxN <= 0 {
		maxN = DefaultMaxN
	}
	if n == nil {
		return 1, nil
	}
	if *n < 1 || *n > maxN {
		return 0, openai.InvalidRequest("n", "invalid_value", "Invalid 'n': %d. It must be between 1 and %d.", *n, maxN)
	}
	return *n, nil
}

// responseFormat validates response_format and reports b64_json.
func responseFormat(f string) (bool, *openai.Error) {
	switch f {
	case "", "url":
		return false, nil
	case "b64_json":
		return true, nil
	}
	return false, openai.InvalidRequest("response_format", "invalid_value",
		"Invalid 'response_format': %q. Supported values are: 'url' and 'b64_json'.", openai.Echo(f))
}
