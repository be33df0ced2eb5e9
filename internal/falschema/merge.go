package falschema

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
)

// merge combines two schemas that must both hold (allOf). Conflicts are
// resolved leniently: the first schema's value wins where the two cannot
// be combined.
func merge(a, b *node) *node {
	m := *a
	m.types = intersectTypes(a.types, b.types)
	m.nullable = a.nullable || b.nullable
	switch {
	case a.hasEnum && b.hasEnum:
		m.enum = intersectValues(a.enum, b.enum)
	case b.hasEnum:
		m.enum, m.hasEnum = b.enum, true
	}
	m.props = mergeProps(a.props, b.props)
	m.required = slices.Concat(a.required, b.required)
	if m.items == nil {
		m.items = b.items
	}
	m.min, m.exclMin = tighter(a.min, a.exclMin, b.min, b.exclMin, func(x, y float64) bool { return x > y })
	m.max, m.exclMax = tighter(a.max, a.exclMax, b.max, b.exclMax, func(x, y float64) bool { return x < y })
	if m.multiple == 0 {
		m.multiple = b.multiple
	}
	if b.maxItems != nil && (m.maxItems == nil || *b.maxItems < *m.maxItems) {
		m.maxItems = b.maxItems
	}
	if b.maxLen > 0 && (m.maxLen == 0 || b.maxLen < m.maxLen) {
		m.maxLen = b.maxLen
	}
	if m.def == nil {
		m.def = b.def
	}
	if m.desc == "" {
		m.desc = b.desc
	}
	return &m
}

// intersectTypes returns the types both accept; an empty list accepts all.
// "integer" is a subset of "number".
func intersectTypes(a, b []string) []string {
	if len(a) == 0 {
		return b
	}
	if len(b) == 0 {
		return a
	}
	var out []string
	for _, t := range a {
		switch {
		case slices.Contains(b, t):
			out = append(out, t)
		case t == "integer" && slices.Contains(b, "number"), t == "number" && slices.Contains(b, "integer"):
			out = append(out, "integer")
		}
	}
	if len(out) == 0 {
		return a // contradictory: keep the first
	}
	return out
}

func intersectValues(a, b []any) []any {
	var out []any
	for _, x := range a {
		if slices.ContainsFunc(b, func(y any) bool { return reflect.DeepEqual(x, y) }) {
			out = append(out, x)
		}
	}
	if len(out) == 0 {
		return a // contradictory: keep the first
	}
	return out
}

// mergeProps unites two property sets; a property in both must satisfy
// both schemas, which is written as an allOf of the two.
func mergeProps(a, b map[string]json.RawMessage) map[string]json.RawMessage {
	if len(a) == 0 {
		return b
	}
	if len(b) == 0 {
		return a
	}
	m := maps.Clone(a)
	for k, v := range b {
		if prev, ok := m[k]; ok {
			v = slices.Concat([]byte(`{"allOf":[`), prev, []byte(","), v, []byte("]}"))
		}
		m[k] = v
	}
	return m
}

// tighter picks the stricter of two optional bounds; stricter(x, y)
// reports that x is stricter than y.
func tighter(a *float64, aExcl bool, b *float64, bExcl bool, stricter func(x, y float64) bool) (*float64, bool) {
	switch {
	case a == nil:
		return b, bExcl
	case b == nil:
		return a, aExcl
	case stricter(*b, *a) || *a == *b && bExcl:
		return b, bExcl
	}
	return a, aExcl
}
