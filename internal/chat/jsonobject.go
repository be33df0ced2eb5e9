package chat

import (
	"bytes"
	"encoding/json"
	"slices"
	"unicode/utf8"

	"github.com/falproxy/falproxy/internal/jsonscan"
	"github.com/falproxy/falproxy/internal/jsonstr"
)

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

// member is one member of a JSON object: its name, decoded, and its value
// as the document has it.
type member struct {
	name, value []byte
}

// objectMembers returns the members of v, a value of a JSON document that
// json.Valid accepted, as json.Unmarshal into a map[string]json.RawMessage
// keeps them, in the order json.Marshal writes that map: sorted by name,
// and of duplicate names only the last. It appends them to buf[:0], so
// that a caller can keep them on its stack, and reads v once: names and
// values are v's own bytes unless a name has escapes. ok is false when v
// is not an object (null included).
func objectMembers(buf []member, v []byte) (ms []member, ok bool) {
	ms = buf[:0]
	if ok, err := jsonscan.EachMember(v, func(name, value []byte) error {
		ms = append(ms, member{name: name, value: value})
		return nil
	}); !ok || err != nil {
		return ms, false
	}
	sortMembers(ms)
	last := ms[:0]
	for i, m := range ms {
		if i+1 == len(ms) || !bytes.Equal(m.name, ms[i+1].name) {
			last = append(last, m)
		}
	}
	return last, true
}

// sortMembers sorts ms by name, keeping the document order of equal names.
func sortMembers(ms []member) {
	slices.SortStableFunc(ms, func(a, b member) int { return bytes.Compare(a.name, b.name) })
}

// findMember returns the index of the member called name in ms, sorted.
func findMember(ms []member, name string) (int, bool) {
	return slices.BinarySearchFunc(ms, name, func(m member, name string) int { return bytes.Compare(m.name, []byte(name)) })
}

// withMember returns ms with a member called name, added with no value
// where it sorts when ms has none: the caller writes its value.
func withMember(ms []member, name string) []member {
	i, found := findMember(ms, name)
	if found {
		return ms
	}
	return slices.Insert(ms, i, member{name: []byte(name)})
}

// appendMembers appends ms as json.Marshal writes the map they came from,
// each value written by value.
func appendMembers(dst []byte, ms []member, value func(dst []byte, m member) ([]byte, error)) ([]byte, error) {
	dst = append(dst, '{')
	var err error
	for i, m := range ms {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(appendName(dst, m.name), ':')
		if dst, err = value(dst, m); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

// appendMemberValue writes a member's value as json.Marshal writes a
// json.RawMessage; the value of appendMembers that changes nothing.
func appendMemberValue(dst []byte, m member) ([]byte, error) {
	return appendValid(dst, m.value), nil
}

// appendName appends a member name as json.Marshal writes a map key: as
// it is, quoted, when nothing in it is escaped.
func appendName(dst, name []byte) []byte {
	for _, c := range name {
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return jsonstr.Marshal.Append(dst, string(name))
		}
	}
	return append(append(append(dst, '"'), name...), '"')
}
