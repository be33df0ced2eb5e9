package server_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/store/pgtest"
	"github.com/falproxy/falproxy/internal/teams"
)

// stallingProxy forwards TCP to a database until stall, after which the
// database seems to have stopped answering: connections stay open and
// nothing comes back, as with a server lost behind a network fault.
type stallingProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn // the upstream ends, closed by stall
	held   []net.Conn // client ends accepted after stall
	halted bool
}

// newStallingProxy puts a proxy in front of the Postgres database at
// dbURL and returns it with the URL that goes through it.
func newStallingProxy(t *testing.T, dbURL string) (*stallingProxy, string) {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallingProxy{ln: ln, target: u.Host}
	go p.serve()
	t.Cleanup(p.close)
	u.Host = ln.Addr().String()
	return p, u.String()
}

func (p *stallingProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.halted {
			p.held = append(p.held, c)
			p.mu.Unlock()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		p.conns = append(p.conns, up)
		p.held = append(p.held, c)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c) }()
		go func() { _, _ = io.Copy(c, up) }()
	}
}

// stall cuts every connection from the database while leaving the
// clients' ends open and silent.
func (p *stallingProxy) stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.halted = true
	for _, c := range p.conns {
		_ = c.Close()
	}
}

func (p *stallingProxy) close() {
	_ = p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range append(p.conns, p.held...) {
		_ = c.Close()
	}
}

// TestStalledDatabaseHoldsNoCachedKey: once Postgres stops answering, a
// key cached before, even past its cache lifetime, is served at once from
// the cache while its refresh fails in the background; a key never seen
// gets 503 with retry advice after the lookup's deadline instead of
// hanging.
func TestStalledDatabaseHoldsNoCachedKey(t *testing.T) {
	proxy, dbURL := newStallingProxy(t, pgtest.URL(t))
	ts := &teamsSetup{url: dbURL, versionTimeout: teams.DefaultVersionTimeout}
	h, cachedKey, coldKey := cachedAndColdKeys(t, ts)
	ctx := context.Background()
	time.Sleep(teams.CacheTTL) // the cached entry is stale from here on
	ts.storeGone = true
	proxy.stall()

	for i := range 2 { // the first starts the refresh, the second finds it under way
		if status, _, body := h.postAs(ctx, cachedKey, "/v1/images/generations", imageBody); status != http.StatusOK {
			t.Fatalf("cached key %d with the database stalled: %d %s", i, status, body)
		}
	}
	status, hdr, body := h.postAs(ctx, coldKey, "/v1/images/generations", imageBody)
	if e := decodeError(t, body); status != http.StatusServiceUnavailable || deref(e.Code) != "key_store_unavailable" || hdr.Get("Retry-After") == "" {
		t.Fatalf("uncached key with the database stalled: %d %+v %v", status, e, hdr)
	}
	if n := h.falSubmits("fal-ai/flux/dev"); n != 3 {
		t.Fatalf("fal received %d jobs, want the cached key's three", n)
	}
}

// TestDatabaseDownRefusesUncheckableKeysOnly: with the database gone, a
// virtual key the process has not cached gets 503 with retry advice; a
// cached one and the operator keys keep working.
func TestDatabaseDownRefusesUncheckableKeysOnly(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		ts := &teamsSetup{url: url}
		h, cachedKey, coldKey := cachedAndColdKeys(t, ts)
		ctx := context.Background()
		ts.storeGone = true
		_ = ts.store.Close()

		status, hdr, body := h.postAs(ctx, coldKey, "/v1/images/generations", imageBody)
		e := decodeError(t, body)
		if status != http.StatusServiceUnavailable || deref(e.Code) != "key_store_unavailable" || hdr.Get("Retry-After") == "" ||
			strings.Contains(e.Message, "sql") {
			t.Fatalf("uncached key with the database down: %d %+v %v", status, e, hdr)
		}
		if status, _, body := h.post(ctx, "/v1/images/generations", imageBody); status != http.StatusOK {
			t.Fatalf("operator key with the database down: %d %s", status, body)
		}
		if status, _, body := h.postAs(ctx, cachedKey, "/v1/images/generations", imageBody); status != http.StatusOK {
			t.Fatalf("cached key with the database down: %d %s", status, body)
		}
		if n := h.falSubmits("fal-ai/flux/dev"); n != 3 {
			t.Fatalf("fal received %d jobs, want the cached key's two and the operator's", n)
		}
	})
}
