package server_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/falproxy/falproxy/internal/fleet"
	"github.com/falproxy/falproxy/internal/fleet/redistest"
)

// TestRequiredRefusesABudgetRedisCannotCheck: with REDIS_REQUIRED, a key
// whose budget Redis fails to check (the key has no rate or concurrency
// limit, so nothing asked Redis before) gets the retryable 503 of shared
// limits, never a request run on a local share of the budget.
func TestRequiredRefusesABudgetRedisCannotCheck(t *testing.T) {
	r := redistest.Start(t)
	f, err := fleet.Open(context.Background(), fleet.Options{URL: r.URL(), Required: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	ts := &teamsSetup{url: "sqlite://" + filepath.Join(t.TempDir(), "falproxy.db"), fleet: f}
	h := newHarness(t, withTeams(ts), quick)
	_, key := h.createKey(map[string]any{"name": "capped", "budget_usd": 1, "budget_period": "daily"})
	image := func() (int, http.Header, []byte) {
		req, _ := http.NewRequest(http.MethodPost, h.url+"/v1/images/generations", strings.NewReader(imageBody))
		req.Header.Set("Authorization", "Bearer "+key)
		return h.do(req)
	}
	if status, _, body := image(); status != http.StatusOK {
		t.Fatalf("with Redis up: %d %s", status, body)
	}
	r.Stop()
	status, hdr, body := image()
	if status != http.StatusServiceUnavailable {
		t.Fatalf("with Redis gone: %d %s, want 503", status, body)
	}
	if e := decodeError(t, body); e.Code == nil || *e.Code != "shared_limits_unavailable" {
		t.Errorf("error %+v, want shared_limits_unavailable", e)
	}
	if hdr.Get("X-Should-Retry") != "true" || hdr.Get("Retry-After") != "1" {
		t.Errorf("x-should-retry %q, retry-after %q; want true and 1", hdr.Get("X-Should-Retry"), hdr.Get("Retry-After"))
	}
	if n := h.falSubmits("fal-ai/flux/dev"); n != 1 {
		t.Errorf("fal received %d jobs, want only the one served with Redis up", n)
	}
}
