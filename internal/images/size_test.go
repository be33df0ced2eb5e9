package images

import (
	"reflect"
	"testing"

	"github.com/falproxy/falproxy/internal/falschema"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		w, h    int
		auto    bool
		invalid bool
	}{
		{in: "1024x1024", w: 1024, h: 1024},
		{in: "1536X1024", w: 1536, h: 1024},
		{in: " 512x768 ", w: 512, h: 768},
		{in: "0001x2", w: 1, h: 2},
		{in: "65536x1", w: 65536, h: 1},
		{in: "auto", auto: true},
		{in: "AUTO", auto: true},
		{in: "", invalid: true},
		{in: "big", invalid: true},
		{in: "1024", invalid: true},
		{in: "1024x", invalid: true},
		{in: "x1024", invalid: true},
		{in: "0x512", invalid: true},
		{in: "-1x512", invalid: true},
		{in: "+1x512", invalid: true},
		{in: "1024x1024x3", invalid: true},
		{in: "1024 x 1024", invalid: true},
		{in: "1024.0x512", invalid: true},
		{in: "65537x1", invalid: true},
		{in: "9999999x1", invalid: true},
		{in: "１０２４x1024", invalid: true}, // full-width digits
		{in: "1024×1024", invalid: true}, // multiplication sign
	}
	for _, tt := range tests {
		w, h, auto, err := ParseSize(tt.in)
		if tt.invalid {
			if err == nil {
				t.Errorf("ParseSize(%q) = %d, %d, %v; want an error", tt.in, w, h, auto)
			}
			continue
		}
		if err != nil || w != tt.w || h != tt.h || auto != tt.auto {
			t.Errorf("ParseSize(%q) = %d, %d, %v, %v; want %d, %d, %v", tt.in, w, h, auto, err, tt.w, tt.h, tt.auto)
		}
	}
}

var (
	presetNames = []string{"square_hd", "square", "portrait_4_3", "portrait_16_9", "landscape_4_3", "landscape_16_9"}
	// The specs below are written out by hand, as falschema reduces the
	// corresponding test documents.
	objectOrPreset = falschema.SizeSpec{Kind: falschema.SizeImageSize, Field: "image_size", Object: true,
		Presets: presetNames, MinW: 1, MaxW: 14142, MinH: 1, MaxH: 14142}
	presetsOnly = falschema.SizeSpec{Kind: falschema.SizeImageSize, Field: "image_size", Presets: presetNames}
	seedream    = falschema.SizeSpec{Kind: falschema.SizeImageSize, Field: "image_size", Object: true,
		Presets: append(presetNames[:6:6], "auto", "auto_2K"), MinW: 1024, MaxW: 4096, MinH: 1024, MaxH: 4096}
	widthHeight = falschema.SizeSpec{Kind: falschema.SizeWidthHeight, MinW: 256, MaxW: 1440, MinH: 256, MaxH: 1440, Multiple: 32}
	freeAspect  = falschema.SizeSpec{Kind: falschema.SizeAspectRatio, Field: "aspect_ratio", FreeAspect: true,
		AspectRatios: []string{"21:9", "16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16", "9:21"}}
	closedAspect = falschema.SizeSpec{Kind: falschema.SizeAspectRatio, Field: "aspect_ratio",
		AspectRatios: []string{"10:16", "16:10", "9:16", "16:9", "4:3", "3:4", "1:1", "1:3", "3:1", "3:2", "2:3"}}
	aspectTiers = falschema.SizeSpec{Kind: falschema.SizeAspectRatio, Field: "aspect_ratio",
		AspectRatios: []string{"1:1", "16:9", "9:16", "3:4", "4:3"},
		Resolution:   &falschema.EnumField{Field: "resolution", Values: []string{"1K", "2K"}}}
	pixelEnum = falschema.SizeSpec{Kind: falschema.SizePixels, Field: "image_size", Presets: []string{"auto"},
		Pixels: []string{"1024x1024", "1536x1024", "1024x1536"}}
	freePixels = falschema.SizeSpec{Kind: falschema.SizePixels, Field: "size", FreePixels: true}
	tiersOnly  = falschema.SizeSpec{Kind: falschema.SizeResolution,
		Resolution: &falschema.EnumField{Field: "resolution", Values: []string{"0.5K", "1K", "2K", "4K"}}}
)

func obj(w, h int) map[string]any { return map[string]any{"width": w, "height": h} }

// sizeFields collects the fields mapSize sets.
func sizeFields(w, h int, spec falschema.SizeSpec) (map[string]any, string) {
	fields := map[string]any{}
	echo := mapSize(w, h, spec, func(field string, v any) { fields[field] = v })
	return fields, echo
}

