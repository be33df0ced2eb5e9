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

// maxCached bounds the cache of known keys; past it one entry makes
// room for the next.
const maxCached = 10_000

// maxUnknown bounds the keys remembered as unknown for CacheTTL, so that
// a client presenting the same made-up key costs one query per CacheTTL;
// past it they are forgotten together.
const maxUnknown = 10_000

// loadTimeout bounds the queries that load a key: a database that does not
// answer must not hold requests for longer.
const loadTimeout = 2 * time.Second

// Gate authenticates virtual keys and keeps their limits, budgets and
// usage.
type Gate struct {
	store  *store.Store
	limits Limits
	ledger *Ledger
	// insertRows writes ledger rows: the store's, or a test's wrapper.
	insertRows func(context.Context, []store.Row) ([]bool, error)
	// keyVersion reads a key's version: the store's, or a test's wrapper.
	// versionTimeout bounds it (see Options.VersionTimeout).
	keyVersion     func(ctx context.Context, id string) (time.Time, error)
	versionTimeout time.Duration

	// storing is held for writing from before ledger rows are committed
	// until their spend is moved to stored, and for reading while a key's
	// stored spend is read, so that each settled cost is counted exactly
	// once: a read sees the rows either in the store or in Limits.
	storing sync.RWMutex

	mu      sync.Mutex
	cache   map[string]*cached   // known keys by hash
	pending map[string]*cached   // keys by hash being loaded for the first time
	unknown map[string]time.Time // when each hash was last found unknown
}

type cached struct {
	hash string // the key's store.HashKey
	// loading serialises the loads a request waits for.
	loading sync.Mutex

	mu         sync.Mutex // guards the fields below
	key        store.Key
	found      bool
	spent      int64  // stored spend of the current period when loaded
	mark       string // what Limits.Loaded answered for that read
	period     time.Time
	loaded     time.Time
	refreshing bool // a background load is under way
	// check is the version read under way, which every request of the
	// key that spends waits for rather than making its own.
	check *versionRead
	// checksFrom is when version reads are tried again after one failed
	// or timed out.
	checksFrom time.Time
	// refusalCheck is when a refused request last read the key again
	// (RecheckRefused).
	refusalCheck time.Time
}

// Options configure a Gate.
type Options struct {
	Store  *store.Store
	Limits Limits // default: LocalLimits
	Logger *slog.Logger
	// VersionTimeout bounds how long a request that could spend waits
	// for its key's version (see Recheck); 0: DefaultVersionTimeout.
	VersionTimeout time.Duration
}

