package falschema

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// ErrUnknownEndpoint is matched (errors.Is) by Store.Get's error when the
// schema service answers 404: fal has no such endpoint.
var ErrUnknownEndpoint = errors.New("unknown fal endpoint")

// ErrTooLarge is matched when a document exceeds StoreOptions.MaxBytes.
var ErrTooLarge = errors.New("schema document too large")

// Defaults of StoreOptions.
const (
	DefaultTTL          = 24 * time.Hour
	DefaultMaxBytes     = 4 << 20
	DefaultFetchTimeout = 30 * time.Second
	DefaultRetryDelay   = time.Minute
)

// StoreOptions configure a Store. Zero fields take the defaults.
type StoreOptions struct {
	// URL is the schema service (FAL_OPENAPI_URL); each fetch adds
	// endpoint_id=<id> to its query.
	URL  string
	HTTP *http.Client // default http.DefaultClient
	// TTL is how long a fetched document is used before it is fetched
	// again (default 24h).
	TTL    time.Duration
	Logger *slog.Logger // default: discard
	Now    func() time.Time
	// MaxBytes caps a document's size (default 4 MiB).
	MaxBytes int64
	// FetchTimeout bounds one fetch (default 30s). A fetch runs detached
	// from the caller that started it, so one caller giving up does not
	// fail the others waiting on the same fetch.
	FetchTimeout time.Duration
	// RetryDelay is how long a stale entry is served after a failed
	// refresh before the next attempt (default 1 minute, at most TTL), so
	// that an outage of the schema service does not put a fetch in front
	// of every request.
	RetryDelay time.Duration
}

// StoreStats are counters since the Store was created.
type StoreStats struct {
	Hits            int64 `json:"hits"`             // Gets answered by a fresh entry
	Misses          int64 `json:"misses"`           // Gets that found no entry
	Stale           int64 `json:"stale"`            // Gets that found an expired entry
	Fetches         int64 `json:"fetches"`          // documents requested from the service
	FetchFailures   int64 `json:"fetch_failures"`   // fetches that failed
	Refreshes       int64 `json:"refreshes"`        // expired entries replaced by a new fetch
	RefreshFailures int64 `json:"refresh_failures"` // failed refreshes (the stale entry was kept)
}

// Store fetches endpoint documents, reduces them and caches the result per
// endpoint. It is safe for concurrent use.
type Store struct {
	opt   StoreOptions
	group singleflight.Group

	mu      sync.Mutex
	entries map[string]*entry

	hits, misses, stale, fetches, fetchFailures, refreshes, refreshFailures atomic.Int64
}

// entry is one cached reduction; it is replaced, never modified. After a
// failed refresh its replacement expires at the next retry.
type entry struct {
	caps    *Capabilities
	expires time.Time
}

// NewStore returns an empty Store.
func NewStore(o StoreOptions) *Store {
	if o.HTTP == nil {
		o.HTTP = http.DefaultClient
	}
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.FetchTimeout <= 0 {
		o.FetchTimeout = DefaultFetchTimeout
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = DefaultRetryDelay
	}
	o.RetryDelay = min(o.RetryDelay, o.TTL)
	return &Store{opt: o, entries: map[string]*entry{}}
}

// Get returns the capabilities of endpoint, from the cache while fresh.
// Concurrent Gets of one endpoint share a single fetch. When a refresh
// fails, or ctx ends while waiting for one, the stale entry is returned;
// with no entry the error wraps the cause (ErrUnknownEndpoint for a 404).
func (s *Store) Get(ctx context.Context, endpoint string) (*Capabilities, error) {
	s.mu.Lock()
	e := s.entries[endpoint]
	s.mu.Unlock()
	now := s.opt.Now()
	switch {
	case e != nil && now.Before(e.expires):
		s.hits.Add(1)
		return e.caps, nil
	case e != nil:
		s.stale.Add(1)
	default:
		s.misses.Add(1)
	}
	ch := s.group.DoChan(endpoint, func() (any, error) {
		return s.refresh(context.WithoutCancel(ctx), endpoint)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*Capabilities), nil
	case <-ctx.Done():
		if e != nil {
			return e.caps, nil
		}
		return nil, fmt.Errorf("falschema: waiting for %s: %w", endpoint, ctx.Err())
	}
}

