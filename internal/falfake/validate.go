package falfake

import (
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"unicode/utf8"
)

// validator checks a decoded value against a model's JSON Schema subset:
// type, enum, numeric bounds and multipleOf, string and array lengths,
// properties, required, additionalProperties, items, $ref, allOf, anyOf and
// OpenAPI's nullable. With strict, an object without additionalProperties
// rejects undeclared fields (extra_forbidden).
type validator struct {
	m      *model
	strict bool
}

// validate checks a whole input object and returns its errors, located
// under "body" as fal reports them.
func (m *model) validate(in node, strict bool) []detail {
	return validator{m: m, strict: strict}.check(m.input, in, []any{"body"})
}

// at returns loc extended by one element, never sharing loc's array.
func at(loc []any, elem any) []any {
	out := make([]any, len(loc), len(loc)+1)
	copy(out, loc)
	return append(out, elem)
}

func (v validator) check(s node, val any, loc []any) []detail {
	s = v.m.deref(s)
	if val == nil && s["nullable"] == true {
		return nil
	}
	if subs, ok := s["allOf"].([]any); ok {
		for _, sub := range subs {
			sn, _ := sub.(node)
			if errs := v.check(sn, val, loc); len(errs) > 0 {
				return errs
			}
		}
	}
	if subs, ok := s["anyOf"].([]any); ok {
		if errs := v.anyOf(subs, val, loc); len(errs) > 0 {
			return errs
		}
	}
	return v.own(s, val, loc)
}

// anyOf passes when one branch passes. Otherwise it reports like Pydantic's
// unions: a null branch is ignored for a non-null value (Optional[X]
// reports X's errors), the one branch of the value's JSON type reports
// alone, and failing that every branch reports under a tag naming it.
func (v validator) anyOf(subs []any, val any, loc []any) []detail {
	type branch struct {
		s    node
		errs []detail
	}
	var cands []branch
	for _, sub := range subs {
		sn, _ := sub.(node)
		errs := v.check(sn, val, loc)
		if len(errs) == 0 {
			return nil
		}
		if val != nil && v.m.deref(sn)["type"] == "null" {
			continue
		}
		cands = append(cands, branch{sn, errs})
	}
	var fitting []branch
	for _, c := range cands {
		if v.fits(c.s, val) {
			fitting = append(fitting, c)
		}
	}
	switch {
	case len(cands) == 1:
		return cands[0].errs
	case len(fitting) == 1:
		return fitting[0].errs
	}
	var out []detail
	for _, c := range cands {
		tag := v.tag(c.s)
		for _, d := range c.errs {
			d.Loc = append(at(loc, tag), d.Loc[len(loc):]...)
			out = append(out, d)
		}
	}
	return out
}

// fits reports whether val has the JSON type a schema asks for.
func (v validator) fits(s node, val any) bool {
	s = v.m.deref(s)
	if subs, ok := s["allOf"].([]any); ok {
		for _, sub := range subs {
			if sn, _ := sub.(node); !v.fits(sn, val) {
				return false
			}
		}
	}
	if subs, ok := s["anyOf"].([]any); ok {
		for _, sub := range subs {
			if sn, _ := sub.(node); v.fits(sn, val) {
				return true
			}
		}
		return false
	}
	typ, _ := s["type"].(string)
	if typ == "" {
		if enum, ok := s["enum"].([]any); ok && len(enum) > 0 {
			return jsonType(enum[0]) == jsonType(val)
		}
		return true
	}
	return typeMatches(typ, val)
}

// tag names a union branch in a location, as Pydantic does.
func (v validator) tag(s node) string {
	if ref, ok := s["$ref"].(string); ok {
		return ref[strings.LastIndex(ref, "/")+1:]
	}
	s = v.m.deref(s)
	if enum, ok := s["enum"].([]any); ok {
		return "literal[" + strings.Join(reprs(enum), ",") + "]"
	}
	switch s["type"] {
	case "string":
		return "str"
	case "integer":
		return "int"
	case "number":
		return "float"
	case "boolean":
		return "bool"
	case "array":
		return "list"
	case "object":
		return "dict"
	case "null":
		return "none"
	}
	return "any"
}

