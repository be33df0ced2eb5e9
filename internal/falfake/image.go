package falfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"image"
)

// maxImages caps num_images for documents that declare no maximum.
const maxImages = 64

// imageFile is one entry of an image model's "images" output.
type imageFile struct {
	URL         string `json:"url"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	ContentType string `json:"content_type"`
}

// imageOutcome generates an image model's output: num_images entries of
// the requested size and format, with CDN URLs (rendered on download) or,
// in sync_mode, data URIs.
func (f *Fake) imageOutcome(x execution, in node) outcome {
	m := x.model
	sz, field, err := m.imageSize(in, func() (size, bool) { return f.inputImageSize(in, x.cdnBase) })
	loc := []any{"body"}
	if field != "" {
		loc = append(loc, field)
	}
	switch {
	case err != nil:
		return validationOutcome([]detail{{Type: "value_error", Loc: loc, Msg: "Value error, " + err.Error(), Input: in[field]}})
	case sz.W <= 0 || sz.H <= 0:
		return validationOutcome([]detail{{Type: "value_error", Loc: loc, Msg: "Value error, width and height must be positive", Input: in[field]}})
	case sz.W > maxPixels || sz.H > maxPixels || sz.W*sz.H > maxPixels:
		const t = "image_too_large"
		return validationOutcome([]detail{{
			Type: t, Loc: loc, Msg: errorOf(t).msg, Input: in[field],
			Ctx: map[string]any{"max_pixels": maxPixels, "width": sz.W, "height": sz.H},
		}})
	}
	n := max(1, intOf(m.param(in, "num_images"), 1))
	if n > maxImages {
		return validationOutcome([]detail{{Type: "less_than_equal", Loc: []any{"body", "num_images"}, Msg: fmt.Sprintf("Input should be less than or equal to %d", maxImages), Input: in["num_images"], Ctx: map[string]any{"le": maxImages}}})
	}
	prompt, _ := in["prompt"].(string)
	seed := seedOf(m.param(in, "seed"), prompt)
	format := outputFormat(m, in)
	sync, _ := m.param(in, "sync_mode").(bool)
	images := make([]imageFile, n+max(f.opts.ExtraImages, 0))
	for i := range images {
		spec := imageSpec{
			W: sz.W, H: sz.H, Seed: seed, Index: i, Format: format,
			Transparent: format == "png" && m.param(in, "background") == "transparent",
		}
		url := x.cdnBase + spec.path()
		if sync {
			if url, err = spec.dataURI(); err != nil {
				return errorOutcome("internal_server_error", nil)
			}
		}
		images[i] = imageFile{URL: url, Width: sz.W, Height: sz.H, ContentType: spec.contentType()}
	}
	return successOutcome(m.pick(node{
		"images":            images,
		"seed":              seed,
		"prompt":            prompt,
		"has_nsfw_concepts": make([]bool, len(images)),
		"timings":           map[string]float64{"inference": x.inference.Seconds()},
	}))
}

// outputFormat is the image format a model will produce: its output_format
// or format field. JPEG is produced as JPEG; PNG and WebP (for which the
// standard library has no encoder) as PNG, labelled honestly as image/png.
func outputFormat(m *model, in node) string {
	for _, name := range []string{"output_format", "format"} {
		if m.has(name) {
			if m.param(in, name) == "jpeg" {
				return "jpeg"
			}
			return "png"
		}
	}
	return "png"
}

// seedOf is the input seed or, without one, a seed derived from the prompt
// so that runs are reproducible.
func seedOf(v any, prompt string) int64 {
	if n, ok := v.(json.Number); ok {
		if s, err := n.Int64(); err == nil {
			return s
		}
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(prompt))
	return int64(h.Sum64() % 2147483647)
}

// inputImageSize is the size of an edit model's first input image, when the
// emulator can read it (a data URI or one of its own files).
func (f *Fake) inputImageSize(in node, cdnBase string) (size, bool) {
	var url string
	if s, ok := in["image_url"].(string); ok {
		url = s
	} else if list, ok := in["image_urls"].([]any); ok && len(list) > 0 {
		url, _ = list[0].(string)
	}
	ref, _, ok := f.lookupURL(url, cdnBase)
	switch {
	case !ok:
		return size{}, false
	case ref.spec != nil:
		return size{ref.spec.W, ref.spec.H}, true
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(ref.data))
	if err != nil {
		return size{}, false
	}
	return size{cfg.Width, cfg.Height}, true
}