// New returns a gate on the store and starts its ledger writer.
func New(opt Options) *Gate {
	if opt.Limits == nil {
		opt.Limits = NewLocalLimits()
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.VersionTimeout <= 0 {
		opt.VersionTimeout = DefaultVersionTimeout
	}
	g := &Gate{versionTimeout: opt.VersionTimeout, store: opt.Store, limits: opt.Limits, insertRows: opt.Store.InsertRows, keyVersion: opt.Store.KeyVersion,
		cache: make(map[string]*cached), pending: make(map[string]*cached), unknown: make(map[string]time.Time)}
	g.ledger = newLedger(opt.Logger, g.commit)
	return g
}

// Store is the gate's store, for the admin API.
func (g *Gate) Store() *store.Store { return g.store }

// AllowRequest counts a request of the session's key against its rpm, or
// reports how long until one more would be allowed; unavailable: the
// shared limits could not be asked (see Limits).
func (g *Gate) AllowRequest(s *Session, now time.Time) (retryAfter time.Duration, ok, unavailable bool) {
	return g.limits.AllowRequest(s.Key.ID, s.Key.RPM, now)
}

// Acquire takes one of the session key's max_concurrent slots; release
// gives it back.
func (g *Gate) Acquire(s *Session) (release func(), ok, unavailable bool) {
	return g.limits.Acquire(s.Key.ID, s.Key.MaxConcurrent)
}

// Record queues a ledger row.
func (g *Gate) Record(r store.Row) { g.ledger.Add(r) }

// Adjust queues a ledger row that no reservation settled, such as a
// settlement refunding a video: its cost counts against the key's budget
// at once, as a settled request's does, until the ledger holds it.
func (g *Gate) Adjust(r store.Row) {
	g.book(r)
	g.ledger.Add(r)
}

// book counts a row's cost as spent but not yet stored; a negative cost
// frees budget.
func (g *Gate) book(r store.Row) {
	if r.KeyID == "" || r.CostMicros == nil {
		return
	}
	res, _, _ := g.limits.Reserve(r.KeyID, Budget{Limit: -1}, 0)
	g.limits.Settle(res, *r.CostMicros)
}

// Close writes the ledger rows still queued, until ctx ends, and reports
// how many were lost.
func (g *Gate) Close(ctx context.Context) int { return g.ledger.Close(ctx) }

// Flush writes the ledger rows queued so far, until ctx ends, and reports
// how many are left: the admin API flushes before it reads usage and
// spend, so that they include every request that has ended.
func (g *Gate) Flush(ctx context.Context) int { return g.ledger.flush(ctx) }

// LedgerDropped is how many ledger rows were dropped because the database
// was unavailable for longer than the queue could hold.
func (g *Gate) LedgerDropped() uint64 { return g.ledger.Dropped() }

// commit writes a batch of ledger rows and moves their spend to stored,
// with storing held across both so that no load of a key's spend falls
// between them. A row the ledger already held (a settlement written
// twice) is stored once: a skipped row's spend is taken back unstored.
func (g *Gate) commit(ctx context.Context, rows []store.Row) error {
	g.storing.Lock()
	defer g.storing.Unlock()
	inserted, err := g.insertRows(ctx, rows)
	if err != nil {
		return err
	}
	stored := make(map[string]int64) // by key, so that a batch is one call
	for i, r := range rows {
		if r.KeyID == "" || r.CostMicros == nil {
			continue
		}
		if inserted[i] {
			stored[r.KeyID] += *r.CostMicros
		} else {
			g.book(store.Row{KeyID: r.KeyID, CostMicros: new(-*r.CostMicros)})
		}
	}
	if len(stored) > 0 {
		g.limits.Stored(stored)
	}
	return nil
}

// ErrUnavailable means the store could not be asked about a key that is
// not cached.
var ErrUnavailable = errors.New("the key store is unavailable")

// Session is a virtual key as a request sees it.
type Session struct {
	Key   store.Key
	entry *cached
}

// Lookup finds the key a client presented, by its store.HashKey (the
// caller hashes it once for every use). It reports store.ErrNotFound
// for an unknown key and ErrUnavailable when the store cannot answer in
// time and the key is not cached. A cached key is used as it is, and
// reloaded in the background past CacheTTL, so that a key revoked
// through any process stops working within seconds without a request
// waiting on the database; a request that spends checks it first
// (Recheck).
func (g *Gate) Lookup(ctx context.Context, hash string) (*Session, error) {
	now := time.Now()
	c := g.entry(hash, now)
	if c == nil {
		return nil, store.ErrNotFound
	}
	if known := g.cachedSession(hash, c, now); known != nil {
		return known, nil
	}
	return g.reload(ctx, c, nil, now)
}

// Reserve holds estimate micro-dollars of the session key's budget, with
// the budget and stored spend as the key was last loaded; false when a
// hard budget cannot cover it. The entry is copied under its lock and the
// limits asked without it, so that the requests of one key do not queue
// behind each other's round trips to a shared store.
func (g *Gate) Reserve(s *Session, estimate int64) (r *Reservation, ok, unavailable bool) {
	c := s.entry
	c.mu.Lock()
	keyID := c.key.ID
	b := Budget{Limit: -1, Spent: c.spent, HardStop: c.key.HardStop, Period: c.period, Mark: c.mark}
	if c.key.BudgetMicros != nil {
		b.Limit = *c.key.BudgetMicros
	}
	c.mu.Unlock()
	return g.limits.Reserve(keyID, b, estimate)
}

// Settle turns a reservation into the actual cost.
func (g *Gate) Settle(r *Reservation, actual int64) { g.limits.Settle(r, actual) }

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
