package pricing

import (
	"context"
	"net/http"
	"net/http/httptest"
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

// TestCatalogCachesAndKeepsAStalePrice: fal's pricing API is asked once
// per endpoint while the price is fresh, again once it is old, and a
// failed refresh keeps the old price.
func TestCatalogCachesAndKeepsAStalePrice(t *testing.T) {
	var calls atomic.Int32
	var failing atomic.Bool
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("Authorization") != "Key fal-key" || r.URL.Path != "/v1/models/pricing" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		if failing.Load() {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"prices":[{"endpoint_id":"` + r.URL.Query().Get("endpoint_id") + `","unit_price":0.025,"unit":"image","currency":"USD"}],"has_more":false}`))
	}))
	defer api.Close()
	c := NewCatalog(Options{APIURL: api.URL, Key: "fal-key", TTL: time.Hour, RetryAfter: time.Hour})
	ctx := context.Background()
	for range 3 {
		if p, ok := c.Price(ctx, "fal-ai/flux/dev"); !ok || p.UnitPrice != 0.025 {
			t.Fatalf("price %+v %v", p, ok)
		}
	}
	if calls.Load() != 1 {
		t.Fatalf("%d calls for one endpoint within its TTL", calls.Load())
	}
	// Age the entry, then fail the refresh: the stale price stays.
	c.mu.Lock()
	e := c.got["fal-ai/flux/dev"]
	e.fetched = time.Now().Add(-2 * time.Hour)
	c.got["fal-ai/flux/dev"] = e
	c.mu.Unlock()
	failing.Store(true)
	if p, ok := c.Price(ctx, "fal-ai/flux/dev"); !ok || p.UnitPrice != 0.025 {
		t.Fatalf("after a failed refresh: %+v %v", p, ok)
	}
	if calls.Load() != 2 {
		t.Fatalf("the old entry was not refreshed: %d calls", calls.Load())
	}
}

func TestPricesFileOverridesTheAPI(t *testing.T) {
	c := NewCatalog(Options{APIURL: "http://127.0.0.1:1", File: map[string]Price{"fal-ai/flux/dev": {UnitPrice: 0.01, Unit: "image"}}})
	if p, ok := c.Price(context.Background(), "fal-ai/flux/dev"); !ok || p.UnitPrice != 0.01 {
		t.Fatalf("%+v %v", p, ok)
	}
	if _, ok := c.Price(context.Background(), "fal-ai/unknown"); ok {
		t.Fatal("an unreachable API made up a price")
	}
}
