package images

import (
	"testing"

	"github.com/falproxy/falproxy/internal/falschema"
)

// FuzzParseSize checks that ParseSize never panics, that what it accepts
// round-trips, and that every accepted size maps within the bounds of a
// bounded family. Seeds: testdata/fuzz/FuzzParseSize.
func FuzzParseSize(f *testing.F) {
	specs := []falschema.SizeSpec{objectOrPreset, presetsOnly, seedream, widthHeight, freeAspect, closedAspect, aspectTiers, pixelEnum, freePixels, tiersOnly}
	f.Fuzz(func(t *testing.T, s string) {
		w, h, auto, err := ParseSize(s)
		switch {
		case err != nil:
			if w != 0 || h != 0 || auto {
				t.Fatalf("error with values %d %d %v", w, h, auto)
			}
			return
		case auto:
			if w != 0 || h != 0 {
				t.Fatalf("auto with a size %dx%d", w, h)
			}
			return
		case w < 1 || h < 1 || w > MaxSide || h > MaxSide:
			t.Fatalf("accepted %dx%d from %q", w, h, s)
		}
		if w2, h2, _, err := ParseSize(pixels(w, h)); err != nil || w2 != w || h2 != h {
			t.Fatalf("%dx%d does not round-trip: %d %d %v", w, h, w2, h2, err)
		}
		for _, spec := range specs {
			fields, _ := sizeFields(w, h, spec)
			if spec.Kind == falschema.SizeWidthHeight {
				fw, fh := fields["width"].(int), fields["height"].(int)
				if fw < spec.MinW || fw > spec.MaxW || fh < spec.MinH || fh > spec.MaxH || fw%spec.Multiple != 0 || fh%spec.Multiple != 0 {
					t.Fatalf("%dx%d fitted to %dx%d, outside %+v", w, h, fw, fh, spec)
				}
			}
			if spec.Kind != falschema.SizeNone && len(fields) == 0 {
				t.Fatalf("%dx%d: nothing mapped for %s", w, h, spec.Kind)
			}
		}
	})
}

// FuzzParseOutput checks that no fal output makes ParseOutput panic and
// that a success always has images with URLs. Seeds:
// testdata/fuzz/FuzzParseOutput.
func FuzzParseOutput(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw []byte) {
		out, err := ParseOutput(raw)
		if err != nil {
			if out != nil {
				t.Fatal("error with a result")
			}
			return
		}
		if len(out.Images) == 0 {
			t.Fatal("success without images")
		}
		for _, img := range out.Images {
			if img.URL == "" || img.Width < 0 || img.Height < 0 {
				t.Fatalf("bad image %+v", img)
			}
		}
	})
}
