package pricing

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestUnits(t *testing.T) {
	m := Measures{Images: 2, Megapixels: 2.1, Seconds: 90, Characters: 2500, Tokens: 3_000_000}
	for _, c := range []struct {
		unit string
		want float64
		ok   bool
	}{
		{"image", 2, true},
		{"images", 2, true},
		{"megapixels", 2.1, true},
		{"per megapixel", 2.1, true},
		{"video second", 90, true},
		{"seconds", 90, true},
		{"audio minute", 1.5, true},
		{"minutes", 1.5, true},
		{"1000 characters", 2.5, true},
		{"1k characters", 2.5, true},
		{"1M tokens", 3, true},
		{"per token", 3_000_000, true},
		{"1000 tokens", 3000, true},
		{"compute second", 0, false},
		{"", 0, false},
	} {
		got, ok := Price{UnitPrice: 1, Unit: c.unit}.Units(m)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("%q: %v %v, want %v %v", c.unit, got, ok, c.want, c.ok)
		}
	}
	if c := (Price{UnitPrice: 0.025, Unit: "image"}).CostMicros(3); c != 75_000 {
		t.Errorf("cost %d", c)
	}
}

// pricingAPI is a pricing API that prices every endpoint asked about at
// $0.025 an image, counting calls and the ids of each; while failing it
// answers 502.
type pricingAPI struct {
	*httptest.Server
	calls   atomic.Int32
	failing atomic.Bool
	mu      sync.Mutex
	batches [][]string
}

func newPricingAPI(t *testing.T) *pricingAPI {
	a := &pricingAPI{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.calls.Add(1)
		if r.Header.Get("Authorization") != "Key fal-key" || r.URL.Path != "/v1/models/pricing" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		ids := r.URL.Query()["endpoint_id"]
		a.mu.Lock()
		a.batches = append(a.batches, ids)
		a.mu.Unlock()
		if a.failing.Load() {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		var prices []map[string]any
		for _, id := range ids {
			prices = append(prices, map[string]any{"endpoint_id": id, "unit_price": 0.025, "unit": "image", "currency": "USD"})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"prices": prices, "has_more": false})
	}))
	t.Cleanup(a.Close)
	return a
}

// settled waits for the catalog's fetch of endpoint in flight, if any.
func settled(c *Catalog, endpoint string) {
	_, _, _ = c.fetching.Do(endpoint, func() (any, error) { return nil, nil })
}

// age makes an endpoint's entry as old as d.
func age(c *Catalog, endpoint string, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.got[endpoint]
	e.fetched = time.Now().Add(-d)
	c.got[endpoint] = e
}

// TestCatalogCachesAndKeepsAStalePrice: fal's pricing API is asked once
// per endpoint while the price is fresh, again once it is old, and a
// failed refresh keeps the old price.
func TestCatalogCachesAndKeepsAStalePrice(t *testing.T) {
	api := newPricingAPI(t)
	c := NewCatalog(Options{APIURL: api.URL, Get: WithKey(nil, "fal-key"), TTL: time.Hour, RetryAfter: time.Hour})
	ctx := context.Background()
	for range 3 {
		if p, ok := c.Price(ctx, "fal-ai/flux/dev"); !ok || p.UnitPrice != 0.025 {
			t.Fatalf("price %+v %v", p, ok)
		}
	}
	if api.calls.Load() != 1 {
		t.Fatalf("%d calls for one endpoint within its TTL", api.calls.Load())
	}
	age(c, "fal-ai/flux/dev", 2*time.Hour)
	api.failing.Store(true)
	if p, ok := c.Price(ctx, "fal-ai/flux/dev"); !ok || p.UnitPrice != 0.025 {
		t.Fatalf("during a failing refresh: %+v %v", p, ok)
	}
	settled(c, "fal-ai/flux/dev")
	if p, ok := c.Price(ctx, "fal-ai/flux/dev"); !ok || p.UnitPrice != 0.025 {
		t.Fatalf("after a failed refresh: %+v %v", p, ok)
	}
	if api.calls.Load() != 2 {
		t.Fatalf("the old entry was not refreshed once: %d calls", api.calls.Load())
	}
}

