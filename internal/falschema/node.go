package falschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
)

// node is one JSON Schema object as fal's documents write it. Decoding is
// lenient: a keyword whose value has an unexpected JSON type is ignored
// rather than rejected, because a reduction that skips one odd keyword is
// more useful than none. Sub-schemas stay raw and are decoded on demand.
type node struct {
	ref      string
	types    []string // "type", from a string or an array; never contains "null"
	nullable bool     // nullable: true, or "null" among the types
	nullOnly bool     // the schema accepts only null
	enum     []any    // enum (or const) values, null excluded
	hasEnum  bool
	props    map[string]json.RawMessage
	required []string
	items    json.RawMessage
	allOf    []json.RawMessage
	anyOf    []json.RawMessage
	oneOf    []json.RawMessage
	min, max *float64
	exclMin  bool
	exclMax  bool
	multiple float64
	maxItems *int
	maxLen   int // maxLength of a string, 0 if none
	def      json.RawMessage
	desc     string
}

var errNotSchema = errors.New("schema is not a JSON object")

// decodeNode decodes one schema. Boolean schemas (true/false) decode to an
// empty node, which accepts anything.
func decodeNode(raw json.RawMessage) (*node, error) {
	raw = bytes.TrimSpace(raw)
	if bytes.Equal(raw, []byte("true")) || bytes.Equal(raw, []byte("false")) {
		return &node{}, nil
	}
	var kw map[string]json.RawMessage
	if err := json.Unmarshal(raw, &kw); err != nil || kw == nil {
		return nil, errNotSchema
	}
	n := &node{}
	lenient(kw["$ref"], &n.ref)
	n.types, n.nullable = decodeTypes(kw["type"])
	n.nullOnly = n.nullable && len(n.types) == 0
	var nullable bool
	lenient(kw["nullable"], &nullable)
	n.nullable = n.nullable || nullable
	n.decodeEnum(kw)
	lenient(kw["properties"], &n.props)
	lenient(kw["required"], &n.required)
	if it := kw["items"]; len(it) > 0 && it[0] == '{' {
		n.items = it
	}
	lenient(kw["allOf"], &n.allOf)
	lenient(kw["anyOf"], &n.anyOf)
	lenient(kw["oneOf"], &n.oneOf)
	n.decodeBounds(kw)
	lenient(kw["multipleOf"], &n.multiple)
	if n.multiple < 0 {
		n.multiple = 0
	}
	lenient(kw["maxItems"], &n.maxItems)
	lenient(kw["maxLength"], &n.maxLen)
	if d := bytes.TrimSpace(kw["default"]); len(d) > 0 && !bytes.Equal(d, []byte("null")) {
		n.def = d
	}
	lenient(kw["description"], &n.desc)
	return n, nil
}

// lenient decodes raw into dst when it has the right JSON type and leaves
// dst untouched otherwise (encoding/json would leave a partial value).
func lenient[T any](raw json.RawMessage, dst *T) {
	if len(raw) == 0 {
		return
	}
	var v T
	if json.Unmarshal(raw, &v) == nil {
		*dst = v
	}
}

// decodeTypes reads "type" as a string or an array of strings and splits
// off "null".
func decodeTypes(raw json.RawMessage) (types []string, nullable bool) {
	var one string
	var many []string
	switch {
	case json.Unmarshal(raw, &one) == nil && one != "":
		many = []string{one}
	default:
		lenient(raw, &many)
	}
	for _, t := range many {
		if t == "null" {
			nullable = true
			continue
		}
		if t != "" && !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	return types, nullable
}

// decodeEnum reads enum (or const) and moves a null member to nullable.
func (n *node) decodeEnum(kw map[string]json.RawMessage) {
	var vals []any
	if raw, ok := kw["enum"]; ok {
		if json.Unmarshal(raw, &vals) != nil {
			return
		}
	} else if raw, ok := kw["const"]; ok {
		var v any
		if json.Unmarshal(raw, &v) != nil {
			return
		}
		vals = []any{v}
	} else {
		return
	}
	n.hasEnum = true
	for _, v := range vals {
		if v == nil {
			n.nullable = true
			continue
		}
		n.enum = append(n.enum, v)
	}
	if len(n.enum) == 0 {
		n.hasEnum = false // only null: that is nullability, not a value set
		n.nullOnly = true
	}
}

// decodeBounds reads minimum/maximum and both forms of the exclusive
// bounds: OpenAPI 3.0's boolean modifiers and JSON Schema's numbers. Of two
// lower (or upper) bounds the tighter wins.
func (n *node) decodeBounds(kw map[string]json.RawMessage) {
	lenient(kw["minimum"], &n.min)
	lenient(kw["maximum"], &n.max)
	if num, flag := exclusiveBound(kw["exclusiveMinimum"]); num != nil {
		if n.min == nil || *num >= *n.min {
			n.min, n.exclMin = num, true
		}
	} else if flag && n.min != nil {
		n.exclMin = true
	}
	if num, flag := exclusiveBound(kw["exclusiveMaximum"]); num != nil {
		if n.max == nil || *num <= *n.max {
			n.max, n.exclMax = num, true
		}
	} else if flag && n.max != nil {
		n.exclMax = true
	}
}

// exclusiveBound reads an exclusive bound written as a number (the bound
// itself) or as a boolean (a modifier of minimum/maximum).
func exclusiveBound(raw json.RawMessage) (num *float64, flag bool) {
	if lenient(raw, &num); num != nil {
		return num, false
	}
	lenient(raw, &flag)
	return nil, flag
}
