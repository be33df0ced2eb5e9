package jsonstr

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// cases cover every escaping rule of encoding/json and log/slog.
var cases = []string{
	"",
	"plain ascii",
	"quote \" backslash \\ slash /",
	"\n\r\t\b\f",
	"\x00\x01\x1f\x7f",
	"<script>&amp;</script>",
	"line\u2028para\u2029",
	"你好 😀 é",
	"bad \xff utf8 \xe4\xbd",
	"\xed\xa0\x80 surrogate",
}

// marshaled is s as encoding/json writes it.
func marshaled(t *testing.T, s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// slogged is s as log/slog's JSON handler writes a string value.
func slogged(s string) string {
	var out bytes.Buffer
	slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey || a.Key == slog.LevelKey || a.Key == slog.MessageKey {
			return slog.Attr{}
		}
		return a
	}})).Info("", "v", s)
	line := strings.TrimSuffix(out.String(), "\n")
	return strings.TrimSuffix(strings.TrimPrefix(line, `{"v":`), "}")
}

func check(t *testing.T, s string) {
	if got, want := string(Marshal.Append([]byte("prefix"), s)), "prefix"+marshaled(t, s); got != want {
		t.Errorf("Marshal.Append(%q) = %s, want %s", s, got, want)
	}
	if got, want := string(Slog.Append(nil, s)), slogged(s); got != want {
		t.Errorf("Slog.Append(%q) = %s, want %s", s, got, want)
	}
}

func TestAppend(t *testing.T) {
	for _, s := range cases {
		check(t, s)
	}
}

// FuzzAppend checks both styles against encoding/json and log/slog byte
// for byte, for any input including invalid UTF-8.
func FuzzAppend(f *testing.F) {
	for _, s := range cases {
		f.Add(s)
	}
	f.Fuzz(check)
}