// TestStalePriceIsServedWhileRefreshed: a request finding a price past
// its TTL goes on with it at once, whatever fal's pricing API is doing;
// one background call refreshes it. Requests without an endpoint ask
// fal nothing.
func TestStalePriceIsServedWhileRefreshed(t *testing.T) {
	api := newPricingAPI(t)
	var held atomic.Bool
	hold := make(chan struct{})
	get := WithKey(nil, "fal-key")
	c := NewCatalog(Options{APIURL: api.URL, TTL: time.Hour, Get: func(ctx context.Context, u string) ([]byte, error) {
		if held.Load() {
			<-hold // a pricing API that does not answer, whatever the deadline
		}
		return get(ctx, u)
	}})
	ctx := context.Background()
	c.Price(ctx, "fal-ai/flux/dev")
	age(c, "fal-ai/flux/dev", 2*time.Hour)
	held.Store(true)
	for range 3 { // would wait for ever if a request waited on the refresh
		if p, ok := c.Price(ctx, "fal-ai/flux/dev"); !ok || p.UnitPrice != 0.025 {
			t.Fatalf("stale price: %+v %v", p, ok)
		}
	}
	close(hold)
	settled(c, "fal-ai/flux/dev")
	if _, ok := c.Price(ctx, ""); ok {
		t.Fatal("a request without an endpoint got a price")
	}
	if n := api.calls.Load(); n != 2 {
		t.Fatalf("%d calls, want the first fetch and one refresh", n)
	}
}

// TestWarmAsksForFiftyEndpointsACall: start-up fetches 120 endpoints in
// three calls of at most 50 ids, and every one is priced after.
func TestWarmAsksForFiftyEndpointsACall(t *testing.T) {
	api := newPricingAPI(t)
	c := NewCatalog(Options{APIURL: api.URL, Get: WithKey(nil, "fal-key")})
	var ids []string
	for i := range 120 {
		ids = append(ids, fmt.Sprintf("fal-ai/model-%d", i))
	}
	c.Warm(context.Background(), append(ids, "", ids[0]))
	if len(api.batches) != 3 || len(api.batches[0]) != 50 || len(api.batches[2]) != 20 {
		t.Fatalf("calls of %d ids", lens(api.batches))
	}
	for _, id := range ids {
		if _, ok := c.Price(context.Background(), id); !ok {
			t.Fatalf("%s not priced after Warm", id)
		}
	}
	if n := api.calls.Load(); n != 3 {
		t.Fatalf("%d calls", n)
	}
}

func lens(batches [][]string) []int {
	out := make([]int, len(batches))
	for i, b := range batches {
		out[i] = len(b)
	}
	return out
}

func TestPricesFileOverridesTheAPI(t *testing.T) {
	c := NewCatalog(Options{APIURL: "http://127.0.0.1:1", Get: WithKey(nil, "fal-key"), File: map[string]Price{"fal-ai/flux/dev": {UnitPrice: 0.01, Unit: "image"}}})
	if p, ok := c.Price(context.Background(), "fal-ai/flux/dev"); !ok || p.UnitPrice != 0.01 {
		t.Fatalf("%+v %v", p, ok)
	}
	if _, ok := c.Price(context.Background(), "fal-ai/unknown"); ok {
		t.Fatal("an unreachable API made up a price")
	}
}

// TestModelPriceAndTokenRates: a model behind an LLM endpoint is priced by
// the file's "<endpoint>#<model>" entry, else at the endpoint's price, and
// input and output tokens at their own rates when the price has them.
func TestModelPriceAndTokenRates(t *testing.T) {
	c := NewCatalog(Options{File: map[string]Price{
		"openrouter/router":               {UnitPrice: 1, Unit: "1M tokens"},
		"openrouter/router#openai/gpt-4o": {Unit: "1M tokens", InputUnitPrice: 2.5, OutputUnitPrice: 10},
	}})
	p, ok := c.ModelPrice(context.Background(), "openrouter/router", "openai/gpt-4o")
	if !ok || p.OutputUnitPrice != 10 {
		t.Fatalf("gpt-4o at the router: %+v %v", p, ok)
	}
	units, micros, ok := p.Cost(Measures{Tokens: 3000, OutputTokens: 1000})
	if !ok || units != 0.003 || micros != 2000*2.5+1000*10 {
		t.Fatalf("2000 input and 1000 output tokens: %v units, %d µ$", units, micros)
	}
	p, ok = c.KnownModelPrice("openrouter/router", "meta/llama")
	if _, micros, _ := p.Cost(Measures{Tokens: 3000, OutputTokens: 1000}); !ok || micros != 3000 {
		t.Fatalf("a model without its own price costs the endpoint's: %+v %d", p, micros)
	}
}
