package textcut

import (
	"testing"
	"unicode/utf8"
)

func TestCuts(t *testing.T) {
	for _, tt := range []struct {
		s            string
		n            int
		runes, bytes string
	}{
		{"hello", 10, "hello", "hello"},
		{"hello", 3, "hel", "hel"},
		{"你好世界", 2, "你好", ""},
		{"你好世界", 4, "你好世界", "你"},
		{"a😀b", 2, "a😀", "a"},
		{"", 0, "", ""},
	} {
		if got := Runes(tt.s, tt.n); got != tt.runes {
			t.Errorf("Runes(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.runes)
		}
		if got := Bytes(tt.s, tt.n); got != tt.bytes || !utf8.ValidString(got) {
			t.Errorf("Bytes(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.bytes)
		}
	}
}
