package pricing

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Options configure a Catalog.
type Options struct {
	// APIURL is fal's platform API (FAL_API_URL); "" fetches nothing.
	APIURL string
	// Key is the fal key the pricing API is called with.
	Key  string
	HTTP *http.Client
	// File holds prices that override fal's (PRICES_FILE), by endpoint.
	File map[string]Price
	// TTL is how long a fetched price is used before it is fetched again
	// (default a day); RetryAfter how long a failed fetch is not repeated
	// (default a minute).
	TTL        time.Duration
	RetryAfter time.Duration
	Logger     *slog.Logger
}

// Catalog answers the price of an endpoint. Prices from fal are cached per
// endpoint; a failed refresh keeps the stale price.
type Catalog struct {
	opt Options
	mu  sync.Mutex
	got map[string]cached
	// fetching joins concurrent first requests for an endpoint into one
	// call to fal.
	fetching singleflight.Group
}

type cached struct {
	price   Price
	known   bool
	fetched time.Time // of the price, or of the last failed try
}

// NewCatalog returns a catalog.
func NewCatalog(opt Options) *Catalog {
	if opt.TTL <= 0 {
		opt.TTL = 24 * time.Hour
	}
	if opt.RetryAfter <= 0 {
		opt.RetryAfter = time.Minute
	}
	if opt.HTTP == nil {
		opt.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	return &Catalog{opt: opt, got: make(map[string]cached)}
}

// LoadFile reads a prices file: JSON {"endpoint": {"unit_price": 0.025,
// "unit": "image"}, ...}.
func LoadFile(path string) (map[string]Price, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var prices map[string]Price
	if err := json.Unmarshal(b, &prices); err != nil {
		return nil, fmt.Errorf("the prices file %s is not JSON of the form {\"endpoint\": {\"unit_price\": 0.025, \"unit\": \"image\"}}: %w", path, err)
	}
	return prices, nil
}

// Price returns the price of an endpoint, or false when none is known.
func (c *Catalog) Price(ctx context.Context, endpoint string) (Price, bool) {
	if c == nil {
		return Price{}, false
	}
	if p, ok := c.opt.File[endpoint]; ok {
		return p, true
	}
	c.mu.Lock()
	e, seen := c.got[endpoint]
	c.mu.Unlock()
	wait := c.opt.TTL
	if !e.known {
		wait = c.opt.RetryAfter
	}
	if c.opt.APIURL == "" || (seen && time.Since(e.fetched) < wait) {
		return e.price, e.known
	}
	// The call outlives a request that gives up: others may be joined to
	// it, and a failure would leave the endpoint unpriced for RetryAfter.
	fetchCtx := context.WithoutCancel(ctx)
	v, err, _ := c.fetching.Do(endpoint, func() (any, error) { return c.fetch(fetchCtx, endpoint) })
	p, _ := v.(Price)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.opt.Logger.Warn("fal pricing lookup failed", "endpoint", endpoint, "error", err.Error(), "stale_kept", e.known)
		e.fetched = time.Now() // retry later; a stale price stays
		c.got[endpoint] = e
		return e.price, e.known
	}
	c.got[endpoint] = cached{price: p, known: p.Unit != "", fetched: time.Now()}
	return p, p.Unit != ""
}

// fetch asks fal's pricing API; an endpoint fal lists no price for comes
// back as the zero Price.
func (c *Catalog) fetch(ctx context.Context, endpoint string) (Price, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	u := c.opt.APIURL + "/v1/models/pricing?endpoint_id=" + url.QueryEscape(endpoint)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Price{}, err
	}
	req.Header.Set("Authorization", "Key "+c.opt.Key)
	resp, err := c.opt.HTTP.Do(req)
	if err != nil {
		return Price{}, fmt.Errorf("the pricing API did not answer")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Price{}, fmt.Errorf("the pricing API answered %d", resp.StatusCode)
	}
	var body struct {
		Prices []struct {
			EndpointID string  `json:"endpoint_id"`
			UnitPrice  float64 `json:"unit_price"`
			Unit       string  `json:"unit"`
			Currency   string  `json:"currency"`
		} `json:"prices"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return Price{}, fmt.Errorf("the pricing API's answer is not JSON")
	}
	for _, p := range body.Prices {
		if p.EndpointID == endpoint && (p.Currency == "" || p.Currency == "USD") {
			return Price{UnitPrice: p.UnitPrice, Unit: p.Unit}, nil
		}
	}
	return Price{}, nil
}

// Warm fetches the prices of endpoints, so that the first requests do not
// wait for fal's pricing API; serve runs it beside start-up.
func (c *Catalog) Warm(ctx context.Context, endpoints []string) {
	if c == nil {
		return
	}
	for _, e := range endpoints {
		if ctx.Err() != nil {
			return
		}
		c.Price(ctx, e)
	}
}
