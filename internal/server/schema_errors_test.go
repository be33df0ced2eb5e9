package server_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/falproxy/falproxy/internal/falfake"
)

// TestSchemaFetchFailures: every failed schema fetch has a code and the
// retry advice that fits it, and no job is started.
func TestSchemaFetchFailures(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		alias, endpoint string
		fault           falfake.Fault
		status          int
		code            string
		retry           bool
	}{
		{"flux-dev", "fal-ai/flux/dev", falfake.Fault{Status: http.StatusUnauthorized}, http.StatusBadGateway, "fal_auth_failed", false},
		{"sdxl", "fal-ai/fast-sdxl", falfake.Fault{Status: http.StatusForbidden}, http.StatusBadGateway, "fal_auth_failed", false},
		{"ultra", "fal-ai/flux-pro/v1.1-ultra", falfake.Fault{Status: http.StatusBadRequest}, http.StatusBadGateway, "schema_unavailable", false},
		{"ideogram", "fal-ai/ideogram/v2", falfake.Fault{Status: http.StatusServiceUnavailable}, http.StatusBadGateway, "schema_unavailable", true},
		{"imagen4", "fal-ai/imagen4/preview", falfake.Fault{Drop: true}, http.StatusBadGateway, "schema_unavailable", true},
		{"recraft", "fal-ai/recraft/v3/text-to-image", falfake.Fault{Status: http.StatusNotFound}, http.StatusBadGateway, "unknown_endpoint", false},
	}
	for _, tt := range tests {
		t.Run(tt.code+" "+tt.alias, func(t *testing.T) {
			h.fake.Reset()
			f := tt.fault
			f.Op, f.Endpoint = falfake.OpSchema, tt.endpoint
			h.fake.Inject(f)
			code, hdr, body := h.post(context.Background(), "/v1/images/generations", `{"model":"`+tt.alias+`","prompt":"p"}`)
			if code != tt.status {
				t.Fatalf("status %d: %s", code, body)
			}
			if e := checkMessage(t, body); deref(e.Code) != tt.code {
				t.Fatalf("code %q, want %q: %s", deref(e.Code), tt.code, e.Message)
			}
			noRetry := hdr.Get("X-Should-Retry") == "false"
			if tt.retry && (noRetry || hdr.Get("Retry-After") == "") || !tt.retry && !noRetry {
				t.Fatalf("x-should-retry %q, Retry-After %q; want retry %v", hdr.Get("X-Should-Retry"), hdr.Get("Retry-After"), tt.retry)
			}
			if c := h.fake.Counts(); c.Schemas != 1 || c.Submits != 0 {
				t.Fatalf("counts %+v: want one schema fetch and no job", c)
			}
		})
	}
}
