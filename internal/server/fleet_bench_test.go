package server_test

import (
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/fleet"
	"github.com/falproxy/falproxy/internal/fleet/redistest"
	"github.com/falproxy/falproxy/internal/teams"
)

// BenchmarkSharedLimitsOverhead measures what sharing a virtual key's
// limits through Redis adds to a request: the round trips of its rate
// check, concurrency lease, budget reservation, settlement and release on
// a loopback Redis, against the same calls on LocalLimits, alternating.
// It reports the median and 99th percentile of each and their difference.
func BenchmarkSharedLimitsOverhead(b *testing.B) {
	r := redistest.Start(b)
	f, err := fleet.Open(b.Context(), fleet.Options{URL: r.URL()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = f.Close() })
	shared := fleet.NewLimits(f, fleet.LimitsOptions{})
	local := teams.NewLocalLimits()
	budget := teams.Budget{Limit: 1 << 50, HardStop: true}
	request := func(l teams.Limits) time.Duration {
		start := time.Now()
		if _, ok := l.AllowRequest("bench", 1<<30, start); !ok {
			b.Fatal("rate refused")
		}
		release, ok := l.Acquire("bench", 1<<20)
		if !ok {
			b.Fatal("slot refused")
		}
		res, ok := l.Reserve("bench", budget, 25_000)
		if !ok {
			b.Fatal("budget refused")
		}
		l.Settle(res, 25_000)
		release()
		return time.Since(start)
	}
	shared.Loaded("bench", time.Time{})
	var base, withRedis []time.Duration
	for b.Loop() {
		base = append(base, request(local))
		withRedis = append(withRedis, request(shared))
	}
	if n := shared.Fallbacks(); n != 0 {
		b.Fatalf("%d fallbacks: Redis did not answer every call", n)
	}
	reportAdded(b, "local", base, "redis", withRedis)
}
