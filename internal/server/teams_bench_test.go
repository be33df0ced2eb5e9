package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/pricing"
	"github.com/falproxy/falproxy/internal/registry"
	"github.com/falproxy/falproxy/internal/server"
	"github.com/falproxy/falproxy/internal/store"
	"github.com/falproxy/falproxy/internal/teams"
)

// BenchmarkVirtualKeyOverhead measures what a virtual key adds to a
// request on SQLite: the key lookup (cached, as in steady state), the
// model, rate, concurrency and budget checks, the cost estimate and the
// ledger row. Both sides run the same request in process: a priced model
// (so the estimate and the reservation are made) with an n of a type the
// handler refuses before any fal work, so none is timed; the operator-key side
// without a store is the baseline. It reports the median and the 99th
// percentile of each and their differences.
func BenchmarkVirtualKeyOverhead(b *testing.B) {
	ctx := context.Background()
	st, gate := benchGate(b)
	budget := int64(1_000_000_000)
	_, secret, err := st.CreateKey(ctx, store.Key{Name: "bench", Enabled: true, HardStop: true, BudgetMicros: &budget,
		BudgetPeriod: store.PeriodMonthly, RPM: 1 << 30, MaxConcurrent: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	opt := server.Options{AccessKeys: []string{accessKey}, ImageModels: []registry.ImageModel{{Alias: "flux-dev", Endpoint: "fal-ai/flux/dev"}}}
	plain := server.New(opt)
	opt.Gate = gate
	opt.Prices = pricing.NewCatalog(pricing.Options{File: map[string]pricing.Price{"fal-ai/flux/dev": {UnitPrice: 0.025, Unit: "image"}}})
	metered := server.New(opt)

	const body = `{"model":"flux-dev","prompt":"a lighthouse","n":"two"}`
	once := func(h http.Handler, key string) time.Duration {
		req := httptest.NewRequest(http.MethodPost, "/v1/images/generations", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, req)
		d := time.Since(start)
		if rec.Code != http.StatusBadRequest {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		return d
	}
	once(metered, secret) // the key is now cached
	var base, withKey []time.Duration
	b.ResetTimer()
	for b.Loop() {
		base = append(base, once(plain, accessKey))
		withKey = append(withKey, once(metered, secret))
	}
	b.StopTimer()
	reportAdded(b, "base", base, "key", withKey)
	if lost := gate.Close(ctx); lost != 0 {
		b.Fatalf("%d ledger rows lost", lost)
	}
}

// BenchmarkLedgerThroughput writes ledger rows through the batched
// writer to SQLite and reports rows per second.
func BenchmarkLedgerThroughput(b *testing.B) {
	ctx := context.Background()
	_, gate := benchGate(b)
	cost := int64(25_000)
	row := store.Row{KeyID: "key_bench", KeyName: "bench", Alias: "flux-dev", Endpoint: "fal-ai/flux/dev", Units: 1, Unit: "image",
		CostMicros: &cost, Status: 200, Latency: time.Second, RequestID: "req_bench"}
	const rows = 10_000
	start := time.Now()
	for b.Loop() {
		for range rows {
			row.Time = time.Now()
			gate.Record(row)
		}
		if left := gate.Flush(ctx); left != 0 {
			b.Fatalf("%d rows left", left)
		}
	}
	b.ReportMetric(float64(rows*b.N)/time.Since(start).Seconds(), "rows/s")
	gate.Close(ctx)
}

// benchGate is a gate on a fresh SQLite file, closed after the benchmark.
func benchGate(b *testing.B) (*store.Store, *teams.Gate) {
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	return st, teams.New(teams.Options{Store: st})
}

// reportAdded reports the median and the 99th percentile of two sides
// measured alternately, named by their prefixes, and of what the second
// adds to the first.
func reportAdded(b *testing.B, baseName string, base []time.Duration, withName string, with []time.Duration) {
	for _, q := range []struct {
		name string
		at   float64
	}{{"median", 0.5}, {"p99", 0.99}} {
		qb, qw := quantile(base, q.at), quantile(with, q.at)
		b.ReportMetric(float64(qb.Nanoseconds())/1000, baseName+"-"+q.name+"-µs")
		b.ReportMetric(float64(qw.Nanoseconds())/1000, withName+"-"+q.name+"-µs")
		b.ReportMetric(float64((qw-qb).Nanoseconds())/1000, "added-"+q.name+"-µs")
	}
}

// quantile is the duration below which the share q of ds lie.
func quantile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(int(float64(len(s))*q), len(s)-1)]
}