// refresh fetches endpoint and updates the cache. On failure an existing
// entry is kept, served until the next retry, and returned.
func (s *Store) refresh(ctx context.Context, endpoint string) (*Capabilities, error) {
	s.mu.Lock()
	e := s.entries[endpoint]
	s.mu.Unlock()
	if e != nil && s.opt.Now().Before(e.expires) {
		return e.caps, nil // refreshed by a flight that ended after our caller looked
	}
	ctx, cancel := context.WithTimeout(ctx, s.opt.FetchTimeout)
	defer cancel()
	s.fetches.Add(1)
	caps, err := s.fetch(ctx, endpoint)
	now := s.opt.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.entries[endpoint]
	if err != nil {
		s.fetchFailures.Add(1)
		if old == nil {
			return nil, err
		}
		s.refreshFailures.Add(1)
		s.entries[endpoint] = &entry{caps: old.caps, expires: now.Add(s.opt.RetryDelay)}
		s.opt.Logger.WarnContext(ctx, "schema refresh failed; serving the cached schema",
			"endpoint", endpoint, "err", err, "retry_in", s.opt.RetryDelay)
		return old.caps, nil
	}
	if old != nil {
		s.refreshes.Add(1)
	}
	s.entries[endpoint] = &entry{caps: caps, expires: now.Add(s.opt.TTL)}
	return caps, nil
}

// fetch downloads and reduces one document.
func (s *Store) fetch(ctx context.Context, endpoint string) (*Capabilities, error) {
	u, err := url.Parse(s.opt.URL)
	if err != nil {
		return nil, fmt.Errorf("falschema: schema URL: %w", err)
	}
	q := u.Query()
	q.Set("endpoint_id", endpoint)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("falschema: fetch %s: %w", endpoint, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.opt.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("falschema: fetch %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, fmt.Errorf("falschema: fetch %s: %w (HTTP 404)", endpoint, ErrUnknownEndpoint)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("falschema: fetch %s: HTTP %d", endpoint, resp.StatusCode)
	}
	doc, err := io.ReadAll(io.LimitReader(resp.Body, s.opt.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("falschema: fetch %s: %w", endpoint, err)
	}
	if int64(len(doc)) > s.opt.MaxBytes {
		return nil, fmt.Errorf("falschema: fetch %s: %w (over %d bytes)", endpoint, ErrTooLarge, s.opt.MaxBytes)
	}
	return Reduce(doc, endpoint)
}

// Warm fetches every endpoint concurrently and returns when all are done
// or ctx ends, whichever is first; fetches still running then finish in
// the background and fill the cache. Failures are logged, not returned:
// a model whose schema cannot be fetched yet is retried on first use.
func (s *Store) Warm(ctx context.Context, endpoints []string) {
	var wg sync.WaitGroup
	for _, ep := range endpoints {
		wg.Go(func() {
			_, err := s.Get(ctx, ep)
			switch {
			case err != nil && ctx.Err() != nil:
				s.opt.Logger.WarnContext(ctx, "schema warm-up did not finish in time; continuing in the background", "endpoint", ep)
			case err != nil:
				s.opt.Logger.WarnContext(ctx, "schema warm-up failed", "endpoint", ep, "err", err)
			}
		})
	}
	wg.Wait()
}

// Stats returns the counters.
func (s *Store) Stats() StoreStats {
	return StoreStats{
		Hits:            s.hits.Load(),
		Misses:          s.misses.Load(),
		Stale:           s.stale.Load(),
		Fetches:         s.fetches.Load(),
		FetchFailures:   s.fetchFailures.Load(),
		Refreshes:       s.refreshes.Load(),
		RefreshFailures: s.refreshFailures.Load(),
	}
}
