package images

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/openai"
)

// MaxSide is the largest width or height ParseSize accepts.
const MaxSide = 65536

// ParseSize reads an OpenAI size: "WxH" with positive decimal integers of
// at most MaxSide (an upper-case X is accepted too), or "auto" in any case.
// Surrounding spaces are ignored.
func ParseSize(s string) (w, h int, auto bool, err error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "auto") {
		return 0, 0, true, nil
	}
	i := strings.IndexAny(s, "xX")
	if i < 0 {
		return 0, 0, false, errors.New("expected WIDTHxHEIGHT or auto")
	}
	if w, err = side(s[:i]); err == nil {
		h, err = side(s[i+1:])
	}
	if err != nil {
		return 0, 0, false, err
	}
	return w, h, false, nil
}

// side parses one dimension: ASCII digits only, 1..MaxSide.
func side(s string) (int, error) {
	if s == "" || len(s) > 6 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, errors.New("each side must be a whole number of pixels")
	}
	n, _ := strconv.Atoi(s) // at most 6 digits: cannot fail
	if n < 1 || n > MaxSide {
		return 0, fmt.Errorf("%d is outside 1..%d", n, MaxSide)
	}
	return n, nil
}

// applySize maps the request's size onto the model and returns the "WxH"
// to echo.
func applySize(b *builder, size string) (string, *openai.Error) {
	if strings.TrimSpace(size) == "" {
		return "", nil
	}
	w, h, auto, err := ParseSize(size)
	if err != nil {
		return "", openai.InvalidRequest("size", "invalid_value",
			"Invalid 'size' %q: %v. Use WIDTHxHEIGHT, for example 1024x1024, or auto.", openai.Echo(size), err)
	}
	spec := b.caps.Size
	if auto {
		if f := autoField(spec); f != "" {
			b.set(f, "auto")
		}
		return "", nil
	}
	return mapSize(w, h, spec, b.set), nil
}

// autoField is the field that takes the value "auto", if any.
func autoField(s falschema.SizeSpec) string {
	switch {
	case s.Field == "":
		return ""
	case slices.Contains(s.Presets, "auto"), slices.Contains(s.AspectRatios, "auto"):
		return s.Field
	}
	return ""
}

// knownPresets are the pixel sizes of fal's named image_size presets.
var knownPresets = map[string][2]int{
	"square_hd":      {1024, 1024},
	"square":         {512, 512},
	"portrait_4_3":   {768, 1024},
	"portrait_16_9":  {576, 1024},
	"landscape_4_3":  {1024, 768},
	"landscape_16_9": {1024, 576},
}

// mapSize maps a w×h request onto a size family. It hands the fields to
// send to set (the plan's builder, with no map of their own in between)
// and returns the "WxH" they stand for ("" when unknown, as for an aspect
// ratio). The rules:
//   - image_size: the preset with exactly these pixels, else an equal "WxH"
//     value, else the {width, height} object (fitted to the bounds), else
//     the preset nearest in aspect ratio;
//   - width/height: both fields, fitted to the bounds;
//   - pixel strings: the equal value, else any "WxH" when free, else the
//     nearest in aspect ratio;
//   - aspect_ratio: the enumerated value equal to w:h, else w:h reduced by
//     their gcd when any string is allowed, else the nearest enumerated
//     ratio;
//   - resolution tiers, with any family: the tier nearest to max(w, h).
//
// Fitting never fails: a size outside the bounds is scaled (keeping its
// aspect ratio) into them, or clamped side by side when no scale fits both,
// then rounded to the nearest allowed multiple.
func mapSize(w, h int, s falschema.SizeSpec, set func(field string, v any)) (echo string) {
	switch s.Kind {
	case falschema.SizeImageSize, falschema.SizePixels:
		if v, e := sizeValue(w, h, s); v != nil {
			set(s.Field, v)
			echo = e
		}
	case falschema.SizeWidthHeight:
		fw, fh := fit(w, h, s)
		set("width", fw)
		set("height", fh)
		echo = pixels(fw, fh)
	case falschema.SizeAspectRatio:
		if r := aspectValue(w, h, s); r != "" {
			set(s.Field, r)
		}
	}
	if r := s.Resolution; r != nil {
		if t := NearestTier(max(w, h), r.Values, LongSide); t != "" {
			set(r.Field, t)
		}
	}
	return echo
}

