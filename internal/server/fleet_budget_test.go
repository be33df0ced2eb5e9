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
	r, h, image := requiredBudgetHarness(t)
	r.Stop()
	wantSharedLimitsUnavailable(t, h, image, "with Redis gone")
}

// TestRequiredRefusesABudgetRedisAnswersWithAnError: with REDIS_REQUIRED,
// a budget check Redis answers with an error (as a replica that turned
// read-only after a failover does) while it stays reachable is the
// retryable 503 of shared limits, not the 429 of a spent budget: the
// generous budget was never checked.
func TestRequiredRefusesABudgetRedisAnswersWithAnError(t *testing.T) {
	r, h, image := requiredBudgetHarness(t)
	ctx := context.Background()
	hashes, err := r.Client().Keys(ctx, "falproxy:spend:*").Result()
	if err != nil || len(hashes) == 0 {
		t.Fatalf("budget hashes %v, %v", hashes, err)
	}
	for _, k := range hashes { // every command on them now answers WRONGTYPE
		r.Client().Set(ctx, k, "not a hash", 0)
	}
	wantSharedLimitsUnavailable(t, h, image, "with Redis answering errors")
}

// requiredBudgetHarness serves a key with a generous daily budget through
// a fleet with REDIS_REQUIRED, after one image request served with Redis
// up; image makes another.
func requiredBudgetHarness(t *testing.T) (*redistest.Server, *harness, func() (int, http.Header, []byte)) {
	t.Helper()
	r := redistest.Start(t)
	f, err := fleet.Open(context.Background(), fleet.Options{URL: r.URL(), Required: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	ts := &teamsSetup{url: "sqlite://" + filepath.Join(t.TempDir(), "falproxy.db"), fleet: f}
	h := newHarness(t, withTeams(ts), quick)
	_, key := h.createKey(map[string]any{"name": "capped", "budget_usd": 1000, "budget_period": "daily"})
	image := func() (int, http.Header, []byte) {
		req, _ := http.NewRequest(http.MethodPost, h.url+"/v1/images/generations", strings.NewReader(imageBody))
		req.Header.Set("Authorization", "Bearer "+key)
		return h.do(req)
	}
	if status, _, body := image(); status != http.StatusOK {
		t.Fatalf("with Redis up: %d %s", status, body)
	}
	return r, h, image
}

// wantSharedLimitsUnavailable checks that the next image request gets the
// retryable 503 of shared limits and that fal ran only the first one.
func wantSharedLimitsUnavailable(t *testing.T, h *harness, image func() (int, http.Header, []byte), when string) {
	t.Helper()
	status, hdr, body := image()
	if status != http.StatusServiceUnavailable {
		t.Fatalf("%s: %d %s, want 503", when, status, body)
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
