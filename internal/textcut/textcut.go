// Package textcut shortens text without splitting a character: error
// messages, echoes of client input and log lines all keep a bound, and a
// cut in the middle of a UTF-8 sequence would make them invalid text.
package textcut

import "unicode/utf8"

// Runes is the first n characters of s (all of s when it has fewer).
func Runes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// Bytes is the longest prefix of s of at most n bytes that ends at a
// character boundary.
func Bytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