// sizeValue picks the value of an image_size-like field.
func sizeValue(w, h int, s falschema.SizeSpec) (any, string) {
	want := pixels(w, h)
	for _, p := range s.Presets {
		if d, ok := knownPresets[p]; ok && d == [2]int{w, h} {
			return p, want
		}
	}
	if slices.Contains(s.Pixels, want) {
		return want, want
	}
	if s.Object {
		fw, fh := fit(w, h, s)
		return map[string]any{"width": fw, "height": fh}, pixels(fw, fh)
	}
	if s.FreePixels {
		return want, want
	}
	var cands []candidate
	for _, p := range s.Presets {
		if d, ok := knownPresets[p]; ok {
			cands = append(cands, candidate{p, float64(d[0]), float64(d[1])})
		}
	}
	for _, p := range s.Pixels {
		if pw, ph, _, err := ParseSize(p); err == nil {
			cands = append(cands, candidate{p, float64(pw), float64(ph)})
		}
	}
	c, ok := nearest(float64(w), float64(h), cands)
	if !ok {
		return nil, ""
	}
	return c.value, pixels(int(c.w), int(c.h))
}

// aspectValue picks the aspect_ratio value for w×h.
func aspectValue(w, h int, s falschema.SizeSpec) string {
	c, ok := nearest(float64(w), float64(h), ratioCandidates(s.AspectRatios))
	if ok && math.Abs(logRatio(float64(w), float64(h))-logRatio(c.w, c.h)) < 1e-9 {
		return c.value
	}
	if s.FreeAspect {
		g := gcd(w, h)
		return fmt.Sprintf("%d:%d", w/g, h/g)
	}
	if ok {
		return c.value
	}
	return ""
}

// fit brings w×h within the spec's bounds and multiple. It scales by the
// smallest factor that reaches the minimums, unless the maximums demand a
// smaller one; when no single factor satisfies both, the maximums win and
// the sides below their minimum are raised, bending the aspect ratio as
// little as the bounds allow.
func fit(w, h int, s falschema.SizeSpec) (int, int) {
	fw, fh := float64(w), float64(h)
	need := max(float64(s.MinW)/fw, float64(s.MinH)/fh)
	room := math.Inf(1)
	if s.MaxW > 0 {
		room = min(room, float64(s.MaxW)/fw)
	}
	if s.MaxH > 0 {
		room = min(room, float64(s.MaxH)/fh)
	}
	scale := max(need, 1)
	scale = min(scale, room)
	nw := clampInt(int(math.Round(fw*scale)), s.MinW, s.MaxW)
	nh := clampInt(int(math.Round(fh*scale)), s.MinH, s.MaxH)
	return roundTo(nw, s.Multiple, s.MinW, s.MaxW), roundTo(nh, s.Multiple, s.MinH, s.MaxH)
}

// clampInt limits x to [lo, hi]; zero bounds are absent. The result is at
// least 1.
func clampInt(x, lo, hi int) int {
	x = max(x, lo, 1)
	if hi > 0 {
		x = min(x, hi)
	}
	return x
}

// roundTo rounds x to the nearest multiple of m that lies within [lo, hi]
// (zero bounds are absent). Without such a multiple x is kept.
func roundTo(x, m, lo, hi int) int {
	if m <= 1 {
		return x
	}
	first := max((lo+m-1)/m, 1) * m // smallest usable multiple
	r := int(math.Round(float64(x)/float64(m))) * m
	r = max(r, first)
	if hi > 0 {
		last := hi / m * m
		if last < first {
			return x
		}
		r = min(r, last)
	}
	return r
}

func pixels(w, h int) string { return strconv.Itoa(w) + "x" + strconv.Itoa(h) }
