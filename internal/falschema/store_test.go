package falschema

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/falschema/schematest"
)

// fakeClock is a settable time source.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// schemaServer serves the project's test documents by endpoint_id and
// counts requests per endpoint. Its behaviour can be switched per test.
type schemaServer struct {
	*httptest.Server
	mu       sync.Mutex
	hits     map[string]int
	status   int                      // when non-zero, answer this status instead
	block    map[string]chan struct{} // endpoints whose answer waits for the channel to close
	arrived  chan string              // receives each endpoint as its request arrives
	override map[string][]byte        // documents served instead of the test ones
}

func newSchemaServer(t *testing.T) *schemaServer {
	s := &schemaServer{hits: map[string]int{}, block: map[string]chan struct{}{}, arrived: make(chan string, 100), override: map[string][]byte{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() {
		s.mu.Lock()
		for _, ch := range s.block {
			select {
			case <-ch:
			default:
				close(ch)
			}
		}
		s.mu.Unlock()
		s.Close()
	})
	return s
}

func (s *schemaServer) serve(w http.ResponseWriter, r *http.Request) {
	ep := r.URL.Query().Get("endpoint_id")
	s.mu.Lock()
	s.hits[ep]++
	status, wait, doc := s.status, s.block[ep], s.override[ep]
	s.mu.Unlock()
	s.arrived <- ep
	if wait != nil {
		select {
		case <-wait:
		case <-r.Context().Done():
			return
		}
	}
	if status != 0 {
		http.Error(w, "null", status)
		return
	}
	if doc == nil {
		doc = schematest.Get(ep).Doc
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(doc)
}

func (s *schemaServer) set(f func(s *schemaServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func (s *schemaServer) count(ep string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[ep]
}

func newTestStore(srv *schemaServer, clock *fakeClock, log *bytes.Buffer) *Store {
	o := StoreOptions{URL: srv.URL + "/openapi.json?v=1", HTTP: srv.Client(), TTL: time.Hour, RetryDelay: time.Minute}
	if clock != nil {
		o.Now = clock.Now
	}
	if log != nil {
		o.Logger = slog.New(slog.NewTextHandler(&syncWriter{w: log}, nil))
	}
	return NewStore(o)
}

// syncWriter serialises writes of concurrent loggers into one buffer.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func TestStoreQuery(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.RawQuery
		w.Write(schematest.Get("test/presets").Doc)
	}))
	defer srv.Close()
	s := NewStore(StoreOptions{URL: srv.URL + "/openapi.json?v=1", HTTP: srv.Client()})
	if _, err := s.Get(context.Background(), "test/presets"); err != nil {
		t.Fatal(err)
	}
	if got != "endpoint_id=test%2Fpresets&v=1" {
		t.Errorf("query %q: endpoint_id must be escaped and the URL's own query kept", got)
	}
}

func TestStoreCachesUntilTTL(t *testing.T) {
	srv := newSchemaServer(t)
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	s := newTestStore(srv, clock, nil)
	ctx := context.Background()
	const ep = "test/presets"

	first, err := s.Get(ctx, ep)
	if err != nil {
		t.Fatal(err)
	}
	if first.Endpoint != ep || first.Size.Kind != SizeImageSize {
		t.Fatalf("unexpected capabilities %+v", first)
	}
	clock.Advance(59 * time.Minute)
	again, err := s.Get(ctx, ep)
	if err != nil || again != first {
		t.Fatalf("second Get within TTL: %p %v, want the cached %p", again, err, first)
	}
	if n := srv.count(ep); n != 1 {
		t.Errorf("%d fetches within TTL, want 1", n)
	}
	clock.Advance(2 * time.Minute)
	renewed, err := s.Get(ctx, ep)
	if err != nil || renewed == first {
		t.Fatalf("Get after TTL: %p %v, want a fresh value", renewed, err)
	}
	if n := srv.count(ep); n != 2 {
		t.Errorf("%d fetches after TTL, want 2", n)
	}
	want := StoreStats{Hits: 1, Misses: 1, Stale: 1, Fetches: 2, Refreshes: 1}
	if got := s.Stats(); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
}

