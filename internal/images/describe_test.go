package images

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/falproxy/falproxy/internal/falschema"
)

func TestDescribe(t *testing.T) {
	tests := []struct {
		endpoint  string
		kind      falschema.SizeKind
		numImages *falschema.IntRange
		generates bool
		edit      string // image field, "" for none
		enums     map[string][]string
		other     []string
		examples  map[string]map[string]any // size → size fields sent
	}{
		{
			endpoint: "test/presets", kind: falschema.SizeImageSize,
			numImages: &falschema.IntRange{Min: 1, Max: 4}, generates: true,
			other: []string{"acceleration", "guidance_scale", "num_inference_steps"},
			examples: map[string]map[string]any{
				"1024x1024": {"image_size": "square_hd"},
				"1536x1024": {"image_size": map[string]any{"width": 1536, "height": 1024}},
				"1024x1536": {"image_size": map[string]any{"width": 1024, "height": 1536}},
				"auto":      {},
			},
		},
		{
			endpoint: "test/width-height", kind: falschema.SizeWidthHeight,
			numImages: &falschema.IntRange{Min: 1, Max: 4}, generates: true,
			examples: map[string]map[string]any{
				"1024x1024": {"width": 1024, "height": 1024},
				"1536x1024": {"width": 1440, "height": 960},
			},
		},
		{
			endpoint: "test/aspect-enum", kind: falschema.SizeAspectRatio, generates: true,
			enums: map[string][]string{"style": {"auto", "general", "realistic", "design", "render_3D", "anime"}},
			other: []string{"negative_prompt"},
			examples: map[string]map[string]any{
				"1024x1024": {"aspect_ratio": "1:1"},
				"1536x1024": {"aspect_ratio": "3:2"},
				"1024x1536": {"aspect_ratio": "2:3"},
			},
		},
		{
			endpoint: "test/pixels", kind: falschema.SizePixels,
			numImages: &falschema.IntRange{Min: 1, Max: 4}, generates: true,
			enums: map[string][]string{
				"quality":    {"auto", "low", "medium", "high"},
				"background": {"auto", "transparent", "opaque"},
			},
			examples: map[string]map[string]any{
				"1536x1024": {"image_size": "1536x1024"},
				"auto":      {"image_size": "auto"},
			},
		},
		{
			endpoint: "test/plain", kind: falschema.SizeNone, generates: true,
			enums: map[string][]string{"style": {"any", "realistic_image", "digital_illustration"}},
			other: []string{"colors"},
			examples: map[string]map[string]any{
				"1024x1024": {},
			},
		},
		{
			endpoint: "test/aspect-resolution", kind: falschema.SizeAspectRatio,
			numImages: &falschema.IntRange{Min: 1, Max: 4}, generates: true,
			examples: map[string]map[string]any{
				"1536x1024": {"aspect_ratio": "4:3", "resolution": "2K"},
			},
		},
		{
			endpoint: "test/edit-one", kind: falschema.SizeAspectRatio,
			numImages: &falschema.IntRange{Min: 1, Max: 4}, edit: "image_url",
			examples: map[string]map[string]any{
				"1024x1024": {"aspect_ratio": "1:1"},
			},
		},
		{
			endpoint: "test/reference", kind: falschema.SizeImageSize,
			numImages: &falschema.IntRange{Min: 1, Max: 4}, generates: true, edit: "image_urls",
			examples: map[string]map[string]any{
				"1024x1024": {"image_size": "square_hd"},
			},
		},
		{
			endpoint: "test/fill", kind: falschema.SizeNone,
			numImages: &falschema.IntRange{Min: 1, Max: 4}, edit: "image_url",
			examples: map[string]map[string]any{
				"1536x1024": {},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.endpoint, func(t *testing.T) {
			d := Describe(capsFor(t, tt.endpoint), Options{})
			if d.Size.Kind != tt.kind {
				t.Errorf("size kind %q, want %q", d.Size.Kind, tt.kind)
			}
			if !reflect.DeepEqual(d.NumImages, tt.numImages) {
				t.Errorf("num_images %+v, want %+v", d.NumImages, tt.numImages)
			}
			if d.Generates != tt.generates {
				t.Errorf("generates %v, want %v", d.Generates, tt.generates)
			}
			switch {
			case tt.edit == "" && d.Edit != nil:
				t.Errorf("edit %+v, want none", d.Edit)
			case tt.edit != "" && (d.Edit == nil || d.Edit.Field != tt.edit):
				t.Errorf("edit %+v, want field %q", d.Edit, tt.edit)
			}
			if !reflect.DeepEqual(d.Enums, tt.enums) {
				t.Errorf("enums %v, want %v", d.Enums, tt.enums)
			}
			if !reflect.DeepEqual(d.OtherFields, tt.other) {
				t.Errorf("other fields %q, want %q", d.OtherFields, tt.other)
			}
			if len(d.Examples) != len(exampleSizes) {
				t.Fatalf("%d examples, want one per size in %q", len(d.Examples), exampleSizes)
			}
			for i, ex := range d.Examples {
				if ex.Size != exampleSizes[i] || ex.Error != "" {
					t.Errorf("example %d: %+v, want size %q without error", i, ex, exampleSizes[i])
				}
				want, ok := tt.examples[ex.Size]
				if ok && !reflect.DeepEqual(ex.Sent, want) {
					t.Errorf("size %s sends %v, want %v", ex.Size, ex.Sent, want)
				}
			}
		})
	}
}

// TestDescribeJSON checks the summary travels as JSON (the route and
// `falproxy models --json` send it) and that a model without num_images
// says so with null rather than leaving the field out.
func TestDescribeJSON(t *testing.T) {
	d := Describe(capsFor(t, "test/aspect-enum"), Options{SafetyChecker: true})
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if v, ok := back["num_images"]; !ok || v != nil {
		t.Errorf("num_images = %v (present %v), want null", v, ok)
	}
	size, _ := back["size"].(map[string]any)
	if size["kind"] != "aspect_ratio" || size["field"] != "aspect_ratio" {
		t.Errorf("size = %v, want the aspect_ratio family", size)
	}
	examples, _ := back["examples"].([]any)
	if len(examples) != len(exampleSizes) {
		t.Errorf("examples = %v", back["examples"])
	}
}

// TestDescribeSafetyCheckerNotShownAsSize checks the examples keep only
// size fields, even though the plan also sets enable_safety_checker.
func TestDescribeSafetyCheckerNotShownAsSize(t *testing.T) {
	d := Describe(capsFor(t, "test/presets"), Options{SafetyChecker: true})
	for _, ex := range d.Examples {
		for k := range ex.Sent {
			if !isSizeField(k) {
				t.Errorf("size %s: example carries %q, not a size field", ex.Size, k)
			}
		}
	}
	if !d.SafetyChecker || !d.Seed || !d.SyncMode {
		t.Errorf("seed %v, sync_mode %v, safety checker %v: the document declares all three", d.Seed, d.SyncMode, d.SafetyChecker)
	}
}