// own checks a schema's own keywords (not its combinators).
func (v validator) own(s node, val any, loc []any) []detail {
	typ, _ := s["type"].(string)
	if typ == "" && s["properties"] != nil {
		typ = "object"
	}
	var errs []detail
	switch typ {
	case "string":
		errs = checkString(s, val, loc)
	case "integer", "number":
		errs = checkNumber(s, typ, val, loc)
	case "boolean":
		if _, ok := val.(bool); !ok {
			errs = one("bool_type", loc, "Input should be a valid boolean", val, nil)
		}
	case "null":
		if val != nil {
			errs = one("none_required", loc, "Input should be None", val, nil)
		}
	case "array":
		errs = v.array(s, val, loc)
	case "object":
		errs = v.object(s, val, loc)
	}
	if len(errs) > 0 {
		return errs
	}
	if enum, ok := s["enum"].([]any); ok && !inEnum(enum, val) {
		expected := orList(reprs(enum))
		return one("literal_error", loc, "Input should be "+expected, val, map[string]any{"expected": expected})
	}
	return nil
}

// one is a single-entry error list.
func one(typ string, loc []any, msg string, input any, ctx map[string]any) []detail {
	return []detail{{Type: typ, Loc: loc, Msg: msg, Input: input, Ctx: ctx}}
}

func checkString(s node, val any, loc []any) []detail {
	str, ok := val.(string)
	if !ok {
		return one("string_type", loc, "Input should be a valid string", val, nil)
	}
	n := utf8.RuneCountInString(str)
	if lo, ok := intKeyword(s, "minLength"); ok && n < lo {
		return one("string_too_short", loc, fmt.Sprintf("String should have at least %d %s", lo, plural(lo, "character")), val, map[string]any{"min_length": lo})
	}
	if hi, ok := intKeyword(s, "maxLength"); ok && n > hi {
		return one("string_too_long", loc, fmt.Sprintf("String should have at most %d %s", hi, plural(hi, "character")), val, map[string]any{"max_length": hi})
	}
	return nil
}

func checkNumber(s node, typ string, val any, loc []any) []detail {
	num, ok := val.(json.Number)
	if !ok {
		if typ == "integer" {
			return one("int_type", loc, "Input should be a valid integer", val, nil)
		}
		return one("float_type", loc, "Input should be a valid number", val, nil)
	}
	r, ok := new(big.Rat).SetString(num.String())
	if !ok {
		return one("float_parsing", loc, "Input should be a valid number, unable to parse string as a number", val, nil)
	}
	if typ == "integer" && !r.IsInt() {
		return one("int_from_float", loc, "Input should be a valid integer, got a number with a fractional part", val, nil)
	}
	// exclusiveMinimum/Maximum are numbers in JSON Schema 2019+ and booleans
	// modifying minimum/maximum in OpenAPI 3.0; both are accepted.
	exMin, exMax := s["exclusiveMinimum"] == true, s["exclusiveMaximum"] == true
	bounds := []struct {
		key   string
		fails func(c int) bool
		typ   string
		words string
		ctx   string
	}{
		{"minimum", func(c int) bool { return c < 0 || (exMin && c == 0) }, "greater_than_equal", "greater than or equal to", "ge"},
		{"exclusiveMinimum", func(c int) bool { return c <= 0 }, "greater_than", "greater than", "gt"},
		{"maximum", func(c int) bool { return c > 0 || (exMax && c == 0) }, "less_than_equal", "less than or equal to", "le"},
		{"exclusiveMaximum", func(c int) bool { return c >= 0 }, "less_than", "less than", "lt"},
	}
	for _, b := range bounds {
		bound, ok := s[b.key].(json.Number)
		if !ok {
			continue
		}
		br, ok := new(big.Rat).SetString(bound.String())
		if !ok || !b.fails(r.Cmp(br)) {
			continue
		}
		typ, words, ctx := b.typ, b.words, b.ctx
		if (b.key == "minimum" && exMin) || (b.key == "maximum" && exMax) {
			typ, words, ctx = strings.TrimSuffix(typ, "_equal"), strings.TrimSuffix(words, " or equal to"), ctx[:1]+"t"
		}
		return one(typ, loc, "Input should be "+words+" "+bound.String(), val, map[string]any{ctx: bound})
	}
	if m, ok := s["multipleOf"].(json.Number); ok {
		mr, ok := new(big.Rat).SetString(m.String())
		if ok && mr.Sign() != 0 && !new(big.Rat).Quo(r, mr).IsInt() {
			return one("multiple_of", loc, "Input should be a multiple of "+m.String(), val, map[string]any{"multiple_of": m})
		}
	}
	return nil
}

