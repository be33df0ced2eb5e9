package main

import (
	"context"
	"time"

	"github.com/falproxy/falproxy/internal/falfake"
)

// upstreamTotal is every HTTP request the emulator received, of any kind.
func upstreamTotal(c falfake.Counts) int64 { return int64(c.Total) }

// tally attributes the emulator's request count to the proxy's requests:
// the direct client counts its own calls, everything else came from the
// proxy. Marks are taken when each proxy request starts; since proxy
// requests run one at a time, everything the proxy sends fal between two
// marks (late cancels included) belongs to the first of them.
type tally struct {
	fake   *falfake.Fake
	direct *directClient
	marks  []int64
}

// proxyCalls is how many requests the emulator has had from the proxy.
func (t *tally) proxyCalls() int64 {
	return upstreamTotal(t.fake.Counts()) - t.direct.calls.Load()
}

// wrap marks the start of every request of a proxy side.
func (t *tally) wrap(f side) side {
	return func(ctx context.Context) (obs, error) {
		t.marks = append(t.marks, t.proxyCalls())
		return f(ctx)
	}
}

// perRequest waits for stragglers, then returns the upstream requests of
// each marked proxy request.
func (t *tally) perRequest(settle time.Duration) []int64 {
	time.Sleep(settle)
	marks := append(t.marks, t.proxyCalls())
	out := make([]int64, len(marks)-1)
	for i := range out {
		out[i] = marks[i+1] - marks[i]
	}
	return out
}
