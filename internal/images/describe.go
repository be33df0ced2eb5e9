package images

import (
	"maps"
	"slices"

	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/openai"
)

// exampleSizes are the OpenAI sizes a Description maps as examples: the
// three sizes gpt-image-1 offers, and auto.
var exampleSizes = []string{"1024x1024", "1536x1024", "1024x1536", "auto"}

// planControlled are the declared fields a plan always sets itself; a
// client's model-native value for them is not passed through.
var planControlled = []string{"num_images", "sync_mode", "enable_safety_checker"}

// openAIEnums are the request fields applyEnums maps by enumeration.
var openAIEnums = []string{"style", "quality", "background"}

// Description summarises how falproxy drives one image model: the parts of
// its capabilities that decide how an OpenAI request is mapped, and what
// the example sizes become. Operators read it to see what a model takes
// before sending it traffic (`falproxy models`, GET /v1/models/{model}).
type Description struct {
	// Size is how the model takes a size (family, field, presets, bounds).
	Size falschema.SizeSpec `json:"size"`
	// NumImages is the num_images range; nil means the model has no
	// num_images field and n is split into jobs of one image each.
	NumImages *falschema.IntRange `json:"num_images"`
	// OutputFormat is the output format field and its values, if any.
	OutputFormat *falschema.EnumField `json:"output_format,omitempty"`
	// Seed, SyncMode and SafetyChecker report the fields seed, sync_mode
	// and enable_safety_checker.
	Seed          bool `json:"seed"`
	SyncMode      bool `json:"sync_mode"`
	SafetyChecker bool `json:"safety_checker"`
	// Generates is false for an edit-only model: its schema requires an
	// input image, so /v1/images/generations refuses it.
	Generates bool `json:"generates"`
	// Edit is how the model takes input images; nil when it edits nothing.
	Edit *falschema.ImageInput `json:"edit,omitempty"`
	// Enums holds the enumerations of style, quality and background that
	// the request fields of the same name are matched against.
	Enums map[string][]string `json:"enums,omitempty"`
	// OtherFields are the remaining declared fields, sorted; a request
	// sends them by naming them in its body.
	OtherFields []string `json:"other_fields,omitempty"`
	// Examples map the sizes 1024x1024, 1536x1024, 1024x1536 and auto, in that order.
	Examples []SizeExample `json:"examples"`
}

// SizeExample is what one OpenAI size becomes for a model.
type SizeExample struct {
	Size string `json:"size"`
	// Sent holds the size fields of the fal input (image_size, width,
	// height, aspect_ratio, resolution); empty means the model's default.
	Sent map[string]any `json:"sent"`
	// Error is the 400 the request would get instead, if any.
	Error string `json:"error,omitempty"`
}

// Describe summarises caps. The examples are planned by PlanGeneration
// with opt, so they show exactly what a request of that size would send.
func Describe(caps *falschema.Capabilities, opt Options) *Description {
	d := &Description{
		Size:          caps.Size,
		NumImages:     caps.NumImages,
		OutputFormat:  caps.OutputFormat,
		Seed:          caps.Seed,
		SyncMode:      caps.SyncMode,
		SafetyChecker: caps.SafetyChecker,
		Generates:     CanGenerate(caps),
		Edit:          caps.ImageInput,
	}
	for _, name := range openAIEnums {
		if _, declared := caps.Fields[name]; declared && len(caps.Enums[name]) > 0 {
			if d.Enums == nil {
				d.Enums = map[string][]string{}
			}
			d.Enums[name] = caps.Enums[name]
		}
	}
	mapped := mappedFields(caps)
	for _, name := range slices.Sorted(maps.Keys(caps.Fields)) {
		if !mapped[name] && d.Enums[name] == nil {
			d.OtherFields = append(d.OtherFields, name)
		}
	}
	for _, size := range exampleSizes {
		d.Examples = append(d.Examples, exampleFor(size, caps, opt))
	}
	return d
}

// mappedFields are the declared fields a plan fills from OpenAI fields or
// controls itself.
func mappedFields(caps *falschema.Capabilities) map[string]bool {
	m := map[string]bool{"prompt": true, "seed": true}
	for _, name := range planControlled {
		m[name] = true
	}
	if f := caps.OutputFormat; f != nil {
		m[f.Field] = true
	}
	s := caps.Size
	if s.Field != "" {
		m[s.Field] = true
	}
	if s.Kind == falschema.SizeWidthHeight {
		m["width"], m["height"] = true, true
	}
	if s.Resolution != nil {
		m[s.Resolution.Field] = true
	}
	if in := caps.ImageInput; in != nil {
		m[in.Field] = true
		if in.MaskField != "" {
			m[in.MaskField] = true
		}
	}
	return m
}

// exampleFor plans a one-image request of the given size and keeps the
// size fields of its input.
func exampleFor(size string, caps *falschema.Capabilities, opt Options) SizeExample {
	ex := SizeExample{Size: size, Sent: map[string]any{}}
	p, e := PlanGeneration(&openai.ImageGenerationRequest{Prompt: "example", Size: size}, caps, opt)
	if e != nil {
		ex.Error = e.Message
		return ex
	}
	for k, v := range p.Inputs[0] {
		if isSizeField(k) {
			ex.Sent[k] = v
		}
	}
	return ex
}
