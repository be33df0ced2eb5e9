package server_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/falfake"
	"github.com/falproxy/falproxy/internal/fleet"
	"github.com/falproxy/falproxy/internal/pricing"
	"github.com/falproxy/falproxy/internal/server"
	"github.com/falproxy/falproxy/internal/store"
	"github.com/falproxy/falproxy/internal/store/pgtest"
	"github.com/falproxy/falproxy/internal/teams"
)

const adminKey = "admin-secret-for-tests"

// teamsSetup gives the harness a store on url, a gate, the admin API and
// prices from the emulator's pricing API.
type teamsSetup struct {
	url   string
	gate  *teams.Gate
	store *store.Store
	// storeGone: the test closes the store, so the last rows cannot be
	// written.
	storeGone bool
	// priceRetry is how long a failed price fetch is not repeated (0:
	// the catalog's default).
	priceRetry time.Duration
	// prices are PRICES_FILE's.
	prices map[string]pricing.Price
	// fleet, when set, shares the keys' limits through its Redis.
	fleet *fleet.Fleet
	// versionTimeout is how long a request waits for its key's version
	// (0: 10 s, so that a key's change applies to the next request however
	// slow the loaded machine makes the store's answer).
	versionTimeout time.Duration
}

func (ts *teamsSetup) wire(t *testing.T, fake *falfake.Fake, hc *http.Client, opt *server.Options) {
	t.Helper()
	st, err := store.Open(context.Background(), ts.url)
	if err != nil {
		t.Fatal(err)
	}
	gopt := teams.Options{Store: st, VersionTimeout: cmp.Or(ts.versionTimeout, 10*time.Second)}
	if ts.fleet != nil {
		gopt.Limits, opt.Fleet = fleet.NewLimits(ts.fleet), ts.fleet
	}
	ts.gate, ts.store = teams.New(gopt), st
	opt.Gate, opt.AdminKey = ts.gate, adminKey
	// Prices come through the server's fal client, with its keys in turn,
	// as serve fetches them without FAL_ADMIN_KEY; opt.Fal is set later.
	opt.Prices = pricing.NewCatalog(pricing.Options{APIURL: fake.APIURL(), RetryAfter: ts.priceRetry, File: ts.prices,
		Get: func(ctx context.Context, url string) ([]byte, error) { return opt.Fal.PlatformGet(ctx, url) }})
	t.Cleanup(func() {
		wait := 10 * time.Second
		if ts.storeGone {
			wait = 100 * time.Millisecond
		}
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if lost := ts.gate.Close(ctx); lost != 0 && !ts.storeGone {
			t.Errorf("%d ledger rows lost", lost)
		}
		_ = st.Close()
	})
}

// flush writes the queued ledger rows.
func (ts *teamsSetup) flush(t *testing.T) {
	t.Helper()
	if lost := ts.gate.Flush(context.Background()); lost != 0 {
		t.Errorf("%d ledger rows lost", lost)
	}
}

// eachStore runs a test on a fresh SQLite file and a fresh Postgres
// database.
func eachStore(t *testing.T, f func(t *testing.T, url string)) {
	t.Run("sqlite", func(t *testing.T) { f(t, "sqlite://"+filepath.Join(t.TempDir(), "falproxy.db")) })
	t.Run("postgres", func(t *testing.T) { f(t, pgtest.URL(t)) })
}

// withTeams gives the harness a store at url.
func withTeams(ts *teamsSetup) func(*setup) {
	return func(s *setup) { s.teams = ts }
}

// admin calls the admin API and decodes the answer into out.
func (h *harness) admin(method, path string, body any, out any) int {
	h.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, h.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+adminKey)
	status, _, b := h.do(req)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			h.t.Fatalf("%s %s: %d %s", method, path, status, b)
		}
	}
	return status
}

// createKey makes a virtual key through the admin API and returns its id
// and secret.
func (h *harness) createKey(spec map[string]any) (id, secret string) {
	h.t.Helper()
	var got struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	if status := h.admin(http.MethodPost, "/admin/keys", spec, &got); status != http.StatusCreated {
		h.t.Fatalf("creating a key: %d", status)
	}
	return got.ID, got.Key
}

// postAs sends a JSON request with a key.
func (h *harness) postAs(ctx context.Context, key, path, body string) (int, http.Header, []byte) {
	h.t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.url+path, bytes.NewReader([]byte(body)))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	return h.do(req)
}

// usage reads /admin/usage totals.
func (h *harness) usage(query string) []store.UsageTotal {
	h.t.Helper()
	var got struct {
		Data []store.UsageTotal `json:"data"`
	}
	if status := h.admin(http.MethodGet, "/admin/usage"+query, nil, &got); status != http.StatusOK {
		h.t.Fatalf("usage: %d", status)
	}
	return got.Data
}

// quick makes the emulator's jobs finish at once.
func quick(s *setup) { s.fake.GenerationTime = time.Millisecond }

// jsonDecode decodes a response body into v.
func jsonDecode(resp *http.Response, v any) error {
	return json.NewDecoder(resp.Body).Decode(v)
}
