package config

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	c := mustLoad(t, map[string]string{
		"CUSTOM_ACCESS_KEY": "client-one-0123456789,client-one-0123456789-longer",
		"AI_KEYS":           "4f1c-id:0123456789abcdef, short:abc, tiny",
		"METRICS_KEY":       "metrics-key-0123456789",
	})
	tests := []struct{ in, want string }{
		{"no secrets here", "no secrets here"},
		{"Authorization: Bearer client-one-0123456789", "Authorization: Bearer [redacted]"},
		{"Bearer client-one-0123456789-longer!", "Bearer [redacted]!"},
		{"Authorization: Key 4f1c-id:0123456789abcdef", "Authorization: Key [redacted]"},
		{"secret half 0123456789abcdef alone", "secret half [redacted] alone"},
		{`{"key":"0123456789abcdef"}`, `{"key":"[redacted]"}`},
		{"key short:abc and abc", "key [redacted] and abc"}, // a short secret half is not hidden on its own
		{"4f1c-id alone", "4f1c-id alone"},                  // the key id is not secret
		{"tiny things stay, tinyness too", "tiny things stay, tinyness too"},
		{"client-one-0123456789,client-one-0123456789", "[redacted],[redacted]"},
		{"Bearer metrics-key-0123456789", "Bearer [redacted]"},
		// A key joined to other characters is still a key.
		{"xclient-one-0123456789 client-one-0123456789x", "x[redacted] [redacted]x"},
		// Nor do escaped separators shield one.
		{`"a\nclient-one-0123456789"`, `"a\n[redacted]"`},
		{"?auth=Bearer%20client-one-0123456789&x=1", "?auth=Bearer%20[redacted]&x=1"},
		// The shortest secret alone, and a value shorter than it.
		{"short:abc", "[redacted]"},
		{"short:ab", "short:ab"},
	}
	for _, tt := range tests {
		if got := c.Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}

	byHand := &Config{AccessKeys: []string{"client-one-0123456789"}, FalKeys: []string{"4f1c-id:0123456789abcdef"}}
	if got, want := byHand.Redact("client-one-0123456789 0123456789abcdef"), "[redacted] [redacted]"; got != want {
		t.Errorf("Redact on a Config built by hand = %q, want %q", got, want)
	}
	if got := (&Config{}).Redact("nothing to hide"); got != "nothing to hide" {
		t.Errorf("Redact without keys = %q", got)
	}
}

// TestRedactKeepsWords: a secret too short to be a real key is not hidden,
// so the words that contain it keep their letters.
func TestRedactKeepsWords(t *testing.T) {
	c := &Config{FalKeys: []string{"id:fal"}, AccessKeys: []string{"proxy"}}
	if in := "falproxy listening"; c.Redact(in) != in {
		t.Errorf("Redact(%q) = %q", in, c.Redact(in))
	}
}

// TestShortAccessKeyRefused: a key under MinKeyLength characters stops
// Load, named by its position, never by its value.
func TestShortAccessKeyRefused(t *testing.T) {
	for _, keys := range []string{"Z", "good-key-0123456789,sk-short", "sk-fifteen-char"} {
		_, err := Load(envOf(map[string]string{"CUSTOM_ACCESS_KEY": keys}))
		if err == nil {
			t.Errorf("Load accepted CUSTOM_ACCESS_KEY=%q", keys)
			continue
		}
		if !strings.Contains(err.Error(), "config: CUSTOM_ACCESS_KEY entry ") ||
			!strings.Contains(err.Error(), "shorter than 16 characters") {
			t.Errorf("error %q does not say which key is too short", err)
		}
		for _, k := range strings.Split(keys, ",") {
			if strings.Contains(err.Error(), k) {
				t.Errorf("error %q carries the key %q", err, k)
			}
		}
	}
	if _, err := Load(envOf(map[string]string{"CUSTOM_ACCESS_KEY": "sk-sixteen-chars"})); err != nil {
		t.Errorf("a 16-character key: %v", err)
	}
}
