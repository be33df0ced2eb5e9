package falfake

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
)

// typeMatches reports whether a decoded value has a JSON Schema type.
func typeMatches(typ string, val any) bool {
	switch typ {
	case "integer", "number":
		return jsonType(val) == "number"
	}
	return jsonType(val) == typ
}

// jsonType names the JSON type of a decoded value.
func jsonType(val any) string {
	switch val.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case json.Number, float64, int, int64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case node:
		return "object"
	}
	return "unknown"
}

// inEnum reports whether val is one of enum's values.
func inEnum(enum []any, val any) bool {
	for _, e := range enum {
		if equalJSON(e, val) {
			return true
		}
	}
	return false
}

// equalJSON compares two decoded scalars; numbers compare by value.
func equalJSON(a, b any) bool {
	an, aok := a.(json.Number)
	bn, bok := b.(json.Number)
	if aok && bok {
		ar, ok1 := new(big.Rat).SetString(an.String())
		br, ok2 := new(big.Rat).SetString(bn.String())
		return ok1 && ok2 && ar.Cmp(br) == 0
	}
	if aok || bok {
		return false
	}
	switch a.(type) {
	case string, bool, nil:
		return a == b
	}
	return false
}

// reprs renders values the way Python's repr shows them in messages.
func reprs(vals []any) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		switch x := v.(type) {
		case string:
			out[i] = "'" + x + "'"
		case bool:
			out[i] = map[bool]string{true: "True", false: "False"}[x]
		case nil:
			out[i] = "None"
		default:
			out[i] = fmt.Sprint(x)
		}
	}
	return out
}

// orList joins "a", "b", "c" as "a, b or c".
func orList(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// plural adds an "s" to word unless n is 1.
func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
