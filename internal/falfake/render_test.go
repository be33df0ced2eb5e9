package falfake

import (
	"bytes"
	"image"
	"image/color"
	"strings"
	"testing"
)

func TestImageSpecRoundTrip(t *testing.T) {
	specs := []imageSpec{
		{W: 64, H: 32, Seed: 42, Index: 0, Format: "png"},
		{W: 1, H: 4096, Seed: 0, Index: 3, Format: "jpeg"},
		{W: 300, H: 200, Seed: -5, Index: 1, Format: "png", Transparent: true},
	}
	for _, s := range specs {
		got, ok := parseImagePath(s.path())
		if !ok || got != s {
			t.Errorf("parseImagePath(%q) = %+v, %v; want %+v", s.path(), got, ok, s)
		}
		if !strings.HasPrefix(s.path(), "/files/") || !strings.HasSuffix(s.path(), "_image."+s.Format) {
			t.Errorf("path %q does not look like a fal CDN path", s.path())
		}
	}
}

func TestParseImagePathRejects(t *testing.T) {
	enc := func(raw, ext string) string {
		return "/files/x/" + encodeToken(raw) + "_image." + ext
	}
	for _, p := range []string{
		"/files/x/nothing.png",
		"/files/x/!!!_image.png",
		enc("10.10.1.0.0", "gif"),
		enc("10.10.1.0", "png"),
		enc("0.10.1.0.0", "png"),
		enc("5000.5000.1.0.0", "png"),
		enc("10.10.1.-1.0", "png"),
		enc("10.10.1.0.2", "png"),
		enc("a.10.1.0.0", "png"),
	} {
		if s, ok := parseImagePath(p); ok {
			t.Errorf("parseImagePath(%q) accepted %+v", p, s)
		}
	}
}

func TestImageSpecEncodes(t *testing.T) {
	for _, s := range []imageSpec{
		{W: 96, H: 64, Seed: 1, Format: "png"},
		{W: 64, H: 96, Seed: 1, Format: "jpeg"},
		{W: 16, H: 16, Seed: 1, Format: "png", Transparent: true},
	} {
		b, err := s.bytes()
		if err != nil {
			t.Fatal(err)
		}
		img, format, err := image.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%+v: decode: %v", s, err)
		}
		if format != s.Format || img.Bounds().Dx() != s.W || img.Bounds().Dy() != s.H {
			t.Errorf("%+v: decoded %s %v", s, format, img.Bounds())
		}
		_, _, _, a := img.At(0, 0).RGBA()
		if opaque := a == 0xffff; opaque == s.Transparent {
			t.Errorf("%+v: pixel alpha %d", s, a)
		}
	}
}

func TestImageSpecDeterministic(t *testing.T) {
	a := imageSpec{W: 8, H: 8, Seed: 9, Format: "png"}
	b := a
	b.Index = 1
	pa, pb := a.palette(), b.palette()
	if !colorsEqual(pa, a.palette()) {
		t.Error("same spec, different palette")
	}
	if colorsEqual(pa, pb) {
		t.Error("sibling images share a palette")
	}
}

func colorsEqual(a, b color.Palette) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func FuzzParseImagePath(f *testing.F) {
	f.Add(imageSpec{W: 10, H: 10, Seed: 1, Format: "png"}.path())
	f.Add("/files/a/b_image.jpeg")
	f.Add("")
	f.Fuzz(func(t *testing.T, p string) {
		s, ok := parseImagePath(p)
		if !ok {
			return
		}
		if s.W <= 0 || s.H <= 0 || s.W*s.H > maxPixels || (s.Format != "png" && s.Format != "jpeg") {
			t.Fatalf("accepted unrenderable spec %+v from %q", s, p)
		}
	})
}
