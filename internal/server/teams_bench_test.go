package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/falfake"
	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/pricing"
	"github.com/falproxy/falproxy/internal/registry"
	"github.com/falproxy/falproxy/internal/server"
	"github.com/falproxy/falproxy/internal/store"
	"github.com/falproxy/falproxy/internal/store/pgtest"
	"github.com/falproxy/falproxy/internal/teams"
)

// BenchmarkVirtualKeyOverhead measures what a virtual key adds to a
// request, on SQLite and on Postgres: the key lookup (cached, as in steady
// state, with the read that checks the key is current), the model, rate,
// concurrency and budget checks, the cost estimate, the reservation and
// the ledger row. Both sides run the same request in process: an image
// generation on a priced model that only edits, which the handler refuses
// once the model is admitted (the estimate made, the budget reserved) and
// its schema read (from the emulator, cached after the first request),
// before any fal work, so none is timed; the operator-key side without a
// store is the baseline. It reports the median and the 99th percentile of
// each and their differences.
func BenchmarkVirtualKeyOverhead(b *testing.B) {
	eachBenchStore(b, func(b *testing.B, url string) { virtualKeyOverhead(b, url, 1) })
}

// BenchmarkVirtualKeyOverheadParallel is BenchmarkVirtualKeyOverhead with
// concurrentRequests requests of the same key at once, as under load:
// their key checks share reads, and compete with the ledger's writer.
func BenchmarkVirtualKeyOverheadParallel(b *testing.B) {
	eachBenchStore(b, func(b *testing.B, url string) { virtualKeyOverhead(b, url, concurrentRequests) })
}

// concurrentRequests is how many requests BenchmarkVirtualKeyOverheadParallel
// runs at once.
const concurrentRequests = 64

// virtualKeyOverhead runs the requests of BenchmarkVirtualKeyOverhead,
// concurrency of them at once.
func virtualKeyOverhead(b *testing.B, url string, concurrency int) {
	ctx := context.Background()
	st, gate := benchGate(b, url)
	budget := int64(1_000_000_000)
	_, secret, err := st.CreateKey(ctx, store.Key{Name: "bench", Enabled: true, HardStop: true, BudgetMicros: &budget,
		BudgetPeriod: store.PeriodMonthly, RPM: 1 << 30, MaxConcurrent: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	fake, err := falfake.New(falfake.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = fake.Close() })
	const endpoint = "fal-ai/flux-pro/kontext"
	opt := server.Options{AccessKeys: []string{accessKey}, ImageModels: []registry.ImageModel{{Alias: "kontext", Endpoint: endpoint}},
		Schemas: falschema.NewStore(falschema.StoreOptions{URL: fake.OpenAPIURL(), TTL: time.Hour})}
	plain := server.New(opt)
	opt.Gate = gate
	opt.Prices = pricing.NewCatalog(pricing.Options{File: map[string]pricing.Price{endpoint: {UnitPrice: 0.04, Unit: "image"}}})
	metered := server.New(opt)

	const body = `{"model":"kontext","prompt":"a lighthouse"}`
	once := func(h http.Handler, key string) time.Duration {
		req := httptest.NewRequest(http.MethodPost, "/v1/images/generations", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, req)
		d := time.Since(start)
		if rec.Code != http.StatusBadRequest {
			b.Errorf("status %d: %s", rec.Code, rec.Body)
		}
		if key != accessKey && rec.Header().Get("X-Falproxy-Cost-Usd") == "" {
			b.Error("the request was not priced: the estimate and the reservation were not made")
		}
		return d
	}
	once(plain, accessKey) // the schema is now cached
	once(metered, secret)  // and the key
	var mu sync.Mutex
	var base, withKey []time.Duration
	alternate := func(next func() bool) {
		var myBase, myKey []time.Duration
		for next() {
			myBase = append(myBase, once(plain, accessKey))
			myKey = append(myKey, once(metered, secret))
		}
		mu.Lock()
		base, withKey = append(base, myBase...), append(withKey, myKey...)
		mu.Unlock()
	}
	b.ResetTimer()
	if concurrency == 1 {
		alternate(b.Loop)
	} else {
		b.SetParallelism(max(concurrency/runtime.GOMAXPROCS(0), 1))
		b.RunParallel(func(pb *testing.PB) { alternate(pb.Next) })
	}
	b.StopTimer()
	reportAdded(b, "base", base, "key", withKey)
	if lost := gate.Close(ctx); lost != 0 {
		b.Fatalf("%d ledger rows lost", lost)
	}
}

// BenchmarkLedgerThroughput writes ledger rows through the batched
// writer to SQLite and to Postgres and reports rows per second.
func BenchmarkLedgerThroughput(b *testing.B) { eachBenchStore(b, ledgerThroughput) }

func ledgerThroughput(b *testing.B, url string) {
	ctx := context.Background()
	_, gate := benchGate(b, url)
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

// eachBenchStore runs a benchmark on a fresh SQLite file and a fresh
// Postgres database.
func eachBenchStore(b *testing.B, f func(b *testing.B, url string)) {
	b.Run("sqlite", func(b *testing.B) { f(b, "sqlite://"+filepath.Join(b.TempDir(), "bench.db")) })
	b.Run("postgres", func(b *testing.B) { f(b, pgtest.URL(b)) })
}

// benchGate is a gate on the store at url, closed after the benchmark.
func benchGate(b *testing.B, url string) (*store.Store, *teams.Gate) {
	st, err := store.Open(context.Background(), url)
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
