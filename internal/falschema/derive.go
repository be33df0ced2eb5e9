package falschema

import (
	"math"
	"slices"
)

// maxInt bounds every integer taken from a schema, so that absurd numbers
// in a document cannot overflow the arithmetic of the mapper.
const maxInt = 1 << 20

// derive computes the Capabilities of an input from its resolved
// properties.
func derive(d *document, endpoint string, props map[string]*property, required []string) (*Capabilities, error) {
	c := &Capabilities{
		Endpoint:      endpoint,
		Fields:        make(map[string]Field, len(props)),
		Required:      required,
		Prompt:        props["prompt"] != nil,
		Seed:          props["seed"] != nil,
		SyncMode:      props["sync_mode"] != nil,
		SafetyChecker: props["enable_safety_checker"] != nil,
	}
	for name, p := range props {
		c.Fields[name] = p.field
		if s := p.field.strings(); len(s) > 0 {
			if c.Enums == nil {
				c.Enums = map[string][]string{}
			}
			c.Enums[name] = s
		}
	}
	if p := props["num_images"]; p != nil {
		c.NumImages = countRange(p.field)
	}
	c.OutputFormat = enumField(props, "output_format", "format")
	c.ImageInput = imageInput(props, required)
	size, err := sizeSpec(d, props)
	if err != nil {
		return nil, err
	}
	c.Size = size
	return c, nil
}

// countRange reads an integer count field's range; the minimum is at
// least 1.
func countRange(f Field) *IntRange {
	r := &IntRange{Min: 1}
	if lo, ok := lowerInt(f.Min, f.ExclMin); ok && lo > 1 {
		r.Min = lo
	}
	if hi, ok := upperInt(f.Max, f.ExclMax); ok {
		r.Max = max(hi, r.Min)
	} else if f.Max == nil && !f.Open {
		for _, e := range f.Enum {
			if x, ok := e.(float64); ok && x >= 1 && x <= maxInt {
				r.Max = max(r.Max, int(x))
			}
		}
	}
	return r
}

// lowerInt turns a lower bound into the smallest integer it allows.
func lowerInt(b *float64, excl bool) (int, bool) {
	if b == nil || *b > maxInt {
		return 0, false
	}
	x := math.Ceil(*b)
	if excl && x == *b {
		x++
	}
	return int(max(x, 0)), true
}

// upperInt turns an upper bound into the largest integer it allows.
func upperInt(b *float64, excl bool) (int, bool) {
	if b == nil || *b < 0 || *b > maxInt {
		return 0, false
	}
	x := math.Floor(*b)
	if excl && x == *b {
		x--
	}
	return int(max(x, 0)), true
}

// enumField describes the first of names that is a declared string field.
func enumField(props map[string]*property, names ...string) *EnumField {
	for _, name := range names {
		p := props[name]
		if p == nil || !p.field.takes("string") {
			continue
		}
		vals := p.field.strings()
		return &EnumField{Field: name, Values: vals, Open: p.field.Open || len(vals) == 0}
	}
	return nil
}

// imageInput finds the input-image field of an edit model: a required one
// first, then "image_urls" before "image_url".
func imageInput(props map[string]*property, required []string) *ImageInput {
	names := []string{"image_urls", "image_url"}
	slices.SortStableFunc(names, func(a, b string) int {
		return boolRank(slices.Contains(required, a)) - boolRank(slices.Contains(required, b))
	})
	for _, name := range names {
		p := props[name]
		if p == nil {
			continue
		}
		in := &ImageInput{Field: name, Required: slices.Contains(required, name)}
		in.Multiple = slices.Contains(p.field.Types, "array") || len(p.field.Types) == 0 && name == "image_urls"
		if in.Multiple {
			for _, v := range p.variants {
				if v.maxItems != nil && *v.maxItems > 0 {
					in.MaxImages = min(*v.maxItems, maxInt)
					break
				}
			}
		}
		for _, mask := range []string{"mask_url", "mask_image_url"} {
			if props[mask] != nil {
				in.MaskField, in.MaskRequired = mask, slices.Contains(required, mask)
				break
			}
		}
		return in
	}
	return nil
}

// boolRank orders true before false.
func boolRank(b bool) int {
	if b {
		return 0
	}
	return 1
}
