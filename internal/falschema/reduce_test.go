package falschema

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/falproxy/falproxy/internal/falschema/schematest"
)

var presets = []string{"square_hd", "square", "portrait_4_3", "portrait_16_9", "landscape_4_3", "landscape_16_9"}

// TestReduceFamilies checks the capabilities derived from each of the
// project's test documents.
func TestReduceFamilies(t *testing.T) {
	type want struct {
		size      SizeSpec
		num       *IntRange
		format    *EnumField
		image     *ImageInput
		seed      bool
		sync      bool
		safety    bool
		enumField string // a field that must appear in Enums
	}
	tests := map[string]want{
		"test/presets": {
			size:   SizeSpec{Kind: SizeImageSize, Field: "image_size", Object: true, Presets: presets, MinW: 1, MaxW: 14142, MinH: 1, MaxH: 14142},
			num:    &IntRange{Min: 1, Max: 4},
			format: &EnumField{Field: "output_format", Values: []string{"jpeg", "png"}},
			seed:   true, sync: true, safety: true, enumField: "acceleration",
		},
		"test/allof": {
			size:   SizeSpec{Kind: SizeImageSize, Field: "image_size", Object: true, Presets: presets, MinW: 1, MaxW: 14142, MinH: 1, MaxH: 14142},
			num:    &IntRange{Min: 1},
			format: &EnumField{Field: "format", Values: []string{"jpeg", "png"}},
			seed:   true, sync: true, safety: true,
		},
		"test/auto-presets": {
			size: SizeSpec{Kind: SizeImageSize, Field: "image_size", Object: true,
				Presets: append(presets[:len(presets):len(presets)], "auto", "auto_2K", "auto_4K"),
				MinW:    1024, MaxW: 4096, MinH: 1024, MaxH: 4096},
			num:  &IntRange{Min: 1, Max: 6},
			seed: true, sync: true, safety: true,
		},
		"test/aspect-free": {
			size: SizeSpec{Kind: SizeAspectRatio, Field: "aspect_ratio", FreeAspect: true,
				AspectRatios: []string{"21:9", "16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16", "9:21"}},
			num:    &IntRange{Min: 1, Max: 4},
			format: &EnumField{Field: "output_format", Values: []string{"jpeg", "png"}},
			seed:   true, sync: true, safety: true,
		},
		"test/aspect-enum": {
			size: SizeSpec{Kind: SizeAspectRatio, Field: "aspect_ratio",
				AspectRatios: []string{"10:16", "16:10", "9:16", "16:9", "4:3", "3:4", "1:1", "1:3", "3:1", "3:2", "2:3"}},
			seed: true, sync: true, enumField: "style",
		},
		"test/aspect-resolution": {
			size: SizeSpec{Kind: SizeAspectRatio, Field: "aspect_ratio", AspectRatios: []string{"1:1", "16:9", "9:16", "3:4", "4:3"},
				Resolution: &EnumField{Field: "resolution", Values: []string{"1K", "2K"}}},
			num:    &IntRange{Min: 1, Max: 4},
			format: &EnumField{Field: "output_format", Values: []string{"jpeg", "png", "webp"}},
			seed:   true, sync: true,
		},
		"test/pixels": {
			size:   SizeSpec{Kind: SizePixels, Field: "image_size", Presets: []string{"auto"}, Pixels: []string{"1024x1024", "1536x1024", "1024x1536"}},
			num:    &IntRange{Min: 1, Max: 4},
			format: &EnumField{Field: "output_format", Values: []string{"jpeg", "png", "webp"}},
			sync:   true, enumField: "background",
		},
		"test/width-height": {
			size:   SizeSpec{Kind: SizeWidthHeight, MinW: 256, MaxW: 1440, MinH: 256, MaxH: 1440, Multiple: 32},
			num:    &IntRange{Min: 1, Max: 4}, // exclusiveMaximum 5
			format: &EnumField{Field: "output_format", Values: []string{"jpg", "png"}},
			seed:   true, safety: true,
		},
		"test/plain": {size: SizeSpec{Kind: SizeNone}, safety: true, enumField: "style"},
		"test/size-free": {
			size: SizeSpec{Kind: SizePixels, Field: "size", FreePixels: true},
			num:  &IntRange{Min: 1, Max: 4},
		},
		"test/resolution": {
			size: SizeSpec{Kind: SizeResolution, Resolution: &EnumField{Field: "resolution", Values: []string{"0.5K", "1K", "2K", "4K"}}},
		},
		"test/edit-one": {
			size:   SizeSpec{Kind: SizeAspectRatio, Field: "aspect_ratio", AspectRatios: []string{"21:9", "16:9", "4:3", "1:1", "3:4", "9:16"}},
			num:    &IntRange{Min: 1, Max: 4},
			format: &EnumField{Field: "output_format", Values: []string{"jpeg", "png"}},
			image:  &ImageInput{Field: "image_url", Required: true},
			seed:   true, sync: true,
		},
		"test/edit-many": {
			size:  SizeSpec{Kind: SizePixels, Field: "image_size", Presets: []string{"auto"}, Pixels: []string{"1024x1024", "1536x1024", "1024x1536"}},
			num:   &IntRange{Min: 1, Max: 4},
			image: &ImageInput{Field: "image_urls", Multiple: true, MaxImages: 4, Required: true, MaskField: "mask_url"},
			sync:  true, enumField: "quality",
		},
		"test/fill": {
			size:  SizeSpec{Kind: SizeNone},
			num:   &IntRange{Min: 1, Max: 4},
			image: &ImageInput{Field: "image_url", Required: true, MaskField: "mask_url", MaskRequired: true},
			seed:  true,
		},
		"test/reference": {
			size:  SizeSpec{Kind: SizeImageSize, Field: "image_size", Object: true, Presets: presets, MinW: 1, MaxW: 14142, MinH: 1, MaxH: 14142},
			num:   &IntRange{Min: 1, Max: 4},
			image: &ImageInput{Field: "image_urls", Multiple: true},
		},
	}
	cases := schematest.Cases()
	if len(cases) != len(tests) {
		t.Errorf("%d test documents but %d expectations", len(cases), len(tests))
	}
	for _, c := range cases {
		t.Run(c.Endpoint, func(t *testing.T) {
			w, ok := tests[c.Endpoint]
			if !ok {
				t.Fatalf("no expectation for %s", c.Endpoint)
			}
			caps, err := Reduce(c.Doc, c.Endpoint)
			if err != nil {
				t.Fatal(err)
			}
			check := func(what string, got, want any) {
				t.Helper()
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
				}
			}
			check("size", caps.Size, w.size)
			check("num_images", caps.NumImages, w.num)
			check("output format", caps.OutputFormat, w.format)
			check("image input", caps.ImageInput, w.image)
			check("seed", caps.Seed, w.seed)
			check("sync_mode", caps.SyncMode, w.sync)
			check("safety checker", caps.SafetyChecker, w.safety)
			check("prompt", caps.Prompt, true)
			if w.enumField != "" && len(caps.Enums[w.enumField]) == 0 {
				t.Errorf("Enums lacks %q: %v", w.enumField, caps.Enums)
			}
			if _, err := json.Marshal(caps); err != nil {
				t.Errorf("capabilities do not serialise: %v", err)
			}
		})
	}
}

