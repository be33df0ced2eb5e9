package falschema

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/falschema/schematest"
)

// A failed first fetch is remembered: an endpoint fal does not know (or
// refuses) for FailureTTL, a passing failure for TransientFailureTTL. Until
// then, Gets are answered from the cache without a fetch.
func TestStoreRemembersFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		ttl    time.Duration
		is     error
	}{
		{"unknown endpoint", http.StatusNotFound, DefaultFailureTTL, ErrUnknownEndpoint},
		{"refused", http.StatusUnauthorized, DefaultFailureTTL, nil},
		{"fal failing", http.StatusBadGateway, DefaultTransientFailureTTL, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newSchemaServer(t)
			srv.set(func(s *schemaServer) { s.status = tc.status })
			clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
			s := newTestStore(srv, clock, nil)
			ctx := context.Background()
			const ep = "acme/made-up"
			for range 3 {
				if _, err := s.Get(ctx, ep); err == nil || tc.is != nil && !errors.Is(err, tc.is) {
					t.Fatalf("Get = %v", err)
				}
			}
			clock.Advance(tc.ttl - time.Second)
			if _, err := s.Get(ctx, ep); err == nil {
				t.Fatal("a remembered failure was forgotten early")
			}
			if n := srv.count(ep); n != 1 {
				t.Fatalf("%d fetches, want 1 while the failure is remembered", n)
			}
			clock.Advance(time.Second)
			srv.set(func(s *schemaServer) { s.status = 0; s.override[ep] = schematest.Get("test/presets").Doc })
			if _, err := s.Get(ctx, ep); err != nil || srv.count(ep) != 2 {
				t.Fatalf("after the failure expired: %v, %d fetches", err, srv.count(ep))
			}
			if st := s.Stats(); st.FailureHits != 3 || st.FetchFailures != 1 || st.Misses != 2 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// At most LookupsPerMinute endpoints with nothing cached are looked up per
// minute; beyond that Lookup fails at once, saying when to retry, while
// cached endpoints are still served.
func TestStoreBoundsLookups(t *testing.T) {
	srv := newSchemaServer(t)
	srv.set(func(s *schemaServer) { s.status = http.StatusNotFound })
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	o := StoreOptions{URL: srv.URL + "/openapi.json", HTTP: srv.Client(), Now: clock.Now, LookupsPerMinute: 2}
	s := NewStore(o)
	ctx := context.Background()
	s.Warm(ctx, []string{"acme/warm"}) // configured endpoints are not counted
	if _, err := s.Get(ctx, "acme/configured"); !errors.Is(err, ErrUnknownEndpoint) {
		t.Fatal(err)
	}
	for _, ep := range []string{"acme/a", "acme/b"} {
		if _, err := s.Lookup(ctx, ep); !errors.Is(err, ErrUnknownEndpoint) {
			t.Fatalf("Get(%s) = %v", ep, err)
		}
	}
	clock.Advance(20 * time.Second)
	_, err := s.Lookup(ctx, "acme/c")
	var limit *LookupLimitError
	if !errors.Is(err, ErrTooManyLookups) || !errors.As(err, &limit) || limit.RetryAfter != 40*time.Second {
		t.Fatalf("third lookup: %v, want ErrTooManyLookups with 40s to wait", err)
	}
	if srv.count("acme/c") != 0 {
		t.Fatal("a refused lookup reached the schema service")
	}
	if _, err := s.Lookup(ctx, "acme/a"); !errors.Is(err, ErrUnknownEndpoint) {
		t.Fatalf("a remembered failure is not answered while throttled: %v", err)
	}
	clock.Advance(40 * time.Second)
	if _, err := s.Lookup(ctx, "acme/c"); !errors.Is(err, ErrUnknownEndpoint) || srv.count("acme/c") != 1 {
		t.Fatalf("next minute: %v", err)
	}
	if st := s.Stats(); st.Throttled != 1 {
		t.Fatalf("stats %+v", st)
	}
}
