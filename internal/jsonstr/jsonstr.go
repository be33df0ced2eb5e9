// Package jsonstr writes JSON strings byte for byte as Go's own encoders
// write them, without an allocation: the stream's hand-built chunks, the
// fal inputs and the access log's JSON lines must equal what
// encoding/json or log/slog would have written, at a fraction of the cost.
package jsonstr

import "unicode/utf8"

// Style is one encoder's way of escaping.
type Style struct {
	html  bool // <, > and & as \u003c, \u003e, \u0026
	short bool // \b and \f as such, not \u0008 and \u000c
}

var (
	// Marshal escapes as encoding/json's Marshal does.
	Marshal = Style{html: true, short: true}
	// Slog escapes as log/slog's JSON handler does.
	Slog = Style{}
)

const hexDigits = "0123456789abcdef"

// Append appends s as a quoted JSON string.
func (st Style) Append(dst []byte, s string) []byte {
	return append(st.AppendEscaped(append(dst, '"'), s), '"')
}

// AppendEscaped appends s escaped, without quotes: control characters,
// '"' and '\' (and the HTML characters, in Marshal's style) escaped,
// U+2028 and U+2029 escaped, invalid UTF-8 as \ufffd.
func (st Style) AppendEscaped(dst []byte, s string) []byte {
	done := 0 // s[:done] is already in dst
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			if !st.escapes(c) {
				continue
			}
			dst = st.appendEscapedByte(append(dst, s[done:i-1]...), c)
			done = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(append(dst, s[done:i]...), `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(append(dst, s[done:i]...), '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		done = i
	}
	return append(dst, s[done:]...)
}

// escapes reports whether the ASCII byte c is escaped.
func (st Style) escapes(c byte) bool {
	return c < 0x20 || c == '"' || c == '\\' || st.html && (c == '<' || c == '>' || c == '&')
}

// appendEscapedByte appends the escape sequence of an ASCII byte.
func (st Style) appendEscapedByte(dst []byte, c byte) []byte {
	switch {
	case c == '"', c == '\\':
		return append(dst, '\\', c)
	case c == '\n':
		return append(dst, '\\', 'n')
	case c == '\r':
		return append(dst, '\\', 'r')
	case c == '\t':
		return append(dst, '\\', 't')
	case c == '\b' && st.short:
		return append(dst, '\\', 'b')
	case c == '\f' && st.short:
		return append(dst, '\\', 'f')
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
}
