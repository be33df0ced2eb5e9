package config

import "testing"

func TestRedact(t *testing.T) {
	c := mustLoad(t, map[string]string{
		"CUSTOM_ACCESS_KEY": "client-one,client-one-longer",
		"AI_KEYS":           "4f1c-id:0123456789abcdef, short:abc",
	})
	tests := []struct{ in, want string }{
		{"no secrets here", "no secrets here"},
		{"Authorization: Bearer client-one", "Authorization: Bearer [redacted]"},
		{"Bearer client-one-longer!", "Bearer [redacted]!"},
		{"Authorization: Key 4f1c-id:0123456789abcdef", "Authorization: Key [redacted]"},
		{"secret half 0123456789abcdef alone", "secret half [redacted] alone"},
		{"key short:abc and abc", "key [redacted] and abc"}, // a short secret half is not hidden on its own
		{"4f1c-id alone", "4f1c-id alone"},                  // the key id is not secret
		{"client-oneclient-one", "[redacted][redacted]"},
	}
	for _, tt := range tests {
		if got := c.Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}

	byHand := &Config{AccessKeys: []string{"client-one"}, FalKeys: []string{"4f1c-id:0123456789abcdef"}}
	if got, want := byHand.Redact("client-one 0123456789abcdef"), "[redacted] [redacted]"; got != want {
		t.Errorf("Redact on a Config built by hand = %q, want %q", got, want)
	}
	if got := (&Config{}).Redact("nothing to hide"); got != "nothing to hide" {
		t.Errorf("Redact without keys = %q", got)
	}
}
