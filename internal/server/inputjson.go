package server

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/falproxy/falproxy/internal/jsonstr"
)

// encodeInput is json.Marshal of a fal input, byte for byte, without the
// reflection json.Marshal spends on a map: a sorted copy of its keys and a
// copy of each value, about ten allocations for an image job's input.
// Strings, booleans, ints and nested objects are written directly; any
// other value is left to json.Marshal.
func encodeInput(input map[string]any) ([]byte, error) {
	return appendValue(make([]byte, 0, inputSizeHint(input)), input)
}

// inputSizeHint is about the length of input encoded, so that encoding it
// takes one buffer.
func inputSizeHint(m map[string]any) int {
	n := 2
	for k, v := range m {
		n += len(k) + 4
		switch v := v.(type) {
		case string:
			n += len(v) + 2
		case map[string]any:
			n += inputSizeHint(v)
		default:
			n += 20
		}
	}
	return n
}

// appendObject appends m as json.Marshal writes it: keys sorted.
func appendObject(dst []byte, m map[string]any) ([]byte, error) {
	var room [16]string // a fal input rarely has more fields
	keys := room[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	var err error
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		if dst, err = appendValue(dst, k); err != nil {
			return nil, err
		}
		dst = append(dst, ':')
		if dst, err = appendValue(dst, m[k]); err != nil {
			return nil, err
		}
	}
	return append(dst, '}'), nil
}

// appendValue appends v as json.Marshal writes it.
func appendValue(dst []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case string:
		return jsonstr.Marshal.Append(dst, v), nil
	case bool:
		return strconv.AppendBool(dst, v), nil
	case int:
		return strconv.AppendInt(dst, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(dst, v, 10), nil
	case map[string]any:
		if v != nil {
			return appendObject(dst, v)
		}
	}
	b, err := json.Marshal(v)
	return append(dst, b...), err
}
