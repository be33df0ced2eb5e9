package server_test

import (
	"context"
	"net/http"
	"strings"
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

// TestSchemaFailureCountedUnderModel: a schema lookup that fails on the
// video and audio routes is counted under the alias the client named, as
// on the other routes, so that an operator sees which model is failing.
func TestSchemaFailureCountedUnderModel(t *testing.T) {
	h := newHarness(t, withVideos(0), withAudio, func(s *setup) { s.metrics = true })
	for _, tt := range []struct{ route, endpoint, body, want string }{
		{"/v1/videos", "fal-ai/sora-2/text-to-video", `{"model":"sora-2","prompt":"a fox"}`,
			`falproxy_requests_total{model="sora-2",route="POST /v1/videos",status="502"} 1`},
		{"/v1/audio/speech", "fal-ai/kokoro/american-english", `{"model":"tts-1","input":"hi","voice":"alloy"}`,
			`falproxy_requests_total{model="tts-1",route="POST /v1/audio/speech",status="502"} 1`},
	} {
		h.fake.Inject(falfake.Fault{Op: falfake.OpSchema, Endpoint: tt.endpoint, Status: http.StatusServiceUnavailable})
		code, _, body := h.post(context.Background(), tt.route, tt.body)
		if code != http.StatusBadGateway || deref(decodeError(t, body).Code) != "schema_unavailable" {
			t.Fatalf("%s: %d %s", tt.route, code, body)
		}
		req, _ := http.NewRequest(http.MethodGet, h.url+"/metrics", nil)
		if _, _, m := h.do(req); !strings.Contains(string(m), tt.want) {
			t.Errorf("metrics lack %s", tt.want)
		}
	}
	if c := h.fake.Counts(); c.Submits != 0 {
		t.Errorf("fal got jobs: %+v", c)
	}
}