func (v validator) array(s node, val any, loc []any) []detail {
	arr, ok := val.([]any)
	if !ok {
		return one("list_type", loc, "Input should be a valid list", val, nil)
	}
	if lo, ok := intKeyword(s, "minItems"); ok && len(arr) < lo {
		return one("too_short", loc, fmt.Sprintf("List should have at least %d %s after validation, not %d", lo, plural(lo, "item"), len(arr)), val,
			map[string]any{"field_type": "List", "min_length": lo, "actual_length": len(arr)})
	}
	if hi, ok := intKeyword(s, "maxItems"); ok && len(arr) > hi {
		return one("too_long", loc, fmt.Sprintf("List should have at most %d %s after validation, not %d", hi, plural(hi, "item"), len(arr)), val,
			map[string]any{"field_type": "List", "max_length": hi, "actual_length": len(arr)})
	}
	items, _ := s["items"].(node)
	if items == nil {
		return nil
	}
	var errs []detail
	for i, el := range arr {
		errs = append(errs, v.check(items, el, at(loc, i))...)
	}
	return errs
}

func (v validator) object(s node, val any, loc []any) []detail {
	obj, ok := val.(node)
	if !ok {
		if title, _ := s["title"].(string); title != "" && s["properties"] != nil {
			return one("model_type", loc, "Input should be a valid dictionary or instance of "+title, val, map[string]any{"class_name": title})
		}
		return one("dict_type", loc, "Input should be a valid dictionary", val, nil)
	}
	props, _ := s["properties"].(node)
	required := map[string]bool{}
	if req, ok := s["required"].([]any); ok {
		for _, r := range req {
			if name, ok := r.(string); ok {
				required[name] = true
			}
		}
	}
	var errs []detail
	for _, name := range fieldOrder(s, props, required) {
		pv, present := obj[name]
		if !present {
			if required[name] {
				errs = append(errs, detail{Type: "missing", Loc: at(loc, name), Msg: "Field required", Input: obj})
			}
			continue
		}
		ps, _ := props[name].(node)
		if ps == nil {
			continue // required but undeclared: presence is all that is known
		}
		errs = append(errs, v.check(ps, pv, at(loc, name))...)
	}
	for _, name := range sortedKeys(obj) {
		if _, declared := props[name]; declared || required[name] {
			continue
		}
		switch ap := s["additionalProperties"].(type) {
		case node:
			errs = append(errs, v.check(ap, obj[name], at(loc, name))...)
		case bool:
			if !ap {
				errs = append(errs, extraForbidden(loc, name, obj[name]))
			}
		default:
			if v.strict {
				errs = append(errs, extraForbidden(loc, name, obj[name]))
			}
		}
	}
	return errs
}

func extraForbidden(loc []any, name string, val any) detail {
	return detail{Type: "extra_forbidden", Loc: at(loc, name), Msg: "Extra inputs are not permitted", Input: val}
}

// fieldOrder is the order fields are checked and reported in: fal's
// x-fal-order-properties first, then the remaining declared and required
// fields by name.
func fieldOrder(s, props node, required map[string]bool) []string {
	seen := map[string]bool{}
	var order []string
	if list, ok := s["x-fal-order-properties"].([]any); ok {
		for _, x := range list {
			if name, ok := x.(string); ok && props[name] != nil && !seen[name] {
				seen[name] = true
				order = append(order, name)
			}
		}
	}
	var rest []string
	for name := range props {
		if !seen[name] {
			seen[name] = true
			rest = append(rest, name)
		}
	}
	for name := range required {
		if !seen[name] {
			seen[name] = true
			rest = append(rest, name)
		}
	}
	sort.Strings(rest)
	return append(order, rest...)
}

// intKeyword reads a non-negative integer keyword such as minItems.
func intKeyword(s node, key string) (int, bool) {
	n, ok := s[key].(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	if err != nil || i < 0 {
		return 0, false
	}
	return int(i), true
}
