package falschema

import (
	"slices"
	"strings"
	"testing"

	"github.com/falproxy/falproxy/internal/falschema/schematest"
)

// Conformance against documents kept outside this package: fal's reference
// documents next to the repository (one verbatim, the rest reconstructed)
// and the emulator's own. Each test skips when its folder is absent.

// referenceExpectations are the families fal's documents must reduce to.
var referenceExpectations = map[string]func(t *testing.T, c *Capabilities){
	"fal-ai/flux/dev": func(t *testing.T, c *Capabilities) {
		expectSize(t, c, SizeImageSize, "image_size")
		if !c.Size.Object || !slices.Contains(c.Size.Presets, "landscape_16_9") {
			t.Errorf("image_size should take an object and presets: %+v", c.Size)
		}
		expectCount(t, c, 4)
		expectFormat(t, c, "output_format", "jpeg", "png")
	},
	"fal-ai/bytedance/seedream/v4/text-to-image": func(t *testing.T, c *Capabilities) {
		expectSize(t, c, SizeImageSize, "image_size")
		if !slices.Contains(c.Size.Presets, "auto_2K") || c.Size.MinW != 1024 || c.Size.MaxH != 4096 {
			t.Errorf("auto presets or prose bounds missing: %+v", c.Size)
		}
		expectCount(t, c, 6)
	},
	"fal-ai/fast-sdxl": func(t *testing.T, c *Capabilities) {
		expectSize(t, c, SizeImageSize, "image_size")
		expectFormat(t, c, "format", "jpeg", "png")
	},
	"fal-ai/flux-pro/v1.1-ultra": func(t *testing.T, c *Capabilities) {
		expectSize(t, c, SizeAspectRatio, "aspect_ratio")
		if !c.Size.FreeAspect || !slices.Contains(c.Size.AspectRatios, "21:9") {
			t.Errorf("aspect ratio should be an enum plus free strings: %+v", c.Size)
		}
	},
	"fal-ai/ideogram/v2": func(t *testing.T, c *Capabilities) {
		expectSize(t, c, SizeAspectRatio, "aspect_ratio")
		if c.Size.FreeAspect || c.NumImages != nil || len(c.Enums["style"]) == 0 {
			t.Errorf("closed aspect ratios, no num_images, a style enum: %+v", c)
		}
	},
	"fal-ai/imagen4/preview": func(t *testing.T, c *Capabilities) {
		expectSize(t, c, SizeAspectRatio, "aspect_ratio")
		if c.Size.Resolution == nil || !slices.Equal(c.Size.Resolution.Values, []string{"1K", "2K"}) {
			t.Errorf("resolution tiers missing: %+v", c.Size.Resolution)
		}
		expectFormat(t, c, "output_format", "jpeg", "png", "webp")
	},
	"fal-ai/gpt-image-1/text-to-image": func(t *testing.T, c *Capabilities) {
		expectSize(t, c, SizePixels, "image_size")
		if !slices.Contains(c.Size.Pixels, "1536x1024") || !slices.Contains(c.Size.Presets, "auto") || c.Seed {
			t.Errorf("pixel sizes with auto and no seed: %+v", c)
		}
	},
	"fal-ai/recraft/v3/text-to-image": func(t *testing.T, c *Capabilities) {
		expectSize(t, c, SizeImageSize, "image_size")
		if c.NumImages != nil || c.Seed || len(c.Enums["style"]) < 10 {
			t.Errorf("no num_images, no seed, many styles: %+v", c)
		}
	},
	"fal-ai/flux-pro/kontext": func(t *testing.T, c *Capabilities) {
		if c.ImageInput == nil || c.ImageInput.Field != "image_url" || !c.ImageInput.Required {
			t.Errorf("a required image_url: %+v", c.ImageInput)
		}
	},
	"fal-ai/gpt-image-1/edit-image": func(t *testing.T, c *Capabilities) {
		if in := c.ImageInput; in == nil || in.Field != "image_urls" || !in.Multiple || in.MaskField != "mask_url" {
			t.Errorf("image_urls and mask_url: %+v", in)
		}
	},
}

func expectSize(t *testing.T, c *Capabilities, kind SizeKind, field string) {
	t.Helper()
	if c.Size.Kind != kind || c.Size.Field != field {
		t.Errorf("size %s in %q, want %s in %q", c.Size.Kind, c.Size.Field, kind, field)
	}
}

func expectCount(t *testing.T, c *Capabilities, max int) {
	t.Helper()
	if c.NumImages == nil || c.NumImages.Min != 1 || c.NumImages.Max != max {
		t.Errorf("num_images %+v, want 1..%d", c.NumImages, max)
	}
}

func expectFormat(t *testing.T, c *Capabilities, field string, values ...string) {
	t.Helper()
	if f := c.OutputFormat; f == nil || f.Field != field || !slices.Equal(f.Values, values) {
		t.Errorf("output format %+v, want %s %v", f, field, values)
	}
}

func TestReferenceDocuments(t *testing.T) {
	docs := schematest.LoadDir(t, schematest.FindDir(t, "../shared/fal-schemas"))
	seen := map[string]bool{}
	for _, d := range docs {
		t.Run(d.Endpoint, func(t *testing.T) {
			c, err := Reduce(d.Doc, d.Endpoint)
			if err != nil {
				t.Fatal(err)
			}
			if !c.Prompt {
				t.Error("every reference endpoint takes a prompt")
			}
			if check := referenceExpectations[d.Endpoint]; check != nil {
				seen[d.Endpoint] = true
				check(t, c)
			}
		})
	}
	for ep := range referenceExpectations {
		if !seen[ep] {
			t.Logf("reference document for %s not found", ep)
		}
	}
}

// TestEmulatorDocuments reduces the emulator's documents: whatever the
// emulator serves must be understood.
func TestEmulatorDocuments(t *testing.T) {
	docs := schematest.LoadDir(t, schematest.FindDir(t, "internal/falfake/schemas"))
	for _, d := range docs {
		t.Run(d.Endpoint, func(t *testing.T) {
			c, err := Reduce(d.Doc, d.Endpoint)
			if err != nil {
				t.Fatal(err)
			}
			llm := strings.Contains(d.Endpoint, "llm") || strings.HasPrefix(d.Endpoint, "openrouter/")
			if !llm && !c.Video && c.Audio == nil && c.Size.Kind == SizeNone && c.ImageInput == nil {
				t.Errorf("image endpoint without size control or image input: %+v", c)
			}
		})
	}
}
