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

// ErrTooManyLookups is matched (errors.Is) by Store.Lookup's error when the
// endpoint's schema is not cached and LookupsPerMinute endpoints have
// already been fetched for the first time this minute. The error is a
// *LookupLimitError, which says when to try again.
var ErrTooManyLookups = errors.New("too many schema lookups of endpoints not yet known")

// LookupLimitError is Store.Lookup's error when the lookup bound is reached.
type LookupLimitError struct {
	RetryAfter time.Duration // until the bound frees up
}

func (e *LookupLimitError) Error() string {
	return fmt.Sprintf("falschema: %v; retry in %s", ErrTooManyLookups, e.RetryAfter.Round(time.Second))
}

// Is makes errors.Is(err, ErrTooManyLookups) true.
func (e *LookupLimitError) Is(target error) bool { return target == ErrTooManyLookups }

// statusError is a schema service answer other than 200 or 404.
type statusError int

func (e statusError) Error() string { return fmt.Sprintf("HTTP %d", int(e)) }

// HTTPStatus is the status the schema service answered a failed fetch
// with, or 0 when the fetch got no answer or failed for another reason.
func HTTPStatus(err error) int {
	if status, ok := errors.AsType[statusError](err); ok {
		return int(status)
	}
	return 0
}

// Defaults of StoreOptions.
const (
	DefaultTTL          = 24 * time.Hour
	DefaultMaxBytes     = 4 << 20
	DefaultFetchTimeout = 30 * time.Second
	DefaultRetryDelay   = time.Minute

	DefaultFailureTTL          = 30 * time.Second
	DefaultTransientFailureTTL = 5 * time.Second
	DefaultLookupsPerMinute    = 30
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
	// FailureTTL is how long a failed first fetch is remembered and
	// answered from the cache when the failure is the endpoint's (fal does
	// not know it, or refused the request: 4xx); default 30s.
	// TransientFailureTTL is the same for other failures (5xx, network),
	// default 5s. Without them every request for an unknown endpoint
	// (ALLOW_ANY_ENDPOINT) would cost a fetch at fal.
	FailureTTL, TransientFailureTTL time.Duration
	// LookupsPerMinute bounds how many endpoints with nothing cached are
	// fetched per minute by Lookup (default 30; negative means no bound).
	// Beyond it Lookup fails at once with a *LookupLimitError. Get and
	// Warm, for configured endpoints, are not bounded.
	LookupsPerMinute int
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
	FailureHits     int64 `json:"failure_hits"`     // Gets answered by a remembered failure
	Throttled       int64 `json:"throttled"`        // Lookups refused by LookupsPerMinute
}

// Store fetches endpoint documents, reduces them and caches the result per
// endpoint. It is safe for concurrent use.
type Store struct {
	opt   StoreOptions
	group singleflight.Group

	mu       sync.Mutex
	entries  map[string]*entry
	failures map[string]*failure
	// The current minute of LookupsPerMinute: when it began, lookups made.
	windowStart time.Time
	lookups     int

	hits, misses, stale, fetches, fetchFailures, refreshes, refreshFailures atomic.Int64
	failureHits, throttled                                                  atomic.Int64
	// generation counts the fetched capabilities stored (see Generation).
	generation atomic.Uint64
}

// failure is a remembered failed first fetch.
type failure struct {
	err     error
	expires time.Time
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
	if o.FailureTTL <= 0 {
		o.FailureTTL = DefaultFailureTTL
	}
	if o.TransientFailureTTL <= 0 {
		o.TransientFailureTTL = DefaultTransientFailureTTL
	}
	if o.LookupsPerMinute == 0 {
		o.LookupsPerMinute = DefaultLookupsPerMinute
	}
	return &Store{opt: o, entries: map[string]*entry{}, failures: map[string]*failure{}}
}

// Get returns the capabilities of endpoint, from the cache while fresh.
// Concurrent Gets of one endpoint share a single fetch. When a refresh
// fails, or ctx ends while waiting for one, the stale entry is returned;
// with no entry the error wraps the cause (ErrUnknownEndpoint for a 404)
// and is remembered for a while (FailureTTL).
func (s *Store) Get(ctx context.Context, endpoint string) (*Capabilities, error) {
	return s.get(ctx, endpoint, false)
}