func TestStoreServesStaleOnRefreshFailure(t *testing.T) {
	srv := newSchemaServer(t)
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	var log bytes.Buffer
	s := newTestStore(srv, clock, &log)
	ctx := context.Background()
	const ep = "test/pixels"

	first, err := s.Get(ctx, ep)
	if err != nil {
		t.Fatal(err)
	}
	srv.set(func(s *schemaServer) { s.status = http.StatusBadGateway })
	clock.Advance(2 * time.Hour)
	stale, err := s.Get(ctx, ep)
	if err != nil || stale != first {
		t.Fatalf("failed refresh: %p %v, want the stale %p and no error", stale, err, first)
	}
	if !strings.Contains(log.String(), "schema refresh failed") || !strings.Contains(log.String(), "HTTP 502") {
		t.Errorf("no warning logged: %q", log.String())
	}
	// Within the retry delay the stale entry is served without a fetch.
	clock.Advance(30 * time.Second)
	if got, err := s.Get(ctx, ep); err != nil || got != first {
		t.Fatalf("Get during retry delay: %p %v", got, err)
	}
	if n := srv.count(ep); n != 2 {
		t.Errorf("%d fetches, want 2 (no retry before the delay)", n)
	}
	// After it, the next Get tries again, and succeeds once the service is back.
	srv.set(func(s *schemaServer) { s.status = 0 })
	clock.Advance(time.Minute)
	fresh, err := s.Get(ctx, ep)
	if err != nil || fresh == first {
		t.Fatalf("Get after the service recovered: %p %v", fresh, err)
	}
	st := s.Stats()
	if st.RefreshFailures != 1 || st.FetchFailures != 1 || st.Refreshes != 1 || st.Fetches != 3 {
		t.Errorf("stats %+v", st)
	}
}

func TestStoreErrorsWithoutEntry(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		doc       []byte
		maxBytes  int64
		isUnknown bool
		isLarge   bool
		says      string
	}{
		{name: "404", status: http.StatusNotFound, isUnknown: true, says: "HTTP 404"},
		{name: "500", status: http.StatusInternalServerError, says: "HTTP 500"},
		{name: "oversize", doc: bytes.Repeat([]byte(" "), 2048), maxBytes: 1024, isLarge: true, says: "over 1024 bytes"},
		{name: "not a schema", doc: []byte(`{"paths":{}}`), says: "no POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSchemaServer(t)
			srv.set(func(s *schemaServer) {
				s.status = tt.status
				if tt.doc != nil {
					s.override["test/plain"] = tt.doc
				}
			})
			o := StoreOptions{URL: srv.URL, HTTP: srv.Client(), MaxBytes: tt.maxBytes}
			caps, err := NewStore(o).Get(context.Background(), "test/plain")
			if err == nil {
				t.Fatalf("no error; got %+v", caps)
			}
			if errors.Is(err, ErrUnknownEndpoint) != tt.isUnknown || errors.Is(err, ErrTooLarge) != tt.isLarge {
				t.Errorf("error %v: unknown=%v large=%v", err, errors.Is(err, ErrUnknownEndpoint), errors.Is(err, ErrTooLarge))
			}
			if !strings.Contains(err.Error(), tt.says) || !strings.Contains(err.Error(), "test/plain") {
				t.Errorf("error %q should name the endpoint and say %q", err, tt.says)
			}
		})
	}
}

func TestStoreSingleFlight(t *testing.T) {
	srv := newSchemaServer(t)
	const ep = "test/aspect-free"
	release := make(chan struct{})
	srv.set(func(s *schemaServer) { s.block[ep] = release })
	s := newTestStore(srv, nil, nil)

	const n = 20
	results := make([]*Capabilities, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i], errs[i] = s.Get(context.Background(), ep) })
	}
	<-srv.arrived
	close(release)
	wg.Wait()
	for i := range n {
		if errs[i] != nil || results[i] != results[0] {
			t.Fatalf("Get %d: %p %v, want the shared %p", i, results[i], errs[i], results[0])
		}
	}
	if c := srv.count(ep); c != 1 {
		t.Errorf("%d concurrent Gets made %d fetches, want 1", n, c)
	}
	// A Get that starts after the fetch has landed is a hit, not a miss:
	// how many of each depends on scheduling, their sum does not.
	if st := s.Stats(); st.Fetches != 1 || st.Misses < 1 || st.Misses+st.Hits != n {
		t.Errorf("stats %+v", st)
	}
}