// TestReducePathChoice checks which operation is the input: the endpoint's
// own path, else the first path with a POST in document order.
func TestReducePathChoice(t *testing.T) {
	op := func(field string) string {
		return `{"post":{"requestBody":{"content":{"application/json":{"schema":
			{"type":"object","properties":{"` + field + `":{"type":"string"}}}}}}}}`
	}
	doc := []byte(`{"paths":{
		"/z/status":{"get":{}},
		"/b/second":` + op("second") + `,
		"/a/first":` + op("first") + `}}`)
	tests := []struct{ endpoint, field string }{
		{"a/first", "first"},
		{"b/second", "second"},
		{"/a/first", "first"},
		{"not/listed", "second"}, // first POST in document order
	}
	for _, tt := range tests {
		caps, err := Reduce(doc, tt.endpoint)
		if err != nil {
			t.Fatalf("%s: %v", tt.endpoint, err)
		}
		if _, ok := caps.Fields[tt.field]; !ok || len(caps.Fields) != 1 {
			t.Errorf("%s: fields %v, want only %q", tt.endpoint, caps.Fields, tt.field)
		}
	}
}

// TestReduceRequestBodies checks request bodies given by reference and
// under a JSON media type other than application/json.
func TestReduceRequestBodies(t *testing.T) {
	docs := map[string]string{
		"referenced body": `{"paths":{"/e":{"post":{"requestBody":{"$ref":"#/components/requestBodies/In"}}}},
			"components":{"requestBodies":{"In":{"content":{"application/json":{"schema":{"properties":{"prompt":{"type":"string"}}}}}}}}}`,
		"vendor json type": `{"paths":{"/e":{"post":{"requestBody":{"content":{"text/plain":{"schema":{"properties":{"x":{}}}},
			"application/vnd.fal+json":{"schema":{"properties":{"prompt":{"type":"string"}}}}}}}}}}`,
	}
	for name, doc := range docs {
		caps, err := Reduce([]byte(doc), "e")
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !caps.Prompt || len(caps.Fields) != 1 {
			t.Errorf("%s: fields %v", name, caps.Fields)
		}
	}
}

