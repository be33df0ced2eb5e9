package teams

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/falproxy/falproxy/internal/store"
)

// CacheTTL is how long a key looked up in the store is trusted: a key
// revoked by another process stops working within it.
const CacheTTL = 2 * time.Second

// maxCached bounds the cache: clients presenting ever new made-up keys
// cannot grow it without end. Past it the cache starts over.
const maxCached = 10_000

// Gate authenticates virtual keys and keeps their limits, budgets and
// usage.
type Gate struct {
	store  *store.Store
	limits Limits
	ledger *Ledger
	now    func() time.Time

	// storing is held for writing while ledger rows are committed and
	// their spend moved to stored, and for reading while a key's stored
	// spend is read, so that each settled cost is counted exactly once.
	storing sync.RWMutex

	mu    sync.Mutex
	cache map[string]*cached // by key hash
}

type cached struct {
	key     store.Key
	found   bool
	spent   int64 // stored spend of the current period when loaded
	period  time.Time
	loaded  time.Time
	loading sync.Mutex
}

// Options configure a Gate.
type Options struct {
	Store  *store.Store
	Limits Limits // default: LocalLimits
	Logger *slog.Logger
}

// New returns a gate on the store and starts its ledger writer.
func New(opt Options) *Gate {
	if opt.Limits == nil {
		opt.Limits = NewLocalLimits()
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	g := &Gate{store: opt.Store, limits: opt.Limits, now: time.Now, cache: make(map[string]*cached)}
	g.ledger = newLedger(opt.Store, opt.Logger, g.stored)
	return g
}

// Store is the gate's store, for the admin API.
func (g *Gate) Store() *store.Store { return g.store }

// Limits are the gate's counters.
func (g *Gate) Limits() Limits { return g.limits }

// Record queues a ledger row.
func (g *Gate) Record(r store.Row) { g.ledger.Add(r) }

// Close writes the ledger rows still queued, until ctx ends, and reports
// how many were lost.
func (g *Gate) Close(ctx context.Context) int { return g.ledger.Close(ctx) }

// Flush writes the ledger rows queued so far, until ctx ends, and reports
// how many are left.
func (g *Gate) Flush(ctx context.Context) int { return g.ledger.Flush(ctx) }

// stored runs after the ledger committed rows: their spend now counts in
// the store.
func (g *Gate) stored(rows []store.Row) {
	g.storing.Lock()
	defer g.storing.Unlock()
	for _, r := range rows {
		if r.KeyID != "" && r.CostMicros != nil {
			g.limits.Stored(r.KeyID, *r.CostMicros)
		}
	}
}

// ErrUnavailable means the store could not be asked about a key that is
// not cached.
var ErrUnavailable = errors.New("the key store is unavailable")

// Session is a virtual key as a request sees it.
type Session struct {
	Key   store.Key
	entry *cached
}

// Lookup finds the key a client presented. It reports store.ErrNotFound
// for an unknown key and ErrUnavailable when the store cannot answer and
// the key is not cached (a stale entry is used then).
func (g *Gate) Lookup(ctx context.Context, secret string) (*Session, error) {
	hash := store.HashKey(secret)
	g.mu.Lock()
	c := g.cache[hash]
	if c == nil {
		if len(g.cache) >= maxCached {
			clear(g.cache)
		}
		c = &cached{}
		g.cache[hash] = c
	}
	g.mu.Unlock()

	c.loading.Lock()
	defer c.loading.Unlock()
	now := g.now()
	if c.loaded.IsZero() || now.Sub(c.loaded) >= CacheTTL || (c.found && !c.key.PeriodStart(now).Equal(c.period)) {
		if err := g.load(ctx, secret, c, now); err != nil && c.loaded.IsZero() {
			return nil, err
		}
	}
	if !c.found {
		return nil, store.ErrNotFound
	}
	return &Session{Key: c.key, entry: c}, nil
}

// Reserve holds estimate micro-dollars of the session key's budget, with
// the budget and stored spend as the key was last loaded; false when a
// hard budget cannot cover it.
func (g *Gate) Reserve(s *Session, estimate int64) (*Reservation, bool) {
	c := s.entry
	c.loading.Lock()
	defer c.loading.Unlock()
	b := Budget{Limit: -1, Spent: c.spent, HardStop: c.key.HardStop}
	if c.key.BudgetMicros != nil {
		b.Limit = *c.key.BudgetMicros
	}
	return g.limits.Reserve(c.key.ID, b, estimate)
}

// Settle turns a reservation into the actual cost.
func (g *Gate) Settle(r *Reservation, actual int64) { g.limits.Settle(r, actual) }

// load reads a key and its period's spend into c; c.loading is held.
func (g *Gate) load(ctx context.Context, secret string, c *cached, now time.Time) error {
	k, err := g.store.KeyBySecret(ctx, secret)
	if errors.Is(err, store.ErrNotFound) {
		c.found, c.loaded = false, now
		return nil
	}
	if err != nil {
		return ErrUnavailable
	}
	g.storing.RLock()
	defer g.storing.RUnlock()
	period := k.PeriodStart(now)
	spent, err := g.store.Spent(ctx, k.ID, period)
	if err != nil {
		return ErrUnavailable
	}
	g.limits.Loaded(k.ID)
	c.key, c.found, c.spent, c.period, c.loaded = k, true, spent, period, now
	return nil
}

// Forget drops the cached keys after a change through this
// process, so that it applies at once.
func (g *Gate) Forget() {
	g.mu.Lock()
	defer g.mu.Unlock()
	// Changes are rare: dropping every entry is simpler than finding the
	// key's, whose fields belong to their loaders.
	clear(g.cache)
}

// Usable says why a key may not be used now: "disabled", "expired" or "".
func Usable(k store.Key, now time.Time) string {
	switch {
	case !k.Enabled:
		return "disabled"
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return "expired"
	}
	return ""
}

// Allows reports whether the key may use the model alias.
func Allows(k store.Key, alias string) bool {
	return len(k.Models) == 0 || slices.Contains(k.Models, alias)
}
