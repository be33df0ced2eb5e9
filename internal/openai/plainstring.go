package openai

import "unicode/utf8"

// PlainString returns the value of raw when raw is a JSON string that
// needs no decoding: quoted, valid UTF-8, without escapes, quotes or
// control characters inside. Its value is then its bytes between the
// quotes, exactly what json.Unmarshal would give, without the decoder
// json.Unmarshal allocates for each call. ok is false for anything else,
// which the caller decodes with encoding/json.
func PlainString(raw []byte) (s string, ok bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	body := raw[1 : len(raw)-1]
	for _, c := range body {
		if c < 0x20 || c == '"' || c == '\\' {
			return "", false
		}
	}
	if !utf8.Valid(body) {
		return "", false
	}
	return string(body), true
}