// TestReduceErrors checks that broken documents give errors that say what
// is wrong.
func TestReduceErrors(t *testing.T) {
	body := func(schema string) string {
		return `{"paths":{"/e":{"post":{"requestBody":{"content":{"application/json":{"schema":` + schema + `}}}}}},
			"components":{"schemas":{"Self":{"$ref":"#/components/schemas/Self"}}}}`
	}
	tests := []struct{ name, doc, want string }{
		{"not JSON", `<html>`, "not valid JSON"},
		{"truncated", `{"paths":{`, "not valid JSON"},
		{"null (fal's unknown endpoint body)", `null`, "document is null"},
		{"array", `[]`, "not a JSON object"},
		{"no paths", `{"openapi":"3.0.4"}`, "no paths"},
		{"paths not an object", `{"paths":[1]}`, "paths"},
		{"no POST", `{"paths":{"/e":{"get":{}}}}`, "no POST"},
		{"no requestBody", `{"paths":{"/e":{"post":{}}}}`, "no requestBody"},
		{"no JSON body", `{"paths":{"/e":{"post":{"requestBody":{"content":{"text/plain":{"schema":{}}}}}}}}`, "no JSON schema"},
		{"missing schema", body(`{"$ref":"#/components/schemas/Nope"}`), "no such schema"},
		{"external reference", body(`{"$ref":"other.json#/X"}`), "within the document"},
		{"dangling pointer", body(`{"$ref":"#/components/nothing/here"}`), "not found"},
		{"input not an object", body(`{"type":"string"}`), "not an object schema"},
		{"input only refers to itself", body(`{"$ref":"#/components/schemas/Self"}`), "not an object schema"},
		{"property schema not an object", body(`{"properties":{"prompt":5}}`), `property "prompt"`},
		{"broken reference in a property", body(`{"properties":{"x":{"anyOf":[{"$ref":"#/components/schemas/Gone"}]}}}`), `property "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			caps, err := Reduce([]byte(tt.doc), "e")
			if err == nil {
				t.Fatalf("no error; capabilities %+v", caps)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "falschema: reduce e: ") {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

// TestReduceBlowUp checks that schemas built to explode (deep reference
// chains, alternatives multiplying through allOf and anyOf) are reduced
// without visiting every path: each reference is expanded once.
func TestReduceBlowUp(t *testing.T) {
	schemas := map[string]string{}
	// L0 .. L24: each level refers to the next four times; expanding
	// naively would visit 4^25 schemas.
	const levels = 25
	for i := range levels {
		next := `{"type":"string","enum":["v"]}`
		if i < levels-1 {
			next = `{"$ref":"#/components/schemas/L` + strconv.Itoa(i+1) + `"}`
		}
		schemas["L"+strconv.Itoa(i)] = `{"anyOf":[` + next + `,` + next + `],"allOf":[` + next + `,` + next + `]}`
	}
	input := `{"type":"object","properties":{"deep":{"$ref":"#/components/schemas/L0"},"prompt":{"type":"string"}}}`
	caps, err := Reduce(schematest.Doc("t/x", input, schemas), "t/x")
	if err != nil {
		t.Fatal(err)
	}
	if got := caps.Fields["deep"]; !reflect.DeepEqual(got.Enum, []any{"v"}) || !caps.Prompt {
		t.Errorf("deep %+v, prompt %v", got, caps.Prompt)
	}
}
