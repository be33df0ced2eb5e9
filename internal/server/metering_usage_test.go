package server

import "testing"

// TestMayCarryUsage: the chunks of a stream asked with include_usage carry
// "usage":null until the last; only a usage object is worth decoding.
func TestMayCarryUsage(t *testing.T) {
	for _, tc := range []struct {
		chunk string
		want  bool
	}{
		{`{"choices":[{"delta":{"content":"hi"}}]}`, false},
		{`{"choices":[{"delta":{"content":"hi"}}],"usage":null}`, false},
		{`{"choices":[], "usage" : null }`, false},
		{`{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}`, true},
		{`{"choices":[{"delta":{"content":"the \"usage\": null"}}],"usage":{"total_tokens":7}}`, true},
		{`{"choices":[{"delta":{"content":"usage"}}]}`, true}, // a value, not a key: decoded, and found empty
	} {
		if got := mayCarryUsage([]byte(tc.chunk)); got != tc.want {
			t.Errorf("mayCarryUsage(%s) = %v, want %v", tc.chunk, got, tc.want)
		}
	}
}