// TestMapSize lists, per size family, hand-computed mappings.
func TestMapSize(t *testing.T) {
	tests := []struct {
		name string
		spec falschema.SizeSpec
		w, h int
		want map[string]any
		echo string
	}{
		// image_size: exact presets first, then the object.
		{"preset exact 4:3", objectOrPreset, 1024, 768, map[string]any{"image_size": "landscape_4_3"}, "1024x768"},
		{"preset exact square_hd", objectOrPreset, 1024, 1024, map[string]any{"image_size": "square_hd"}, "1024x1024"},
		{"preset exact square", objectOrPreset, 512, 512, map[string]any{"image_size": "square"}, "512x512"},
		{"preset exact portrait 16:9", objectOrPreset, 576, 1024, map[string]any{"image_size": "portrait_16_9"}, "576x1024"},
		{"object when no preset matches", objectOrPreset, 1536, 1024, map[string]any{"image_size": obj(1536, 1024)}, "1536x1024"},
		{"object scaled into the maximum", objectOrPreset, 20000, 10000, map[string]any{"image_size": obj(14142, 7071)}, "14142x7071"},
		// image_size presets without an object: nearest aspect ratio.
		{"nearest preset 3:2 → 4:3", presetsOnly, 1536, 1024, map[string]any{"image_size": "landscape_4_3"}, "1024x768"},
		{"nearest preset 7:4 → 16:9", presetsOnly, 1792, 1024, map[string]any{"image_size": "landscape_16_9"}, "1024x576"},
		{"nearest preset tie → closer area (hd)", presetsOnly, 2048, 2048, map[string]any{"image_size": "square_hd"}, "1024x1024"},
		{"nearest preset tie → closer area (square)", presetsOnly, 600, 600, map[string]any{"image_size": "square"}, "512x512"},
		{"nearest preset portrait", presetsOnly, 1024, 1792, map[string]any{"image_size": "portrait_16_9"}, "576x1024"},
		// image_size object with bounds from prose (1024..4096).
		{"object scaled up to the minimum", seedream, 800, 600, map[string]any{"image_size": obj(1365, 1024)}, "1365x1024"},
		{"exact preset wins over bounds", seedream, 512, 512, map[string]any{"image_size": "square"}, "512x512"},
		{"no scale fits both bounds", seedream, 5000, 1000, map[string]any{"image_size": obj(4096, 1024)}, "4096x1024"},
		// width and height: bounds 256..1440, multiples of 32.
		{"width/height inside", widthHeight, 1024, 1024, map[string]any{"width": 1024, "height": 1024}, "1024x1024"},
		{"width/height scaled down, rounded", widthHeight, 2048, 1024, map[string]any{"width": 1440, "height": 736}, "1440x736"},
		{"width/height scaled up", widthHeight, 100, 100, map[string]any{"width": 256, "height": 256}, "256x256"},
		{"width/height rounded to multiples", widthHeight, 1000, 700, map[string]any{"width": 992, "height": 704}, "992x704"},
		{"width/height clamped side by side", widthHeight, 4000, 500, map[string]any{"width": 1440, "height": 256}, "1440x256"},
		// aspect_ratio with free strings.
		{"aspect exact enum", freeAspect, 1920, 1080, map[string]any{"aspect_ratio": "16:9"}, ""},
		{"aspect square", freeAspect, 1024, 1024, map[string]any{"aspect_ratio": "1:1"}, ""},
		{"aspect free reduced", freeAspect, 1792, 1024, map[string]any{"aspect_ratio": "7:4"}, ""},
		{"aspect free coprime", freeAspect, 1000, 1001, map[string]any{"aspect_ratio": "1000:1001"}, ""},
		// aspect_ratio enumeration only: nearest by log ratio.
		{"aspect nearest 7:4 → 16:9", closedAspect, 1792, 1024, map[string]any{"aspect_ratio": "16:9"}, ""},
		{"aspect exact 2:3", closedAspect, 1024, 1536, map[string]any{"aspect_ratio": "2:3"}, ""},
		{"aspect nearest 6:5 → 4:3", closedAspect, 1200, 1000, map[string]any{"aspect_ratio": "4:3"}, ""},
		{"aspect beyond the widest", closedAspect, 5000, 1000, map[string]any{"aspect_ratio": "3:1"}, ""},
		// aspect_ratio with resolution tiers.
		{"tiers 1K", aspectTiers, 1024, 1024, map[string]any{"aspect_ratio": "1:1", "resolution": "1K"}, ""},
		{"tiers 2K", aspectTiers, 1920, 1080, map[string]any{"aspect_ratio": "16:9", "resolution": "2K"}, ""},
		{"tiers tie goes up", aspectTiers, 1536, 1024, map[string]any{"aspect_ratio": "4:3", "resolution": "2K"}, ""},
		{"tiers 720p-ish", aspectTiers, 1280, 720, map[string]any{"aspect_ratio": "16:9", "resolution": "1K"}, ""},
		// pixel strings.
		{"pixels exact", pixelEnum, 1536, 1024, map[string]any{"image_size": "1536x1024"}, "1536x1024"},
		{"pixels nearest landscape", pixelEnum, 1792, 1024, map[string]any{"image_size": "1536x1024"}, "1536x1024"},
		{"pixels nearest square", pixelEnum, 512, 512, map[string]any{"image_size": "1024x1024"}, "1024x1024"},
		{"pixels nearest portrait", pixelEnum, 1024, 1792, map[string]any{"image_size": "1024x1536"}, "1024x1536"},
		{"pixels free", freePixels, 1000, 700, map[string]any{"size": "1000x700"}, "1000x700"},
		// resolution tiers alone.
		{"tier 0.5K", tiersOnly, 600, 400, map[string]any{"resolution": "0.5K"}, ""},
		{"tier 2K", tiersOnly, 3000, 2000, map[string]any{"resolution": "2K"}, ""},
		{"tier 4K", tiersOnly, 3100, 100, map[string]any{"resolution": "4K"}, ""},
		// no size control.
		{"none", falschema.SizeSpec{Kind: falschema.SizeNone}, 1024, 1024, map[string]any{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, echo := sizeFields(tt.w, tt.h, tt.spec)
			if !reflect.DeepEqual(got, tt.want) || echo != tt.echo {
				t.Errorf("mapSize(%dx%d) = %v %q, want %v %q", tt.w, tt.h, got, echo, tt.want, tt.echo)
			}
		})
	}
}