// TestStoreCallerCancelDoesNotPoison checks that a caller giving up does
// not fail the fetch it started for everyone else.
func TestStoreCallerCancelDoesNotPoison(t *testing.T) {
	srv := newSchemaServer(t)
	const ep = "test/width-height"
	release := make(chan struct{})
	srv.set(func(s *schemaServer) { s.block[ep] = release })
	s := newTestStore(srv, nil, nil)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := s.Get(ctx, ep)
		done <- err
	}()
	<-srv.arrived
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller got %v, want context.Canceled", err)
	}
	close(release)
	caps, err := s.Get(context.Background(), ep)
	if err != nil || caps.Size.Kind != SizeWidthHeight {
		t.Fatalf("later caller: %+v %v", caps, err)
	}
	if c := srv.count(ep); c != 1 {
		t.Errorf("%d fetches, want 1: the first fetch must have survived its caller", c)
	}
}

// TestStoreWarm checks that Warm returns at its deadline while a slow
// fetch goes on in the background, and that the other endpoints are
// cached.
func TestStoreWarm(t *testing.T) {
	srv := newSchemaServer(t)
	const slow = "test/edit-one"
	fast := []string{"test/presets", "test/pixels", "test/resolution"}
	release := make(chan struct{})
	srv.set(func(s *schemaServer) { s.block[slow] = release })
	var log bytes.Buffer
	s := newTestStore(srv, nil, &log)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	s.Warm(ctx, append([]string{slow}, fast...))
	if ctx.Err() == nil {
		t.Fatal("Warm returned before its deadline although a fetch was still blocked")
	}
	if !strings.Contains(log.String(), "did not finish in time") {
		t.Errorf("no warning about the slow endpoint: %q", log.String())
	}
	close(release)
	for _, ep := range append(fast, slow) {
		if _, err := s.Get(context.Background(), ep); err != nil {
			t.Errorf("%s: %v", ep, err)
		}
		if c := srv.count(ep); c != 1 {
			t.Errorf("%s fetched %d times, want 1", ep, c)
		}
	}
}

func TestStoreWarmLogsFailures(t *testing.T) {
	srv := newSchemaServer(t)
	srv.set(func(s *schemaServer) { s.status = http.StatusNotFound })
	var log bytes.Buffer
	s := newTestStore(srv, nil, &log)
	s.Warm(context.Background(), []string{"test/presets"})
	if !strings.Contains(log.String(), "schema warm-up failed") || !strings.Contains(log.String(), "test/presets") {
		t.Errorf("log %q", log.String())
	}
}

// TestStoreCached checks that Cached answers from the cache only: nothing
// before the first fetch, the entry after it, also once expired, and never
// a fetch or a counted Get.
func TestStoreCached(t *testing.T) {
	srv := newSchemaServer(t)
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	s := newTestStore(srv, clock, nil)
	const ep = "test/presets"
	if caps, ok := s.Cached(ep); ok || caps != nil {
		t.Fatalf("Cached before any fetch = %v, %v", caps, ok)
	}
	first, err := s.Get(context.Background(), ep)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Hour)
	if caps, ok := s.Cached(ep); !ok || caps != first {
		t.Fatalf("Cached of an expired entry = %p, %v; want %p", caps, ok, first)
	}
	if n := srv.count(ep); n != 1 {
		t.Errorf("%d fetches, want 1", n)
	}
	if got, want := s.Stats(), (StoreStats{Misses: 1, Fetches: 1}); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
}

// TestStoreGeneration: the generation moves when a fetch stores
// capabilities (the first fetch, a refresh) and stays while what Cached
// answers stays: on hits, Cached itself, and a failed refresh that keeps
// the old capabilities.
func TestStoreGeneration(t *testing.T) {
	const ep = "test/presets"
	srv := newSchemaServer(t)
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	s := newTestStore(srv, clock, nil)
	get := func() {
		t.Helper()
		if _, err := s.Get(context.Background(), ep); err != nil {
			t.Fatal(err)
		}
	}
	start := s.Generation()
	get()
	fetched := s.Generation()
	if fetched == start {
		t.Fatal("the first fetch left the generation unchanged")
	}
	get()
	s.Cached(ep)
	if s.Generation() != fetched {
		t.Error("a cache hit changed the generation")
	}
	srv.set(func(s *schemaServer) { s.status = http.StatusBadGateway })
	clock.Advance(2 * time.Hour)
	get()
	if s.Generation() != fetched {
		t.Error("a failed refresh, which keeps the capabilities, changed the generation")
	}
	srv.set(func(s *schemaServer) { s.status = 0 })
	clock.Advance(time.Hour)
	get()
	if s.Generation() == fetched {
		t.Error("a refresh that stored capabilities left the generation unchanged")
	}
}
