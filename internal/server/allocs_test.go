package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/falproxy/falproxy/internal/falfake"
	"github.com/falproxy/falproxy/internal/server"
)

// Allocation budgets of the hot paths, counted with testing.AllocsPerRun
// through the whole handler (middleware included) with a text access log,
// as production writes it. They are counts, not timings: a change that
// adds work to every request fails them. Each budget leaves a little room
// over the count measured (7), since under the race detector sync.Pool
// drops some of what it is given.

// allocsPerRequest is the mean number of allocations of the proxy's work
// on r (which handlers copy rather than change) answered 200 by h.
func allocsPerRequest(t *testing.T, h http.Handler, r *http.Request) float64 {
	t.Helper()
	w := &discardWriter{}
	failed := false
	serve := func() {
		w.header, w.status = nil, 0
		h.ServeHTTP(w, r)
		failed = failed || w.status != http.StatusOK
	}
	serve() // fills caches and pools
	n := testing.AllocsPerRun(100, serve)
	if failed {
		t.Fatalf("a request was answered %d", w.status)
	}
	return n
}

// loggedServer is benchServer with a text access log that formats every
// line, as production does.
func loggedServer(t *testing.T, mod func(*server.Options)) http.Handler {
	h, _ := benchServer(t, falfake.Options{}, func(o *server.Options) {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		if mod != nil {
			mod(o)
		}
	})
	return h
}

func getRequest(path string) *http.Request {
	r, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, path, nil)
	r.Header.Set("Authorization", "Bearer "+accessKey)
	return r
}

func TestFixedAnswerAllocations(t *testing.T) {
	const budget = 10
	h := loggedServer(t, nil)
	for _, path := range []string{"/v1/models", "/health"} {
		got := allocsPerRequest(t, h, getRequest(path))
		t.Logf("GET %s: %.1f allocations per request", path, got)
		if got > budget {
			t.Errorf("GET %s allocates %.1f times per request, budget %d", path, got, budget)
		}
	}
}
