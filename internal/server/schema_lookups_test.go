package server_test

import (
	"context"
	"net/http"
	"testing"
)

// With ALLOW_ANY_ENDPOINT, ids fal does not know cost one schema fetch
// each only once in a while, and only a bounded number of new ids is
// looked up per minute; beyond it the client is told to retry later.
func TestUnknownEndpointLookupsAreBounded(t *testing.T) {
	h := newHarness(t, func(s *setup) {
		s.server.AllowAnyEndpoint = true
		s.schemaLookups = 2
	})
	ctx := context.Background()
	for range 3 {
		if code, _, b := h.post(ctx, "/v1/images/generations", `{"model":"fal-ai/no-such-app","prompt":"p"}`); code != http.StatusNotFound {
			t.Fatalf("unknown endpoint: %d %s", code, b)
		}
	}
	if n := h.fake.Counts().Schemas; n != 1 {
		t.Fatalf("fal received %d schema fetches for one unknown id, want 1", n)
	}
	if code, _, b := h.post(ctx, "/v1/images/generations", `{"model":"fal-ai/other-app","prompt":"p"}`); code != http.StatusNotFound {
		t.Fatalf("second unknown endpoint: %d %s", code, b)
	}
	code, hdr, b := h.post(ctx, "/v1/images/generations", `{"model":"fal-ai/third-app","prompt":"p"}`)
	e := decodeError(t, b)
	if code != http.StatusServiceUnavailable || deref(e.Code) != "model_lookups_throttled" || hdr.Get("Retry-After") == "" || hdr.Get("x-should-retry") == "false" {
		t.Fatalf("third unknown endpoint: %d %v %s", code, hdr, b)
	}
	if n := h.fake.Counts().Schemas; n != 2 {
		t.Fatalf("fal received %d schema fetches, want 2", n)
	}
	if code, _, b := h.post(ctx, "/v1/images/generations", genBody); code != http.StatusOK {
		t.Fatalf("a configured model while lookups are throttled: %d %s", code, b)
	}
}
