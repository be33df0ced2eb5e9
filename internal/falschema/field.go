package falschema

import (
	"math"
	"reflect"
	"slices"
)

// fieldOf summarises the alternatives of one property as a Field.
func fieldOf(vs []*node, nullable bool) Field {
	f := Field{Nullable: nullable}
	anyType := false
	var numeric []*node
	for _, v := range vs {
		kinds := v.kinds()
		if len(kinds) == 0 {
			anyType = true
		}
		for _, k := range kinds {
			if !slices.Contains(f.Types, k) {
				f.Types = append(f.Types, k)
			}
		}
		if v.hasEnum {
			for _, e := range v.enum {
				if !slices.ContainsFunc(f.Enum, func(x any) bool { return reflect.DeepEqual(x, e) }) {
					f.Enum = append(f.Enum, e)
				}
			}
		} else {
			f.Open = true
		}
		if len(kinds) == 0 || slices.Contains(kinds, "integer") || slices.Contains(kinds, "number") {
			numeric = append(numeric, v)
		}
		if f.Default == nil {
			f.Default = v.def
		}
	}
	if anyType {
		f.Types = nil
	}
	slices.Sort(f.Types)
	if len(f.Enum) == 0 {
		f.Open = false
	}
	f.Min, f.ExclMin = widest(numeric, func(v *node) (*float64, bool) { return v.min, v.exclMin }, math.Min)
	f.Max, f.ExclMax = widest(numeric, func(v *node) (*float64, bool) { return v.max, v.exclMax }, math.Max)
	for _, v := range numeric {
		if v.multiple > 0 {
			f.Multiple = v.multiple
			break
		}
	}
	return f
}

// widest returns the loosest of the bounds of vs: nil when any of them is
// unbounded, else the smallest minimum (pick = math.Min) or the largest
// maximum (pick = math.Max).
func widest(vs []*node, get func(*node) (*float64, bool), pick func(x, y float64) float64) (*float64, bool) {
	var best *float64
	excl := false
	for _, v := range vs {
		b, e := get(v)
		if b == nil {
			return nil, false
		}
		if best == nil || pick(*b, *best) != *best || *b == *best && !e {
			best, excl = b, e
		}
	}
	return best, excl
}

// kinds returns the JSON types a plain schema accepts: declared, or
// inferred from its other keywords. Empty means any.
func (n *node) kinds() []string {
	if len(n.types) > 0 {
		return n.types
	}
	switch {
	case len(n.props) > 0:
		return []string{"object"}
	case n.items != nil:
		return []string{"array"}
	case n.hasEnum:
		var ks []string
		for _, e := range n.enum {
			if k := jsonKind(e); !slices.Contains(ks, k) {
				ks = append(ks, k)
			}
		}
		return ks
	}
	return nil
}

// jsonKind names the JSON type of a decoded value.
func jsonKind(v any) string {
	switch x := v.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64:
		if x == math.Trunc(x) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	}
	return "object"
}

// strings returns the string members of the field's enumeration.
func (f Field) strings() []string {
	var out []string
	for _, e := range f.Enum {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// takes reports whether the field accepts values of JSON type t.
func (f Field) takes(t string) bool {
	return len(f.Types) == 0 || slices.Contains(f.Types, t)
}
