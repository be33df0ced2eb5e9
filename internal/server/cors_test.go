package server_test

import (
	"net/http"
	"slices"
	"testing"
)

// TestCORSVariesByOrigin: with CORS_ORIGINS listed, every answer to a
// request with an Origin, listed or not, says it varies by Origin, so that
// a shared cache never hands one origin's answer to another; only a
// listed origin is allowed. With "*" the answer is the same for all.
func TestCORSVariesByOrigin(t *testing.T) {
	cases := []struct {
		name, allowed, origin string
		wantAllow             string
		wantVary              bool
	}{
		{"a listed origin", "https://app.example", "https://app.example", "https://app.example", true},
		{"an unlisted origin", "https://app.example", "https://other.example", "", true},
		{"no origin", "https://app.example", "", "", false},
		{"any origin", "*", "https://other.example", "*", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, func(s *setup) { s.server.CORSOrigins = []string{c.allowed} })
			for _, method := range []string{http.MethodGet, http.MethodOptions} {
				req, _ := http.NewRequest(method, h.url+"/v1/models", nil)
				req.Header.Set("Authorization", "Bearer "+accessKey)
				if c.origin != "" {
					req.Header.Set("Origin", c.origin)
				}
				code, hdr, body := h.do(req)
				if code >= 300 {
					t.Fatalf("%s: %d %s", method, code, body)
				}
				if got := hdr.Get("Access-Control-Allow-Origin"); got != c.wantAllow {
					t.Errorf("%s: Access-Control-Allow-Origin %q, want %q", method, got, c.wantAllow)
				}
				if vary := slices.Contains(hdr.Values("Vary"), "Origin"); vary != c.wantVary {
					t.Errorf("%s: Vary %q, want Origin in it: %v", method, hdr.Values("Vary"), c.wantVary)
				}
			}
			if n := len(h.fake.Jobs()); n != 0 {
				t.Errorf("fal received %d jobs", n)
			}
		})
	}
}
