package falschema

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// pixelsRe matches a "WxH" size string.
var pixelsRe = regexp.MustCompile(`^[1-9][0-9]{0,5}x[1-9][0-9]{0,5}$`)

// Size rules fal writes only in prose, as in "Width and height must be
// between 1024 and 4096" or "a multiple of 8".
var (
	betweenRe  = regexp.MustCompile(`(?i)between\s+(\d{1,7})(?:\s*px)?\s+and\s+(\d{1,7})`)
	multipleRe = regexp.MustCompile(`(?i)(?:multiples?\s+of|divisible\s+by)\s+(\d{1,7})`)
)

// sizeSpec finds how the model takes a size. The families are tried in
// the order a model would honour them: an image_size (or size) field, then
// width and height, then aspect_ratio; a resolution tier field applies on
// top of any of them.
func sizeSpec(d *document, props map[string]*property) (SizeSpec, error) {
	s := SizeSpec{Kind: SizeNone}
	for _, name := range []string{"image_size", "size"} {
		if p := props[name]; p != nil {
			ok, err := s.fromSizeField(d, name, p)
			if err != nil {
				return s, fmt.Errorf("property %q: %w", name, err)
			}
			if ok {
				break
			}
		}
	}
	if w, h := props["width"], props["height"]; s.Kind == SizeNone && w != nil && h != nil && w.field.takes("integer") && h.field.takes("integer") {
		s.Kind = SizeWidthHeight
		bw, bh := boundsOf(w.variants), boundsOf(h.variants)
		s.setBounds(bw, bh)
	}
	if p := props["aspect_ratio"]; s.Kind == SizeNone && p != nil && p.field.takes("string") {
		s.Kind, s.Field = SizeAspectRatio, "aspect_ratio"
		s.AspectRatios = p.field.strings()
		s.FreeAspect = p.field.Open || len(s.AspectRatios) == 0
	}
	if r := enumField(props, "resolution"); r != nil && len(r.Values) > 0 {
		s.Resolution = r
		if s.Kind == SizeNone {
			s.Kind = SizeResolution
		}
	}
	return s, nil
}

// fromSizeField reads an image_size-like field: presets, "WxH" strings,
// a {width, height} object, or any mix. It reports false when the field
// offers none of them.
func (s *SizeSpec) fromSizeField(d *document, name string, p *property) (bool, error) {
	next := SizeSpec{Kind: SizeNone, Field: name}
	var bw, bh bounds
	for _, v := range p.variants {
		w, h := v.props["width"], v.props["height"]
		switch kinds := v.kinds(); {
		case w != nil && h != nil:
			wv, _, err := d.variants(w)
			if err != nil {
				return false, fmt.Errorf("width: %w", err)
			}
			hv, _, err := d.variants(h)
			if err != nil {
				return false, fmt.Errorf("height: %w", err)
			}
			next.Object = true
			bw, bh = boundsOf(wv), boundsOf(hv)
		case v.hasEnum:
			for _, e := range v.enum {
				if str, ok := e.(string); ok {
					next.addValue(str)
				}
			}
		case slices.Contains(kinds, "string"):
			next.FreePixels = true
		}
	}
	named := slices.ContainsFunc(next.Presets, func(p string) bool { return !strings.HasPrefix(p, "auto") })
	switch {
	case next.Object || named:
		next.Kind = SizeImageSize
	case len(next.Pixels) > 0 || next.FreePixels:
		next.Kind = SizePixels
	case len(next.Presets) > 0:
		next.Kind = SizeImageSize
	default:
		return false, nil
	}
	if len(p.variants) > 0 {
		prose := parseBounds(p.variants[0].desc)
		bw, bh = bw.tighten(prose), bh.tighten(prose)
	}
	next.setBounds(bw, bh)
	*s = next
	return true, nil
}

// addValue files an enumerated size value as pixels or as a preset name.
func (s *SizeSpec) addValue(v string) {
	if pixelsRe.MatchString(v) {
		if !slices.Contains(s.Pixels, v) {
			s.Pixels = append(s.Pixels, v)
		}
	} else if !slices.Contains(s.Presets, v) {
		s.Presets = append(s.Presets, v)
	}
}

func (s *SizeSpec) setBounds(w, h bounds) {
	s.MinW, s.MaxW, s.MinH, s.MaxH = w.min, w.max, h.min, h.max
	s.Multiple = max(w.multiple, h.multiple)
}

// bounds are integer pixel limits; zero means none.
type bounds struct{ min, max, multiple int }

// boundsOf reads the limits of an integer dimension from its first
// alternative: the schema keywords, tightened by its description's prose.
func boundsOf(vs []*node) bounds {
	if len(vs) == 0 {
		return bounds{}
	}
	v := vs[0]
	var b bounds
	if lo, ok := lowerInt(v.min, v.exclMin); ok {
		b.min = lo
	}
	if hi, ok := upperInt(v.max, v.exclMax); ok && hi > 0 {
		b.max = hi
	}
	if v.multiple >= 1 && v.multiple <= maxInt && v.multiple == float64(int(v.multiple)) {
		b.multiple = int(v.multiple)
	}
	return b.tighten(parseBounds(v.desc))
}

// parseBounds reads "between A and B" and "multiple of N" from prose.
func parseBounds(text string) bounds {
	var b bounds
	if m := betweenRe.FindStringSubmatch(text); m != nil {
		lo, _ := strconv.Atoi(m[1])
		hi, _ := strconv.Atoi(m[2])
		if lo <= hi && hi <= maxInt {
			b.min, b.max = lo, hi
		}
	}
	if m := multipleRe.FindStringSubmatch(text); m != nil {
		if n, _ := strconv.Atoi(m[1]); n > 1 && n <= maxInt {
			b.multiple = n
		}
	}
	return b
}

// tighten combines two sets of limits, keeping the stricter of each. A
// contradictory pair (minimum above maximum) keeps b's own limits.
func (b bounds) tighten(o bounds) bounds {
	t := b
	if o.min > t.min {
		t.min = o.min
	}
	if o.max > 0 && (t.max == 0 || o.max < t.max) {
		t.max = o.max
	}
	if t.multiple == 0 {
		t.multiple = o.multiple
	}
	if t.max > 0 && t.min > t.max {
		return b
	}
	return t
}
