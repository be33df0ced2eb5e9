package openai

import (
	"encoding/json"
	"testing"
)

// PlainString must give what json.Unmarshal gives for every input it
// accepts, and decline the rest.
func TestPlainStringMatchesUnmarshal(t *testing.T) {
	for _, raw := range []string{
		`""`, `"a lighthouse"`, `"ünïcödé ✓ 🚀"`, `"https://fal.media/files/x.png"`,
		`"a\"b"`, `"tab\there"`, `"\u00e9"`, "\"bad \xff utf8\"", "\"ctl \x01\"", `"a"b"`,
		`"`, `12`, `null`, ` "spaced" `, `["x"]`, `{"a":"b"}`, `"&<>"`, "\"\u2028\"",
	} {
		got, ok := PlainString([]byte(raw))
		var want string
		err := json.Unmarshal([]byte(raw), &want)
		if ok && (err != nil || got != want) {
			t.Errorf("PlainString(%q) = %q, json.Unmarshal gives %q, %v", raw, got, want, err)
		}
	}
	for raw, want := range map[string]bool{`"plain"`: true, `"a\"b"`: false, "\"\xff\"": false, `12`: false, ` "x"`: false} {
		if _, ok := PlainString([]byte(raw)); ok != want {
			t.Errorf("PlainString(%q) accepted %v, want %v", raw, ok, want)
		}
	}
}

// FuzzPlainString checks the same on any input.
func FuzzPlainString(f *testing.F) {
	f.Add([]byte(`"a lighthouse"`))
	f.Add([]byte(`"a\nb"`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, ok := PlainString(raw)
		if !ok {
			return
		}
		var want string
		if err := json.Unmarshal(raw, &want); err != nil || got != want {
			t.Fatalf("PlainString(%q) = %q, json.Unmarshal gives %q, %v", raw, got, want, err)
		}
	})
}
