package pricing

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Options configure a Catalog.
type Options struct {
	// APIURL is fal's platform API (FAL_API_URL); "" fetches nothing.
	APIURL string
	// Get fetches a URL of the platform API with a fal key and returns a
	// 2xx answer's body: FAL_ADMIN_KEY's (see WithKey) or the pool's
	// keys in turn.
	Get func(ctx context.Context, url string) ([]byte, error)
	// File holds prices that override fal's (PRICES_FILE), by endpoint,
	// or by "<endpoint>#<model>" for a model behind an LLM endpoint.
	File map[string]Price
	// TTL is how long a fetched price is fresh (default a day): past it
	// the price is still used while one background fetch refreshes it.
	// RetryAfter is how long a failed fetch is not repeated (default a
	// minute).
	TTL        time.Duration
	RetryAfter time.Duration
	Logger     *slog.Logger
}

// WithKey is a getter that calls the platform API with one key, e.g.
// FAL_ADMIN_KEY; hc nil uses a client with a 10 s timeout.
func WithKey(hc *http.Client, key string) func(context.Context, string) ([]byte, error) {
	if hc == nil {
		hc = &http.Client{Timeout: fetchTimeout}
	}
	return func(ctx context.Context, u string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Key "+key)
		resp, err := hc.Do(req)
		if err != nil {
			return nil, fmt.Errorf("the pricing API did not answer")
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("the pricing API answered %d", resp.StatusCode)
		}
		return io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	}
}

// fetchTimeout bounds one call to the pricing API.
const fetchTimeout = 10 * time.Second

// maxPerCall is the most endpoint ids fal's pricing API takes in one call.
const maxPerCall = 50

// Catalog answers the price of an endpoint. Prices from fal are cached per
// endpoint; a stale price is served while it is refreshed in the
// background, and kept when the refresh fails.
type Catalog struct {
	opt Options
	mu  sync.Mutex
	got map[string]cached
	// fetching joins concurrent fetches of an endpoint into one call.
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
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Get == nil {
		opt.APIURL = ""
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

// Price returns the price of an endpoint, or false when none is known. An
// endpoint never asked about is fetched at once (Warm does that for the
// configured models at start-up); a stale or missing price is fetched
// again in the background, and the request goes on with what is known.
func (c *Catalog) Price(ctx context.Context, endpoint string) (Price, bool) {
	if c == nil || endpoint == "" {
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
	// The fetch outlives a request that gives up: others may be joined to
	// it, and a failure would leave the endpoint unpriced for RetryAfter.
	done := c.fetching.DoChan(endpoint, func() (any, error) {
		c.refresh(context.WithoutCancel(ctx), []string{endpoint})
		return nil, nil
	})
	if seen {
		return e.price, e.known
	}
	<-done
	c.mu.Lock()
	defer c.mu.Unlock()
	e = c.got[endpoint]
	return e.price, e.known
}

// ModelPrice returns the price of model run by endpoint, as an LLM
// endpoint (openrouter/router, fal-ai/any-llm, the OpenAI-compatible
// routes) bills the model behind it: PRICES_FILE's "<endpoint>#<model>"
// entry, else the endpoint's own price. fal's pricing API is asked by
// endpoint only; it takes no model.
func (c *Catalog) ModelPrice(ctx context.Context, endpoint, model string) (Price, bool) {
	if p, ok := c.modelInFile(endpoint, model); ok {
		return p, true
	}
	return c.Price(ctx, endpoint)
}

// KnownModelPrice is ModelPrice without asking fal, as Known.
func (c *Catalog) KnownModelPrice(endpoint, model string) (Price, bool) {
	if p, ok := c.modelInFile(endpoint, model); ok {
		return p, true
	}
	return c.Known(endpoint)
}

func (c *Catalog) modelInFile(endpoint, model string) (Price, bool) {
	if c == nil || model == "" {
		return Price{}, false
	}
	p, ok := c.opt.File[endpoint+"#"+model]
	return p, ok
}

// Known returns the price of an endpoint from the prices file or the
// cache, never asking fal: for ids a client makes up, which must not put
// a call to the pricing API behind every request nor grow the cache.
func (c *Catalog) Known(endpoint string) (Price, bool) {
	if c == nil {
		return Price{}, false
	}
	if p, ok := c.opt.File[endpoint]; ok {
		return p, true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.got[endpoint]
	return e.price, e.known
}

// refresh fetches the prices of endpoints in one call and files them; on
// a failure each keeps what it had, tried again after RetryAfter.
func (c *Catalog) refresh(ctx context.Context, endpoints []string) {
	prices, err := c.fetch(ctx, endpoints)
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range endpoints {
		if err != nil {
			e := c.got[id]
			e.fetched = now
			c.got[id] = e
			continue
		}
		p := prices[id]
		c.got[id] = cached{price: p, known: p.Unit != "", fetched: now}
	}
	if err != nil {
		c.opt.Logger.Warn("fal pricing lookup failed; known prices kept", "endpoints", len(endpoints), "error", err.Error())
	}
}

// fetch asks fal's pricing API for up to maxPerCall endpoints; an
// endpoint fal lists no price for is missing from the answer.
func (c *Catalog) fetch(ctx context.Context, endpoints []string) (map[string]Price, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	q := url.Values{"endpoint_id": endpoints}
	b, err := c.opt.Get(ctx, c.opt.APIURL+"/v1/models/pricing?"+q.Encode())
	if err != nil {
		return nil, err
	}
	var body struct {
		Prices []struct {
			EndpointID string  `json:"endpoint_id"`
			UnitPrice  float64 `json:"unit_price"`
			Unit       string  `json:"unit"`
			Currency   string  `json:"currency"`
		} `json:"prices"`
	}
	if err := json.Unmarshal(b, &body); err != nil {
		return nil, fmt.Errorf("the pricing API's answer is not JSON")
	}
	out := make(map[string]Price, len(body.Prices))
	for _, p := range body.Prices {
		if p.Currency == "" || p.Currency == "USD" {
			out[p.EndpointID] = Price{UnitPrice: p.UnitPrice, Unit: p.Unit}
		}
	}
	return out, nil
}

// Warm fetches the prices of endpoints, maxPerCall to a call, so that the
// first requests do not wait for fal's pricing API; serve runs it beside
// start-up.
func (c *Catalog) Warm(ctx context.Context, endpoints []string) {
	if c == nil || c.opt.APIURL == "" {
		return
	}
	var ids []string
	for _, e := range endpoints {
		if _, inFile := c.opt.File[e]; e != "" && !inFile && !slices.Contains(ids, e) {
			ids = append(ids, e)
		}
	}
	for batch := range slices.Chunk(ids, maxPerCall) {
		if ctx.Err() != nil {
			return
		}
		c.refresh(ctx, batch)
	}
}
