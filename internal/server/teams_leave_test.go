package server_test

import (
	"context"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/falfake"
)

// leaveWhile sends an image request with key, waits until fal has
// received calls of the kind calls counts, then leaves as a client that
// gives up does.
func leaveWhile(t *testing.T, h *harness, key string, calls func(falfake.Counts) int) {
	t.Helper()
	cancel, done := h.postInBackgroundAs(key, "/v1/images/generations", imageBody)
	eventually(t, "fal to receive the call", func() bool { return calls(h.fake.Counts()) > 0 })
	cancel()
	<-done
}

// chargedAsFalBills checks that the ledger holds what fal bills, one
// flux-dev image, and that the key's hard budget of two images has room
// for one more request only.
func chargedAsFalBills(t *testing.T, h *harness, ts *teamsSetup, key string) {
	t.Helper()
	const image = 0.025
	var cost float64
	eventually(t, "the ledger to hold fal's bill", func() bool {
		ts.flush(t)
		total := h.usage("")
		cost = 0
		for _, u := range total {
			cost += u.CostUSD
		}
		return math.Abs(cost-image) < 1e-9
	})
	if bill := h.fake.BillUSD(); math.Abs(bill-image) > 1e-9 {
		t.Fatalf("the emulator billed $%v, want one image", bill)
	}
	h.fake.ClearFaults()
	for i, want := range []int{http.StatusOK, http.StatusTooManyRequests} { // the budget's second image, then none
		if status, _, body := h.postAs(context.Background(), key, "/v1/images/generations", imageBody); status != want {
			t.Fatalf("request %d after the one left: %d %s, want %d", i+1, status, body, want)
		}
	}
	if n := h.falSubmits("fal-ai/flux/dev"); n != 2 {
		t.Fatalf("fal received %d jobs, want 2", n)
	}
}

// TestJobsCompletedWhileTheClientLeavesAreCharged: the client leaves
// while falproxy reads the result of a job fal has completed, or while it
// waits for the status of a job fal has meanwhile completed, so that the
// cancel comes too late. fal bills the job either way, so the ledger
// records its cost and the key's budget counts it.
func TestJobsCompletedWhileTheClientLeavesAreCharged(t *testing.T) {
	for _, c := range []struct {
		name  string
		op    falfake.Op // the call fal holds when the client leaves
		calls func(falfake.Counts) int
	}{
		{"reading the result", falfake.OpResult, func(c falfake.Counts) int { return c.Results }},
		{"waiting for the status", falfake.OpStream, func(c falfake.Counts) int { return c.StatusStreams }},
	} {
		t.Run(c.name, func(t *testing.T) {
			eachStore(t, func(t *testing.T, url string) {
				ts := &teamsSetup{url: url}
				h := newHarness(t, withTeams(ts), quick)
				_, key := h.createKey(map[string]any{"name": "leaver", "budget_usd": 0.05})
				h.fake.Inject(falfake.Fault{Op: c.op, Delay: time.Minute, Times: 1})
				leaveWhile(t, h, key, c.calls)
				chargedAsFalBills(t, h, ts, key)
			})
		})
	}
}
