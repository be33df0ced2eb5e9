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
	keyVersion func(ctx context.Context, id string) (time.Time, error)

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

// versionRead is one read of a key's version, shared by the requests that
// wait for it.
type versionRead struct {
	done    chan struct{}
	version time.Time
	err     error
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
	g := &Gate{store: opt.Store, limits: opt.Limits, insertRows: opt.Store.InsertRows, keyVersion: opt.Store.KeyVersion,
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

// Recheck is the session's key as the store has it now: the session
// itself when one indexed read finds the key unchanged (or the store
// cannot tell in time), else the key loaded again, so that a change made
// through any process, a budget raised or lowered, a model list changed,
// a key revoked, applies at once to every request that could spend. It
// reports store.ErrNotFound for a key deleted meanwhile.
func (g *Gate) Recheck(ctx context.Context, s *Session) (*Session, error) {
	if g.current(ctx, s) {
		return s, nil
	}
	return g.reload(ctx, s.entry, s, time.Now())
}

// RecheckRefused is Recheck for a request the key's limits refused, so
// that a key revoked meanwhile is told so rather than to retry: at most
// once per key per CacheTTL, so that a client hammering past its limits
// does not make a steady stream of database reads. Between those reads
// the session is returned as it is.
func (g *Gate) RecheckRefused(ctx context.Context, s *Session) (*Session, error) {
	c := s.entry
	now := time.Now()
	c.mu.Lock()
	recent := now.Sub(c.refusalCheck) < CacheTTL
	if !recent {
		c.refusalCheck = now
	}
	c.mu.Unlock()
	if recent {
		return s, nil
	}
	return g.Recheck(ctx, s)
}

// reload loads the entry c of a key, known as the session known (nil:
// not yet loaded), and returns its session. Concurrent reloads wait for
// the first; when the store cannot answer, a known key is used as it was.
func (g *Gate) reload(ctx context.Context, c *cached, known *Session, now time.Time) (*Session, error) {
	hash := c.hash
	c.loading.Lock()
	defer c.loading.Unlock()
	if s := g.cachedSession(hash, c, now); s != nil && (known == nil || !s.Key.UpdatedAt.Equal(known.Key.UpdatedAt)) {
		return s, nil // loaded meanwhile
	}
	lctx, cancel := context.WithTimeout(ctx, loadTimeout)
	defer cancel()
	err := g.load(lctx, hash, c, now)
	g.loaded(hash, c, err, now)
	if err != nil {
		if known != nil { // the change could not be read: the key as it was
			return known, nil
		}
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.found {
		return nil, store.ErrNotFound
	}
	return &Session{Key: c.key, entry: c}, nil
}

// versionTimeout bounds the read that tells whether a cached key is
// current, near the store's normal latency; past it, or when the store
// fails, the cached key is used and the key's version is not read again
// for CacheTTL, so that a database that does not answer slows a request
// of a known key once only.
const versionTimeout = 50 * time.Millisecond

// current reports whether the session's key is as the store has it now,
// or the store cannot tell. Requests of one key share one read.
func (g *Gate) current(ctx context.Context, s *Session) bool {
	c := s.entry
	c.mu.Lock()
	if time.Now().Before(c.checksFrom) {
		c.mu.Unlock()
		return true
	}
	r := c.check
	if r == nil {
		r = &versionRead{done: make(chan struct{})}
		c.check = r
		go g.readVersion(c, s.Key.ID, r)
	}
	c.mu.Unlock()
	select {
	case <-r.done:
	case <-ctx.Done():
		return true // the request is over; what it would spend is moot
	}
	switch {
	case errors.Is(r.err, store.ErrNotFound):
		return false
	case r.err != nil:
		return true
	}
	return r.version.Equal(s.Key.UpdatedAt)
}

// readVersion reads the version of the key id for the requests waiting
// on r, under versionTimeout whichever of them gave up meanwhile.
func (g *Gate) readVersion(c *cached, id string, r *versionRead) {
	ctx, cancel := context.WithTimeout(context.Background(), versionTimeout)
	defer cancel()
	r.version, r.err = g.keyVersion(ctx, id)
	c.mu.Lock()
	c.check = nil
	if r.err != nil && !errors.Is(r.err, store.ErrNotFound) {
		c.checksFrom = time.Now().Add(CacheTTL)
	}
	c.mu.Unlock()
	close(r.done)
}

// entry is the cache entry of a key hash, new if need be; nil when the
// key was recently found unknown.
func (g *Gate) entry(hash string, now time.Time) *cached {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c := g.cache[hash]; c != nil {
		return c
	}
	if at, ok := g.unknown[hash]; ok && now.Sub(at) < CacheTTL {
		return nil
	}
	c := g.pending[hash]
	if c == nil {
		c = &cached{hash: hash}
		g.pending[hash] = c
	}
	return c
}

// loaded files an entry after a load: a found key among the cached, an
// unknown one among the unknown, neither after an error.
func (g *Gate) loaded(hash string, c *cached, err error, now time.Time) {
	c.mu.Lock()
	found := c.found
	c.mu.Unlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.pending[hash] == c {
		delete(g.pending, hash)
	}
	switch {
	case err != nil:
	case found && g.cache[hash] != c:
		if len(g.cache) >= maxCached {
			for h := range g.cache { // evict one entry, whichever
				delete(g.cache, h)
				break
			}
		}
		g.cache[hash] = c
	case !found:
		if g.cache[hash] == c { // deleted since it was cached
			delete(g.cache, hash)
		}
		g.markUnknown(hash, now)
	}
}

// markUnknown files a hash among the unknown keys; g.mu is held. The
// unknown are bounded apart from the cached, so that made-up keys cannot
// push real ones out.
func (g *Gate) markUnknown(hash string, now time.Time) {
	if len(g.unknown) >= maxUnknown {
		clear(g.unknown)
	}
	g.unknown[hash] = now
}

// cachedSession is the entry's key when it is loaded and of the current
// budget period, starting a background refresh once it is stale; nil
// when the entry must be loaded first.
func (g *Gate) cachedSession(hash string, c *cached, now time.Time) *Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.found || !c.key.PeriodStart(now).Equal(c.period) {
		return nil
	}
	if now.Sub(c.loaded) >= CacheTTL && !c.refreshing {
		c.refreshing = true
		go g.refresh(hash, c)
	}
	return &Session{Key: c.key, entry: c}
}

// refresh reloads a stale entry; a key deleted meanwhile leaves the
// cache. A failed refresh keeps the entry as it was, to be tried again by
// the next request. It takes c.loading as a reload does, so that the
// loads of a key never interleave: each one's Limits.Loaded then pairs
// with the spend it read, in order. A reload under way makes it moot.
func (g *Gate) refresh(hash string, c *cached) {
	if !c.loading.TryLock() {
		c.mu.Lock()
		c.refreshing = false
		c.mu.Unlock()
		return
	}
	defer c.loading.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), loadTimeout)
	defer cancel()
	now := time.Now()
	err := g.load(ctx, hash, c, now)
	c.mu.Lock()
	c.refreshing = false
	gone := err == nil && !c.found
	c.mu.Unlock()
	if gone {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.cache[hash] == c {
			delete(g.cache, hash)
		}
		g.markUnknown(hash, now)
	}
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

// load reads a key and its period's spend into c; c.loading is held. The
// queries run without c.mu, so that requests using the entry meanwhile do
// not wait on them.
//
// Limits.Loaded runs before the spend is read and without storing held:
// it may be a round trip to a shared store, and a commit waiting for
// storing would otherwise hold every other key's load behind it. Spend
// stored between the two then counts in both the read and the limits
// until the next load, an over-count on the safe side; Loaded after the
// read would lose it instead.
func (g *Gate) load(ctx context.Context, hash string, c *cached, now time.Time) error {
	k, err := g.store.KeyByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		c.mu.Lock()
		c.found, c.loaded = false, now
		c.mu.Unlock()
		return nil
	}
	if err != nil {
		return ErrUnavailable
	}
	period := k.PeriodStart(now)
	mark := g.limits.Loaded(k.ID, period)
	g.storing.RLock()
	spent, err := g.store.Spent(ctx, k.ID, period)
	g.storing.RUnlock()
	if err != nil {
		return ErrUnavailable
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.found && k.UpdatedAt.Before(c.key.UpdatedAt) {
		return nil // versions only grow: a newer read is there already
	}
	c.key, c.found, c.spent, c.mark, c.period, c.loaded = k, true, spent, mark, period, now
	return nil
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
