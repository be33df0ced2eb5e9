package images

import (
	"reflect"
	"testing"

	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/falschema/schematest"
	"github.com/falproxy/falproxy/internal/openai"
)

// Conformance against documents kept outside this package (fal's reference
// documents next to the repository, and the emulator's); each test skips
// when its folder is absent.

// referencePlans are expected mappings on fal's documents.
var referencePlans = []struct {
	endpoint string
	req      openai.ImageGenerationRequest
	want     map[string]any // fields the first input must carry
}{
	{"fal-ai/flux/dev", openai.ImageGenerationRequest{Prompt: "p", Size: "1024x576"}, map[string]any{"image_size": "landscape_16_9"}},
	{"fal-ai/flux/dev", openai.ImageGenerationRequest{Prompt: "p", Size: "1536x1024"}, map[string]any{"image_size": map[string]any{"width": 1536, "height": 1024}}},
	{"fal-ai/bytedance/seedream/v4/text-to-image", openai.ImageGenerationRequest{Prompt: "p", Size: "auto"}, map[string]any{"image_size": "auto"}},
	{"fal-ai/bytedance/seedream/v4/text-to-image", openai.ImageGenerationRequest{Prompt: "p", Size: "800x600"}, map[string]any{"image_size": map[string]any{"width": 1365, "height": 1024}}},
	{"fal-ai/gpt-image-1/text-to-image", openai.ImageGenerationRequest{Prompt: "p", Size: "1792x1024", Quality: "high"}, map[string]any{"image_size": "1536x1024", "quality": "high"}},
	{"fal-ai/imagen4/preview", openai.ImageGenerationRequest{Prompt: "p", Size: "1920x1080"}, map[string]any{"aspect_ratio": "16:9", "resolution": "2K"}},
	{"fal-ai/flux-pro/v1.1-ultra", openai.ImageGenerationRequest{Prompt: "p", Size: "1792x1024"}, map[string]any{"aspect_ratio": "7:4"}},
	{"fal-ai/ideogram/v2", openai.ImageGenerationRequest{Prompt: "p", Size: "1792x1024", Style: "anime"}, map[string]any{"aspect_ratio": "16:9", "style": "anime"}},
	{"fal-ai/fast-sdxl", openai.ImageGenerationRequest{Prompt: "p", OutputFormat: "png"}, map[string]any{"format": "png"}},
	{"fal-ai/recraft/v3/text-to-image", openai.ImageGenerationRequest{Prompt: "p", N: intp(2), Seed: seedp(1)}, map[string]any{"prompt": "p"}},
}

func TestReferencePlans(t *testing.T) {
	docs := schematest.LoadDir(t, schematest.FindDir(t, "../shared/fal-schemas"))
	caps := map[string]*falschema.Capabilities{}
	for _, d := range docs {
		c, err := falschema.Reduce(d.Doc, d.Endpoint)
		if err != nil {
			t.Fatalf("%s: %v", d.Endpoint, err)
		}
		caps[d.Endpoint] = c
		t.Run("invariants/"+d.Endpoint, func(t *testing.T) { checkPlans(t, c) })
	}
	for _, rp := range referencePlans {
		c := caps[rp.endpoint]
		if c == nil {
			t.Logf("no reference document for %s", rp.endpoint)
			continue
		}
		p, e := PlanGeneration(&rp.req, c, Options{})
		if e != nil {
			t.Errorf("%s %+v: %v", rp.endpoint, rp.req, e)
			continue
		}
		for k, v := range rp.want {
			if got := p.Inputs[0][k]; !reflect.DeepEqual(got, v) {
				t.Errorf("%s size %q: %s = %v, want %v", rp.endpoint, rp.req.Size, k, got, v)
			}
		}
	}
}

// TestEmulatorPlans holds the emulator's documents to the same invariants.
func TestEmulatorPlans(t *testing.T) {
	for _, d := range schematest.LoadDir(t, schematest.FindDir(t, "internal/falfake/schemas")) {
		t.Run(d.Endpoint, func(t *testing.T) {
			c, err := falschema.Reduce(d.Doc, d.Endpoint)
			if err != nil {
				t.Fatal(err)
			}
			checkPlans(t, c)
		})
	}
}