// Lookup is Get for an endpoint id that a client named and that is not
// configured (ALLOW_ANY_ENDPOINT): a first fetch counts against
// LookupsPerMinute, and beyond it the error is a *LookupLimitError.
func (s *Store) Lookup(ctx context.Context, endpoint string) (*Capabilities, error) {
	return s.get(ctx, endpoint, true)
}

// get is Get; bounded says whether a first fetch counts against
// LookupsPerMinute.
func (s *Store) get(ctx context.Context, endpoint string, bounded bool) (*Capabilities, error) {
	s.mu.Lock()
	e, f := s.entries[endpoint], s.failures[endpoint]
	s.mu.Unlock()
	now := s.opt.Now()
	switch {
	case e != nil && now.Before(e.expires):
		s.hits.Add(1)
		return e.caps, nil
	case e != nil:
		s.stale.Add(1)
	case f != nil && now.Before(f.expires):
		s.failureHits.Add(1)
		return nil, f.err
	default:
		s.misses.Add(1)
	}
	if e == nil && bounded {
		// The bound is the caller's: a configured model's Get that joins
		// the same first fetch must not fail on it.
		if err := s.takeLookup(); err != nil {
			s.throttled.Add(1)
			return nil, err
		}
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
// entry is kept, served until the next retry, and returned; with none, the
// failure is remembered.
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
			s.rememberFailure(endpoint, err, now)
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
	delete(s.failures, endpoint)
	s.entries[endpoint] = &entry{caps: caps, expires: now.Add(s.opt.TTL)}
	s.generation.Add(1)
	return caps, nil
}

// takeLookup counts one first fetch against LookupsPerMinute, or refuses
// it.
func (s *Store) takeLookup() error {
	if s.opt.LookupsPerMinute < 0 {
		return nil
	}
	now := s.opt.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if end := s.windowStart.Add(time.Minute); !now.Before(end) {
		s.windowStart, s.lookups = now, 0
	}
	if s.lookups >= s.opt.LookupsPerMinute {
		return &LookupLimitError{RetryAfter: s.windowStart.Add(time.Minute).Sub(now)}
	}
	s.lookups++
	return nil
}

// rememberFailure keeps a failed first fetch for FailureTTL when the
// failure is the endpoint's (404 or another 4xx), TransientFailureTTL
// otherwise, and drops expired ones. The caller holds s.mu.
func (s *Store) rememberFailure(endpoint string, err error, now time.Time) {
	ttl := s.opt.TransientFailureTTL
	var status statusError
	if errors.Is(err, ErrUnknownEndpoint) || errors.As(err, &status) && status >= 400 && status < 500 {
		ttl = s.opt.FailureTTL
	}
	for ep, f := range s.failures {
		if !now.Before(f.expires) {
			delete(s.failures, ep)
		}
	}
	s.failures[endpoint] = &failure{err: err, expires: now.Add(ttl)}
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
		return nil, fmt.Errorf("falschema: fetch %s: %w", endpoint, statusError(resp.StatusCode))
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

// Cached returns the capabilities of endpoint when a fetch has brought
// them, fresh or expired, without fetching and without counting a Get:
// for answers that must not wait on fal, such as a list of models.
func (s *Store) Cached(endpoint string) (*Capabilities, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.entries[endpoint]; e != nil {
		return e.caps, true
	}
	return nil, false
}

// Generation changes whenever a fetch stores capabilities, after they are
// stored: while it stays the same, Cached answers for every endpoint what
// it answered before. A reader that derives something from Cached (a list
// of models) reads Generation first, and needs to look again only once it
// has changed, instead of locking the store for every endpoint.
func (s *Store) Generation() uint64 { return s.generation.Load() }

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
		FailureHits:     s.failureHits.Load(),
		Throttled:       s.throttled.Load(),
	}
}