func TestAutoSize(t *testing.T) {
	tests := []struct {
		spec falschema.SizeSpec
		want string
	}{
		{seedream, "image_size"},
		{pixelEnum, "image_size"},
		{objectOrPreset, ""},
		{freeAspect, ""},
		{falschema.SizeSpec{Kind: falschema.SizeAspectRatio, Field: "aspect_ratio", AspectRatios: []string{"auto", "1:1"}}, "aspect_ratio"},
		{tiersOnly, ""},
	}
	for _, tt := range tests {
		if got := autoField(tt.spec); got != tt.want {
			t.Errorf("autoField(%+v) = %q, want %q", tt.spec, got, tt.want)
		}
	}
}

func TestTierSide(t *testing.T) {
	tests := map[string]float64{"1K": 1024, "0.5K": 512, "2k": 2048, "4K": 4096, "720p": 1280, "1080P": 1920, "1536": 1536}
	for in, want := range tests {
		if got, ok := tierSide(in, LongSide); !ok || got != want {
			t.Errorf("tierSide(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
	for _, bad := range []string{"HD", "", "K", "-1K", "1KK"} {
		if _, ok := tierSide(bad, LongSide); ok {
			t.Errorf("tierSide(%q) accepted", bad)
		}
	}
	if got := NearestTier(1024, []string{"HD", "SD"}, LongSide); got != "" {
		t.Errorf("unparseable tiers chose %q", got)
	}
}

func TestRoundTo(t *testing.T) {
	tests := []struct{ x, m, lo, hi, want int }{
		{1000, 32, 0, 0, 992},
		{1008, 32, 0, 0, 1024}, // 31.5 rounds up
		{10, 32, 0, 0, 32},     // never zero
		{260, 64, 256, 300, 256},
		{1440, 64, 0, 1440, 1408},
		{300, 64, 280, 310, 300}, // no multiple inside the bounds: kept
		{77, 1, 0, 0, 77},
	}
	for _, tt := range tests {
		if got := roundTo(tt.x, tt.m, tt.lo, tt.hi); got != tt.want {
			t.Errorf("roundTo(%d, %d, %d, %d) = %d, want %d", tt.x, tt.m, tt.lo, tt.hi, got, tt.want)
		}
	}
}

// TestTierByShortSide: video tiers name the short side of the frame.
func TestTierByShortSide(t *testing.T) {
	for in, want := range map[string]float64{"720p": 720, "1080P": 1080, "4k": 2160, "480": 480} {
		if got, ok := tierSide(in, ShortSide); !ok || got != want {
			t.Errorf("tierSide(%q, ShortSide) = %v, %v; want %v", in, got, ok, want)
		}
	}
	tiers := []string{"480p", "720p", "1080p", "4k"}
	for side, want := range map[int]string{720: "720p", 1080: "1080p", 2160: "4k", 600: "720p"} {
		if got := NearestTier(side, tiers, ShortSide); got != want {
			t.Errorf("NearestTier(%d, ShortSide) = %q, want %q", side, got, want)
		}
	}
}
