package falschema

import (
	"testing"

	"github.com/falproxy/falproxy/internal/falschema/schematest"
)

func TestParseBounds(t *testing.T) {
	tests := []struct {
		text string
		want bounds
	}{
		{"Width and height must be between 1024 and 4096.", bounds{min: 1024, max: 4096}},
		{"Image width in pixels, a multiple of 8 between 256 and 2048.", bounds{min: 256, max: 2048, multiple: 8}},
		{"Must be divisible by 16.", bounds{multiple: 16}},
		{"Sides are multiples of 64", bounds{multiple: 64}},
		{"between 512px and 1536", bounds{min: 512, max: 1536}},
		{"between 4096 and 1024", bounds{}}, // reversed: ignored
		{"a multiple of 1", bounds{}},       // no constraint
		{"The size of the generated image.", bounds{}},
		{"", bounds{}},
	}
	for _, tt := range tests {
		if got := parseBounds(tt.text); got != tt.want {
			t.Errorf("parseBounds(%q) = %+v, want %+v", tt.text, got, tt.want)
		}
	}
}

func TestBoundsTighten(t *testing.T) {
	tests := []struct{ a, b, want bounds }{
		{bounds{min: 1, max: 14142}, bounds{min: 1024, max: 4096}, bounds{min: 1024, max: 4096}},
		{bounds{min: 256, max: 2048, multiple: 8}, bounds{min: 512}, bounds{min: 512, max: 2048, multiple: 8}},
		{bounds{}, bounds{max: 1440, multiple: 32}, bounds{max: 1440, multiple: 32}},
		{bounds{min: 1, max: 800}, bounds{min: 1024, max: 4096}, bounds{min: 1, max: 800}}, // contradiction: keep the schema's
	}
	for _, tt := range tests {
		if got := tt.a.tighten(tt.b); got != tt.want {
			t.Errorf("%+v.tighten(%+v) = %+v, want %+v", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestSizeFamilyPrecedence checks which family wins when a model declares
// several size controls.
func TestSizeFamilyPrecedence(t *testing.T) {
	const is = `"image_size":{"anyOf":[{"$ref":"#/components/schemas/ImageSize"},{"type":"string","enum":["square"]}]}`
	const wh = `"width":{"type":"integer"},"height":{"type":"integer"}`
	const ar = `"aspect_ratio":{"type":"string","enum":["1:1"]}`
	tests := []struct {
		props string
		want  SizeKind
	}{
		{is + "," + wh + "," + ar, SizeImageSize},
		{wh + "," + ar, SizeWidthHeight},
		{ar, SizeAspectRatio},
		{`"width":{"type":"string"},"height":{"type":"integer"}`, SizeNone}, // not integers
		{`"image_size":{"type":"integer"},` + ar, SizeAspectRatio},          // unusable image_size
		{`"image_size":{"type":"string","enum":["auto"]}`, SizeImageSize},
		{`"aspect_ratio":{"type":"string"}`, SizeAspectRatio},
	}
	for _, tt := range tests {
		doc := schematest.Doc("t/x", `{"type":"object","properties":{`+tt.props+`}}`, nil)
		caps, err := Reduce(doc, "t/x")
		if err != nil {
			t.Fatal(err)
		}
		if caps.Size.Kind != tt.want {
			t.Errorf("%s: kind %s, want %s", tt.props, caps.Size.Kind, tt.want)
		}
	}
}
