package server_test

import (
	"context"
	"net/http"
	"testing"
)

// TestKeyChangesReachAnotherReplicaAtOnce: two falproxy processes share
// the database, each with its own cache of the key. A budget raised,
// then lowered, through one applies to the very next request on the
// other, and so does a revocation.
func TestKeyChangesReachAnotherReplicaAtOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		a := newHarness(t, withTeams(&teamsSetup{url: url}), quick)
		bTeams := &teamsSetup{url: url}
		b := newHarness(t, withTeams(bTeams), quick)
		id, key := a.createKey(map[string]any{"name": "shared", "budget_usd": 0.025})
		ctx := context.Background()
		expect := func(h *harness, want int, what string) {
			t.Helper()
			if status, _, body := h.postAs(ctx, key, "/v1/images/generations", imageBody); status != want {
				t.Fatalf("%s: %d %s, want %d", what, status, body, want)
			}
		}
		expect(b, http.StatusOK, "the first image on the other replica")
		expect(b, http.StatusTooManyRequests, "past the budget on the other replica")
		// The other replica's ledger holds its image before the key is read
		// again: a read while the row is being written counts the row twice
		// for a moment (on the safe side), which would refuse the image the
		// raise allows.
		bTeams.flush(t)
		change := func(fields map[string]any) {
			t.Helper()
			if status := a.admin(http.MethodPatch, "/admin/keys/"+id, fields, nil); status != http.StatusOK {
				t.Fatalf("changing the key: %d", status)
			}
		}
		change(map[string]any{"budget_usd": 0.05})
		expect(b, http.StatusOK, "right after the raise")
		change(map[string]any{"budget_usd": 0.10})
		change(map[string]any{"budget_usd": 0.05})
		expect(b, http.StatusTooManyRequests, "right after the budget was lowered again")
		change(map[string]any{"budget_usd": 1})
		expect(b, http.StatusOK, "right after the second raise")
		if status := a.admin(http.MethodDelete, "/admin/keys/"+id, nil, nil); status != http.StatusOK {
			t.Fatalf("revoke: %d", status)
		}
		expect(b, http.StatusUnauthorized, "right after the revocation")
		if n := len(b.fake.Jobs()); n != 3 {
			t.Fatalf("fal received %d jobs through the other replica, want 3", n)
		}
	})
}
