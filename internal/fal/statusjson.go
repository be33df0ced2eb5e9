package fal

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// The status events of a job's stream and the answer of a submit are
// decoded here without encoding/json's reflection, whose frames (about
// 2 KiB deep) would grow the stack of every request waiting on fal from
// 8 to 16 KiB for the whole wait. The results are json.Unmarshal's for
// every input: json.Valid checks the syntax, the fields are set as
// Unmarshal sets them (case-insensitive keys, last duplicate wins, null
// leaves a value as it is), and any input this decoder does not take (a
// value of the wrong type, a number out of range) goes to json.Unmarshal,
// which reports the error it always reported.

// decodeStatus decodes a status object of fal's queue into st.
func decodeStatus(data []byte, st *Status) error {
	s := *st
	if json.Valid(data) && decodeObject(data, s.setField) {
		*st = s
		return nil
	}
	return json.Unmarshal(data, st)
}

// decodeJob decodes fal's answer to a submit into j.
func decodeJob(data []byte, j *Job) error {
	s := *j
	if json.Valid(data) && decodeObject(data, s.setField) {
		*j = s
		return nil
	}
	return json.Unmarshal(data, j)
}

func (st *Status) setField(key, value []byte) bool {
	switch {
	case fieldIs(key, "queue_position"):
		return setIntPointer(&st.QueuePosition, value)
	case fieldIs(key, "metrics"):
		return decodeObject(value, func(key, value []byte) bool {
			return !fieldIs(key, "inference_time") || setFloat(&st.Metrics.InferenceTime, value)
		})
	}
	return setStringField(key, value, stringField{"status", &st.Status}, stringField{"request_id", &st.RequestID},
		stringField{"error", &st.Error}, stringField{"error_type", &st.ErrorType})
}

func (j *Job) setField(key, value []byte) bool {
	return setStringField(key, value, stringField{"request_id", &j.RequestID}, stringField{"status_url", &j.StatusURL},
		stringField{"response_url", &j.ResponseURL}, stringField{"cancel_url", &j.CancelURL})
}

// stringField is a string field of an object and its key.
type stringField struct {
	name string
	dst  *string
}

// setStringField sets the field of fields that key names to value, and
// reports whether it could; a key naming none of them is skipped.
func setStringField(key, value []byte, fields ...stringField) bool {
	for _, f := range fields {
		if fieldIs(key, f.name) {
			return setString(f.dst, value)
		}
	}
	return true
}

// decodeObject calls setField with the key and the value of each member of
// the valid JSON value data, in order, and reports whether data is null or
// an object whose every member setField took.
func decodeObject(data []byte, setField func(key, value []byte) bool) bool {
	i := skipSpace(data, 0)
	if data[i] == 'n' {
		return true
	}
	if data[i] != '{' {
		return false
	}
	for i = skipSpace(data, i+1); data[i] != '}'; i = skipSpace(data, i) {
		keyEnd := valueEnd(data, i)
		key := unquote(data[i:keyEnd])
		i = skipSpace(data, skipSpace(data, keyEnd)+1) // past the colon
		end := valueEnd(data, i)
		if !setField(key, data[i:end]) {
			return false
		}
		if i = skipSpace(data, end); data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	return true
}

// fieldIs reports whether key names the field name (lower-case ASCII), as
// encoding/json matches keys: exactly, or equal once both are folded.
func fieldIs(key []byte, name string) bool {
	i := 0
	for _, r := range string(key) {
		if i == len(name) || foldRune(r) != foldRune(rune(name[i])) {
			return false
		}
		i++
	}
	return i == len(name)
}

// foldRune is the smallest rune of r's case-folding set ('S' for 's', 'ſ'
// and 'S').
func foldRune(r rune) rune {
	for {
		next := unicode.SimpleFold(r)
		if next <= r {
			return next
		}
		r = next
	}
}

func setString(dst *string, value []byte) bool {
	switch value[0] {
	case 'n':
		return true
	case '"':
		*dst = string(unquote(value))
		return true
	}
	return false
}

func setIntPointer(dst **int, value []byte) bool {
	if value[0] == 'n' {
		*dst = nil
		return true
	}
	n, err := strconv.ParseInt(string(value), 10, strconv.IntSize)
	if err != nil {
		return false
	}
	v := int(n)
	*dst = &v
	return true
}

func setFloat(dst *float64, value []byte) bool {
	if value[0] == 'n' {
		return true
	}
	f, err := strconv.ParseFloat(string(value), 64)
	if err != nil { // not a number, or out of float64's range
		return false
	}
	*dst = f
	return true
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && isSpace(data[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// valueEnd returns where the valid JSON value starting at data[i] ends.
func valueEnd(data []byte, i int) int {
	switch data[i] {
	case '"':
		for i++; data[i] != '"'; i++ {
			if data[i] == '\\' {
				i++
			}
		}
		return i + 1
	case '{', '[':
		depth := 0
		for ; ; i++ {
			switch data[i] {
			case '"':
				i = valueEnd(data, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
	}
	for i < len(data) && data[i] != ',' && data[i] != '}' && data[i] != ']' && !isSpace(data[i]) {
		i++
	}
	return i
}

// unquote returns the text of the valid JSON string literal s, decoded as
// encoding/json decodes it: bytes that are not UTF-8 and unpaired
// surrogates become U+FFFD.
func unquote(s []byte) []byte {
	s = s[1 : len(s)-1]
	if utf8.Valid(s) && bytes.IndexByte(s, '\\') < 0 {
		return s
	}
	b := make([]byte, 0, len(s)+utf8.UTFMax)
	for len(s) > 0 {
		if s[0] != '\\' {
			r, n := utf8.DecodeRune(s)
			b, s = utf8.AppendRune(b, r), s[n:]
			continue
		}
		if s[1] != 'u' {
			b, s = append(b, unescaped[s[1]]), s[2:]
			continue
		}
		r := hexRune(s[2:6])
		s = s[6:]
		if utf16.IsSurrogate(r) {
			r2 := rune(-1)
			if len(s) >= 6 && s[0] == '\\' && s[1] == 'u' {
				r2 = hexRune(s[2:6])
			}
			if r = utf16.DecodeRune(r, r2); r != unicode.ReplacementChar {
				s = s[6:]
			}
		}
		b = utf8.AppendRune(b, r)
	}
	return b
}

// unescaped maps the letter of a JSON escape other than \u to its byte.
var unescaped = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// hexRune reads the four hex digits of a \u escape.
func hexRune(h []byte) rune {
	n, _ := strconv.ParseUint(string(h), 16, 32)
	return rune(n)
}
