package server_test

import (
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/fleet"
	"github.com/falproxy/falproxy/internal/fleet/redistest"
	"github.com/falproxy/falproxy/internal/teams"
)

// benchBudget is a hard budget no benchmark exhausts.
var benchBudget = teams.Budget{Limit: 1 << 50, HardStop: true}

// limitedRequest makes the limit calls of one request of a key with an
// rpm, a max_concurrent and a hard budget, and, with slots, takes and
// gives back its fal job's KEY_CONCURRENCY slot. false when a call
// refused, which no benchmark's limits should.
func limitedRequest(l teams.Limits, slots *fleet.KeySlots) bool {
	if _, ok, _ := l.AllowRequest("bench", 1<<30, time.Now()); !ok {
		return false
	}
	release, ok, _ := l.Acquire("bench", 1<<20)
	if !ok {
		return false
	}
	defer release()
	res, ok, _ := l.Reserve("bench", benchBudget, 25_000)
	if !ok {
		return false
	}
	if slots != nil {
		done, ok, err := slots.TryAcquire("benchkey", 1<<20)
		if err != nil || !ok {
			return false
		}
		done()
	}
	l.Settle(res, 25_000)
	return true
}

// sharedBench opens a fleet on a fresh loopback Redis, with its limits
// and fal key slots.
func sharedBench(b *testing.B) (*fleet.Limits, *fleet.KeySlots) {
	r := redistest.Start(b)
	f, err := fleet.Open(b.Context(), fleet.Options{URL: r.URL()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = f.Close() })
	shared := fleet.NewLimits(f)
	shared.Loaded("bench", time.Time{})
	return shared, fleet.NewKeySlots(f)
}

// BenchmarkSharedLimitsOverhead measures what sharing a virtual key's
// limits and its fal key's KEY_CONCURRENCY through Redis adds to a
// request: the round trips of its rate check, concurrency lease, budget
// reservation, fal key slot and its release, settlement and lease release
// on a loopback Redis, against the same limit calls on LocalLimits (a
// local fal key slot is a channel operation), alternating. It reports the
// median and 99th percentile of each and their difference.
func BenchmarkSharedLimitsOverhead(b *testing.B) {
	shared, slots := sharedBench(b)
	local := teams.NewLocalLimits()
	timed := func(l teams.Limits, slots *fleet.KeySlots) time.Duration {
		start := time.Now()
		if !limitedRequest(l, slots) {
			b.Fatal("a limit refused")
		}
		return time.Since(start)
	}
	var base, withRedis []time.Duration
	for b.Loop() {
		base = append(base, timed(local, nil))
		withRedis = append(withRedis, timed(shared, slots))
	}
	if n := shared.Fallbacks(); n != 0 {
		b.Fatalf("%d fallbacks: Redis did not answer every call", n)
	}
	reportAdded(b, "local", base, "redis", withRedis)
}

// BenchmarkSharedLimitsParallel runs the requests of
// BenchmarkSharedLimitsOverhead concurrently on one key, as a busy
// replica does: ns/op is the replica's cost per request when the calls
// overlap.
func BenchmarkSharedLimitsParallel(b *testing.B) {
	shared, slots := sharedBench(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if !limitedRequest(shared, slots) {
				b.Error("a limit refused")
				return
			}
		}
	})
	if n := shared.Fallbacks(); n != 0 {
		b.Fatalf("%d fallbacks: Redis did not answer every call", n)
	}
}
