// Package jsonscan reads the members of a JSON object, or the elements of
// an array, in a document that json.Valid (or json.Unmarshal) accepted,
// without scanning it again: the values yielded are the document's own
// bytes. The chat passthrough rewrites fal's answers with it, and the
// chat request's top-level fields are read with it after json.Unmarshal
// checked the body.
package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// EachMember calls yield with the name, decoded, and the value of each
// member of v, valid JSON, in the order written (as json.Unmarshal reads
// them: names decoded, values as v has them), until yield fails. ok is
// false when v is not an object.
func EachMember(v []byte, yield func(name, value []byte) error) (ok bool, err error) {
	return eachItem(v, '{', '}', func(i int) (int, error) {
		end := skipValue(v, i)
		name, err := memberName(v[i:end])
		if err != nil {
			return end, err
		}
		i = skipSpace(v, end)
		if i >= len(v) || v[i] != ':' {
			return i, errInvalid
		}
		i = skipSpace(v, i+1)
		end = skipValue(v, i)
		if end <= i {
			return i, errInvalid
		}
		return end, yield(name, v[i:end:end])
	})
}

// EachElement calls yield with each element of v, a valid JSON array, as
// json.Unmarshal into a []json.RawMessage would have them, until yield
// fails. ok is false when v is not an array.
func EachElement(v []byte, yield func(elem []byte) error) (ok bool, err error) {
	return eachItem(v, '[', ']', func(i int) (int, error) {
		end := skipValue(v, i)
		if end <= i {
			return i, errInvalid
		}
		return end, yield(v[i:end:end])
	})
}

// eachItem calls item with the start of each member or element of v, an
// object or array between the brackets open and close, until it fails;
// item returns where what it read ends.
func eachItem(v []byte, open, close byte, item func(start int) (end int, err error)) (ok bool, err error) {
	i := skipSpace(v, 0)
	if i >= len(v) || v[i] != open {
		return false, nil
	}
	i = skipSpace(v, i+1)
	for i < len(v) && v[i] != close {
		end, err := item(i)
		if err != nil {
			return true, err
		}
		i = skipSpace(v, end)
		if i < len(v) && v[i] == ',' {
			i = skipSpace(v, i+1)
		}
	}
	return true, nil
}

// memberName decodes a member name; only one with escapes, or that is not
// valid UTF-8, needs decoding.
func memberName(quoted []byte) ([]byte, error) {
	if len(quoted) >= 2 && !bytes.ContainsRune(quoted, '\\') && utf8.Valid(quoted) {
		return quoted[1 : len(quoted)-1], nil
	}
	var name string
	err := json.Unmarshal(quoted, &name)
	return []byte(name), err
}

func skipSpace(v []byte, i int) int {
	for i < len(v) && (v[i] == ' ' || v[i] == '\t' || v[i] == '\n' || v[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the valid JSON value that starts at i; in
// what is not valid JSON (a string left open), no further than v's end.
func skipValue(v []byte, i int) int {
	return min(skipValueUnbounded(v, i), len(v))
}

func skipValueUnbounded(v []byte, i int) int {
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

// errInvalid stops a walk at what is not valid JSON, which the callers
// check first: the walk ends rather than yield what it cannot read.
var errInvalid = errors.New("jsonscan: not valid JSON")

// errUnicodeName stops EachField at a member name that is not ASCII.
var errUnicodeName = errors.New("jsonscan: a member name that is not ASCII")

// EachField calls yield with i and the value of each member of v, valid
// JSON, whose name encoding/json matches with names[i] when it decodes v
// into a struct with fields so named: regardless of ASCII case. Members
// come in order, the others are passed over. It stops with
// errUnicodeName at a name that is not ASCII, which encoding/json might
// match by Unicode folding ("ſ" is an "s" to it): the caller leaves such
// a value to encoding/json. ok is false when v is not an object.
func EachField(v []byte, names []string, yield func(i int, value []byte) error) (ok bool, err error) {
	return EachMember(v, func(name, value []byte) error {
		for _, c := range name {
			if c >= utf8.RuneSelf {
				return errUnicodeName
			}
		}
		for i, n := range names {
			if bytes.EqualFold(name, []byte(n)) {
				return yield(i, value)
			}
		}
		return nil
	})
}
