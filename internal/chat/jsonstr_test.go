package chat

import (
	"encoding/json"
	"testing"
)

// jsonStringCases cover every escaping rule of encoding/json.
var jsonStringCases = []string{
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

func TestAppendJSONString(t *testing.T) {
	for _, s := range jsonStringCases {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString([]byte("prefix"), s); string(got) != "prefix"+string(want) {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got[len("prefix"):], want)
		}
	}
}

// FuzzAppendJSONString checks the stream's string encoder against
// encoding/json byte for byte, for any input including invalid UTF-8.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range jsonStringCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	})
}
