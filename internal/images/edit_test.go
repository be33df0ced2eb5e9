package images

import (
	"reflect"
	"slices"
	"testing"

	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/openai"
)

// editRequest is an image edit: the generation fields plus the input
// images and mask, already available as URLs (https or data:).
type editRequest struct {
	openai.ImageGenerationRequest
	ImageURLs []string
	MaskURL   string
}

// planEdit plans POST /v1/images/edits for images already available as
// URLs: PrepareEdit followed by Build. An empty URL counts as a missing
// image.
func planEdit(req *editRequest, caps *falschema.Capabilities, opt Options) (*Plan, *openai.Error) {
	if slices.Contains(req.ImageURLs, "") {
		return nil, openai.InvalidRequest("image", "missing_required_parameter", "Missing required parameter: 'image'.")
	}
	prepared, e := PrepareEdit(&req.ImageGenerationRequest, len(req.ImageURLs), req.MaskURL != "", caps, opt)
	if e != nil {
		return nil, e
	}
	urls := req.ImageURLs
	if req.MaskURL != "" {
		urls = append(urls[:len(urls):len(urls)], req.MaskURL)
	}
	return prepared.Build(urls), nil
}

func edit(prompt string, urls []string, mask string) *editRequest {
	return &editRequest{ImageGenerationRequest: openai.ImageGenerationRequest{Prompt: prompt}, ImageURLs: urls, MaskURL: mask}
}

func TestPlanEdit(t *testing.T) {
	three := []string{"https://a/1.png", "data:image/png;base64,AA==", "https://a/3.png"}
	tests := []struct {
		name, endpoint string
		req            *editRequest
		want           []in
	}{
		{
			name: "one image", endpoint: "test/edit-one",
			req:  edit("p", []string{"https://a/1.png"}, ""),
			want: []in{{"prompt": "p", "image_url": "https://a/1.png", "num_images": 1}},
		},
		{
			name: "image list and mask", endpoint: "test/edit-many",
			req:  edit("p", three, "https://a/mask.png"),
			want: []in{{"prompt": "p", "image_urls": three, "mask_url": "https://a/mask.png", "num_images": 1}},
		},
		{
			name: "required mask", endpoint: "test/fill",
			req:  edit("p", []string{"https://a/1.png"}, "https://a/m.png"),
			want: []in{{"prompt": "p", "image_url": "https://a/1.png", "mask_url": "https://a/m.png", "num_images": 1}},
		},
		{
			name: "optional reference images", endpoint: "test/reference",
			req:  edit("p", []string{"https://a/1.png"}, ""),
			want: []in{{"prompt": "p", "image_urls": []string{"https://a/1.png"}, "num_images": 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, e := planEdit(tt.req, capsFor(t, tt.endpoint), Options{})
			if e != nil {
				t.Fatal(e)
			}
			if !reflect.DeepEqual(p.Inputs, tt.want) {
				t.Errorf("inputs:\n got %v\nwant %v", p.Inputs, tt.want)
			}
		})
	}
}

// TestPlanEditSplitsWithImages checks that every job of a split edit
// carries the images, and that client extras cannot replace them.
func TestPlanEditSplitsWithImages(t *testing.T) {
	req := edit("p", []string{"https://a/1.png"}, "")
	req.N = intp(6)
	req.Extra = extras(map[string]string{"image_url": `"https://evil/x.png"`})
	p, e := planEdit(req, capsFor(t, "test/edit-one"), Options{})
	if e != nil {
		t.Fatal(e)
	}
	if len(p.Inputs) != 2 {
		t.Fatalf("%d jobs, want 2", len(p.Inputs))
	}
	for i, input := range p.Inputs {
		if input["image_url"] != "https://a/1.png" {
			t.Errorf("job %d image_url %v", i, input["image_url"])
		}
	}
}

func TestPlanEditErrors(t *testing.T) {
	five := []string{"u1", "u2", "u3", "u4", "u5"}
	tests := []struct {
		name, endpoint string
		req            *editRequest
		param, code    string
	}{
		{"model cannot edit", "test/plain", edit("p", []string{"u"}, ""), "model", "model_not_supported"},
		{"no image", "test/edit-one", edit("p", nil, ""), "image", "missing_required_parameter"},
		{"empty image URL", "test/edit-many", edit("p", []string{"u", ""}, ""), "image", "missing_required_parameter"},
		{"several images for one", "test/edit-one", edit("p", []string{"u1", "u2"}, ""), "image", "invalid_value"},
		{"over the maximum", "test/edit-many", edit("p", five, ""), "image", "invalid_value"},
		{"mask not taken", "test/edit-one", edit("p", []string{"u"}, "m"), "mask", "invalid_value"},
		{"mask required", "test/fill", edit("p", []string{"u"}, ""), "mask", "missing_required_parameter"},
		{"prompt required", "test/edit-one", edit("", []string{"u"}, ""), "prompt", "missing_required_parameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, e := planEdit(tt.req, capsFor(t, tt.endpoint), Options{})
			checkError(t, e, tt.param, tt.code)
		})
	}
}

func TestCanGenerate(t *testing.T) {
	tests := map[string]bool{
		"test/presets":   true,
		"test/reference": true, // the image list is optional
		"test/edit-one":  false,
		"test/edit-many": false,
		"test/fill":      false,
	}
	for ep, want := range tests {
		if got := CanGenerate(capsFor(t, ep)); got != want {
			t.Errorf("CanGenerate(%s) = %v, want %v", ep, got, want)
		}
	}
	control := &falschema.Capabilities{Required: []string{"prompt", "control_image_url"}}
	if CanGenerate(control) {
		t.Error("a required control_image_url means the model needs an input image")
	}
}

// TestPrepareEditChecksOnce checks the split of an edit into one checking
// pass, before any image exists as a URL, and a Build that only fills in
// the URLs: Build has no error to return, and building twice from the
// same preparation gives independent plans without re-planning.
func TestPrepareEditChecksOnce(t *testing.T) {
	caps := capsFor(t, "test/edit-many")
	if _, e := PrepareEdit(&openai.ImageGenerationRequest{Prompt: "p"}, 5, false, caps, Options{}); e == nil {
		t.Fatal("five images for a model taking at most four passed the check")
	}
	req := &openai.ImageGenerationRequest{Prompt: "p", N: intp(2)}
	req.Extra = extras(map[string]string{"image_urls": `["https://evil/x.png"]`})
	prepared, e := PrepareEdit(req, 2, true, caps, Options{})
	if e != nil {
		t.Fatal(e)
	}
	first := prepared.Build([]string{"https://a/1.png", "https://a/2.png", "https://a/m.png"})
	second := prepared.Build([]string{"https://b/1.png", "https://b/2.png", "https://b/m.png"})
	want := func(host string) []in {
		return []in{{"prompt": "p", "num_images": 2, "mask_url": "https://" + host + "/m.png",
			"image_urls": []string{"https://" + host + "/1.png", "https://" + host + "/2.png"}}}
	}
	if !reflect.DeepEqual(first.Inputs, want("a")) {
		t.Errorf("first build:\n got %v\nwant %v", first.Inputs, want("a"))
	}
	if !reflect.DeepEqual(second.Inputs, want("b")) {
		t.Errorf("second build:\n got %v\nwant %v", second.Inputs, want("b"))
	}
}
