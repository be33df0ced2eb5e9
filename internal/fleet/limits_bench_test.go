package fleet

import (
	"slices"
	"testing"
	"time"

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
	f, err := Open(b.Context(), Options{URL: r.URL()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = f.Close() })
	shared := NewLimits(f, LimitsOptions{})
	b.Cleanup(shared.Close)
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
	shared.Loaded("bench")
	var base, withRedis []time.Duration
	for b.Loop() {
		base = append(base, request(local))
		withRedis = append(withRedis, request(shared))
	}
	if shared.Fallbacks() != 0 {
		b.Fatalf("%d fallbacks: Redis did not answer every call", shared.Fallbacks())
	}
	for _, q := range []struct {
		name string
		at   float64
	}{{"median", 0.5}, {"p99", 0.99}} {
		ql, qr := quantile(base, q.at), quantile(withRedis, q.at)
		b.ReportMetric(float64(ql.Nanoseconds())/1000, "local-"+q.name+"-µs")
		b.ReportMetric(float64(qr.Nanoseconds())/1000, "redis-"+q.name+"-µs")
		b.ReportMetric(float64((qr-ql).Nanoseconds())/1000, "added-"+q.name+"-µs")
	}
}

// quantile is the duration below which the share q of ds lie.
func quantile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(int(float64(len(s))*q), len(s)-1)]
}
