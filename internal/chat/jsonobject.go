package chat

import (
	"bytes"
	"encoding/json"
	"slices"
	"unicode/utf8"

	"github.com/falproxy/falproxy/internal/jsonstr"
)

// appendObject appends fields as json.Marshal encodes a
// map[string]json.RawMessage, byte for byte: keys sorted and escaped as
// encoding/json escapes them, each value compacted and HTML-escaped. The
// passthrough rewrites every answer and stream chunk of fal through such
// maps; json.Marshal re-validates each value with its scanner, which cost
// more than the rest of the rewrite, although the values are valid JSON
// already (json.Unmarshal checked them, or json.Marshal made them).
func appendObject(dst []byte, fields map[string]json.RawMessage) []byte {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonstr.Marshal.Append(dst, k)
		dst = append(dst, ':')
		dst = appendValid(dst, fields[k])
	}
	return append(dst, '}')
}

// appendArray appends objects as json.Marshal encodes a slice of
// map[string]json.RawMessage.
func appendArray(dst []byte, objects []map[string]json.RawMessage) []byte {
	if objects == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, o := range objects {
		if i > 0 {
			dst = append(dst, ',')
		}
		if o == nil {
			dst = append(dst, "null"...)
			continue
		}
		dst = appendObject(dst, o)
	}
	return append(dst, ']')
}

// appendValid appends the valid JSON value v as json.Marshal encodes a
// json.RawMessage: as it is when it is compact and holds nothing
// encoding/json escapes for HTML (<, >, &, U+2028, U+2029), which is the
// common case; through json.Marshal otherwise.
func appendValid(dst []byte, v json.RawMessage) []byte {
	if v == nil {
		return append(dst, "null"...)
	}
	if !plainJSON(v) {
		b, err := json.Marshal(v)
		if err != nil {
			// v is valid JSON; json.Marshal fails only on invalid JSON.
			panic("chat: re-encoding a JSON value: " + err.Error())
		}
		return append(dst, b...)
	}
	return append(dst, v...)
}

// plainJSON reports whether the valid JSON value v is compact (no white
// space outside strings) and free of what encoding/json escapes for HTML.
func plainJSON(v []byte) bool {
	inString, escaped := false, false
	for i, c := range v {
		switch {
		case c == '<' || c == '>' || c == '&':
			return false
		case c == 0xe2 && i+2 < len(v) && v[i+1] == 0x80 && (v[i+2] == 0xa8 || v[i+2] == 0xa9):
			return false // U+2028, U+2029
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			return false
		}
	}
	return true
}

// splitObject returns the members of v, a value of a JSON document that
// json.Valid accepted, as json.Unmarshal into a map[string]json.RawMessage
// would (the last of duplicate keys wins; null is a nil map), without
// scanning v again: the values are v's own bytes. ok is false when v is
// not an object or null.
func splitObject(v []byte) (fields map[string]json.RawMessage, ok bool) {
	i := skipSpace(v, 0)
	if isNullAt(v, i) {
		return nil, true
	}
	if i >= len(v) || v[i] != '{' {
		return nil, false
	}
	fields = map[string]json.RawMessage{}
	i = skipSpace(v, i+1)
	for i < len(v) && v[i] != '}' {
		end := skipValue(v, i)
		key, err := objectKey(v[i:end])
		if err != nil {
			return nil, false
		}
		i = skipSpace(v, end)
		i = skipSpace(v, i+1) // the colon
		end = skipValue(v, i)
		fields[key] = v[i:end:end]
		i = skipSpace(v, end)
		if i < len(v) && v[i] == ',' {
			i = skipSpace(v, i+1)
		}
	}
	return fields, true
}

// splitArray returns the elements of v, valid JSON as for splitObject, as
// json.Unmarshal into a []json.RawMessage would; ok is false when v is
// not an array or null.
func splitArray(v []byte) (elems []json.RawMessage, ok bool) {
	i := skipSpace(v, 0)
	if isNullAt(v, i) {
		return nil, true
	}
	if i >= len(v) || v[i] != '[' {
		return nil, false
	}
	elems = []json.RawMessage{}
	i = skipSpace(v, i+1)
	for i < len(v) && v[i] != ']' {
		end := skipValue(v, i)
		elems = append(elems, v[i:end:end])
		i = skipSpace(v, end)
		if i < len(v) && v[i] == ',' {
			i = skipSpace(v, i+1)
		}
	}
	return elems, true
}

// objectKey decodes a member name; only one with escapes needs decoding.
func objectKey(quoted []byte) (string, error) {
	if len(quoted) >= 2 && !bytes.ContainsRune(quoted, '\\') && utf8.Valid(quoted) {
		return string(quoted[1 : len(quoted)-1]), nil
	}
	var key string
	err := json.Unmarshal(quoted, &key)
	return key, err
}

func isNullAt(v []byte, i int) bool { return bytes.HasPrefix(v[i:], []byte("null")) }

func skipSpace(v []byte, i int) int {
	for i < len(v) && (v[i] == ' ' || v[i] == '\t' || v[i] == '\n' || v[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the valid JSON value that starts at i.
func skipValue(v []byte, i int) int {
	depth := 0
	for ; i < len(v); i++ {
		switch c := v[i]; c {
		case '"':
			for i++; i < len(v) && v[i] != '"'; i++ {
				if v[i] == '\\' {
					i++
				}
			}
			if depth == 0 {
				return i + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1
			}
			if depth < 0 { // the end of the enclosing value
				return i
			}
		case ',', ' ', '\t', '\n', '\r', ':':
			if depth == 0 {
				return i
			}
		}
	}
	return i
}
