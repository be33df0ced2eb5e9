package server_test

import (
	"context"
	"net/http"
	"testing"
)

// TestRefusalsWriteNoLedgerRow: a request refused before any fal work
// (an unknown, forbidden or unpriced model, a spent budget, a rate limit)
// writes no ledger row, so that usage counts what ran at fal; a request
// that reached fal and failed there is still written.
func TestRefusalsWriteNoLedgerRow(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		ts := &teamsSetup{url: url}
		h := newHarness(t, withTeams(ts), quick)
		_, narrow := h.createKey(map[string]any{"name": "narrow", "models": []string{"flux-dev"}})
		_, poor := h.createKey(map[string]any{"name": "poor", "budget_usd": 0.01})
		_, slow := h.createKey(map[string]any{"name": "slow", "rpm": 1})
		ctx := context.Background()
		const chat = `{"model":"gpt-4o","messages":[{"role":"user","content":"Hello"}]}`
		for _, c := range []struct {
			key, path, body string
			status          int
			code            string
		}{
			{narrow, "/v1/images/generations", `{"model":"no-such-model","prompt":"a"}`, http.StatusNotFound, "model_not_found"},
			{narrow, "/v1/images/generations", `{"model":"sdxl","prompt":"a"}`, http.StatusForbidden, "model_not_allowed"},
			{poor, "/v1/chat/completions", chat, http.StatusForbidden, "model_not_priced"},
			{poor, "/v1/images/generations", `{"model":"flux-dev","prompt":"a"}`, http.StatusTooManyRequests, "insufficient_quota"},
			{slow, "/v1/images/generations", `{"model":"flux-dev","prompt":"[fail] a"}`, http.StatusBadGateway, ""},
			{slow, "/v1/images/generations", `{"model":"flux-dev","prompt":"a"}`, http.StatusTooManyRequests, "rate_limit_exceeded"},
		} {
			status, _, body := h.postAs(ctx, c.key, c.path, c.body)
			if status != c.status || (c.code != "" && deref(decodeError(t, body).Code) != c.code) {
				t.Fatalf("%s: %d %s, want %d %s", c.body, status, body, c.status, c.code)
			}
		}
		if n := len(h.fake.Jobs()); n != 1 {
			t.Fatalf("fal received %d jobs, want the failing one", n)
		}
		ts.flush(t)
		total := h.usage("")
		if len(total) != 1 || total[0].Requests != 1 || total[0].UnpricedRequests != 0 || total[0].CostUSD != 0 {
			t.Fatalf("usage %+v, want only the request that failed at fal", total)
		}
		if byKey := h.usage("?group_by=key"); len(byKey) != 1 || byKey[0].Name != "slow" {
			t.Fatalf("usage by key %+v, want the slow key's failed request only", byKey)
		}
	})
}

// TestRevokedKeyOverItsLimitIsUnauthorized: a key deleted through another
// process (the CLI, another replica) while it is over its requests per
// minute gets 401, not a 429 that would have its client retry.
func TestRevokedKeyOverItsLimitIsUnauthorized(t *testing.T) {
	ts := &teamsSetup{url: sqliteURL(t)}
	h := newHarness(t, withTeams(ts), quick)
	id, key := h.createKey(map[string]any{"name": "once", "rpm": 1})
	ctx := context.Background()
	if status, _, body := h.postAs(ctx, key, "/v1/images/generations", imageBody); status != http.StatusOK {
		t.Fatalf("first request: %d %s", status, body)
	}
	if err := ts.store.DeleteKey(ctx, id); err != nil {
		t.Fatal(err)
	}
	status, hdr, body := h.postAs(ctx, key, "/v1/images/generations", imageBody)
	if e := decodeError(t, body); status != http.StatusUnauthorized || deref(e.Code) != "invalid_api_key" ||
		hdr.Get("X-Should-Retry") != "false" || hdr.Get("Retry-After") != "" {
		t.Fatalf("a revoked key over its limit: %d %v %s", status, hdr, body)
	}
	if n := len(h.fake.Jobs()); n != 1 {
		t.Fatalf("fal received %d jobs, want the first request's", n)
	}
}
