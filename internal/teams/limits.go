// Package teams enforces what a virtual key may do: which models, how many
// requests a minute and at once, and how much it may spend; it reserves a
// request's estimated cost before fal runs it and settles the actual cost
// after, and writes every request to the usage ledger.
package teams

import (
	"strconv"
	"sync"
	"time"
)

// Limits holds the per-key counters that must be shared by every request
// of a key: its request rate, its requests in flight and its budget
// reservations. LocalLimits keeps them in this process; a shared store
// (Redis) can implement the same interface for several replicas.
type Limits interface {
	// AllowRequest counts a request against rpm per sliding minute, or
	// reports how long until one more would be allowed.
	//
	// AllowRequest, Acquire and Reserve report unavailable with a refusal
	// that is not the limit's own: a shared store that could not be asked
	// and must not be replaced by a local share. The request may well be
	// within its limits, and can be tried again shortly.
	AllowRequest(keyID string, rpm int, now time.Time) (retryAfter time.Duration, ok, unavailable bool)
	// Acquire takes one of max concurrent slots (0: no limit).
	Acquire(keyID string, max int) (release func(), ok, unavailable bool)
	// Reserve holds estimate micro-dollars of b; false when the hard
	// budget cannot cover it.
	Reserve(keyID string, b Budget, estimate int64) (r *Reservation, ok, unavailable bool)
	// Settle replaces a reservation with the actual cost, spent but not
	// yet in the store.
	Settle(r *Reservation, actual int64)
	// Stored moves micro-dollars of keys (by key id) from unstored to
	// stored spend, once the ledger holds them.
	Stored(spend map[string]int64)
	// Loaded marks that the store's spend of a key for the budget period
	// starting at period is about to be read: spend stored before counts
	// there, spend stored after counts here (spend stored while it reads,
	// in both, until the next read). Its answer goes with that read's
	// spend into Budget.Mark.
	Loaded(keyID string, period time.Time) (mark string)
}

// Budget is a key's spending limit for its current period.
type Budget struct {
	Limit    int64 // micro-dollars; negative: no budget
	Spent    int64 // in the store for this period, when last loaded
	HardStop bool
	Period   time.Time // the start of the period Spent belongs to
	// Mark is what Limits.Loaded answered for the read of Spent: kept
	// with it, so that a reservation never pairs one read's spend with
	// another read's mark.
	Mark string
}

// Reservation is a request's hold on a key's budget.
type Reservation struct {
	keyID    string
	estimate int64
	once     sync.Once
}

// LocalLimits implements Limits in process memory.
type LocalLimits struct {
	mu   sync.Mutex
	keys map[string]*keyCounters
}

type keyCounters struct {
	recent   []time.Time // request times in the last minute, oldest first
	inflight int
	reserved int64 // estimates of requests not yet settled
	unstored int64 // settled spend the ledger has not written yet
	// stored is all the spend the ledger has written. Loaded's mark is its
	// value when a read of the store's sum began, so that each reservation
	// counts what was stored since the very read its Budget.Spent came
	// from, even while a newer read is under way.
	stored int64
	// storedAtLoad is stored at the last Loaded, for a budget without a
	// mark of this process (one a shared store answered, or none).
	storedAtLoad int64
}

// NewLocalLimits returns empty in-process limits.
func NewLocalLimits() *LocalLimits { return &LocalLimits{keys: make(map[string]*keyCounters)} }

func (l *LocalLimits) counters(keyID string) *keyCounters {
	c := l.keys[keyID]
	if c == nil {
		c = &keyCounters{}
		l.keys[keyID] = c
	}
	return c
}

// AllowRequest implements Limits with a sliding window of request times;
// like every LocalLimits refusal, it is the limit's own.
func (l *LocalLimits) AllowRequest(keyID string, rpm int, now time.Time) (time.Duration, bool, bool) {
	if rpm <= 0 {
		return 0, true, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.counters(keyID)
	cut := 0
	for cut < len(c.recent) && now.Sub(c.recent[cut]) >= time.Minute {
		cut++
	}
	c.recent = c.recent[cut:]
	if len(c.recent) >= rpm {
		return c.recent[len(c.recent)-rpm].Add(time.Minute).Sub(now), false, false
	}
	c.recent = append(c.recent, now)
	return 0, true, false
}

// Acquire implements Limits.
func (l *LocalLimits) Acquire(keyID string, max int) (func(), bool, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.counters(keyID)
	if max > 0 && c.inflight >= max {
		return nil, false, false
	}
	c.inflight++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			c.inflight--
			l.mu.Unlock()
		})
	}, true, false
}

// Reserve implements Limits.
func (l *LocalLimits) Reserve(keyID string, b Budget, estimate int64) (*Reservation, bool, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.counters(keyID)
	if b.Limit >= 0 && b.HardStop {
		committed := b.Spent + c.storedSince(b.Mark) + c.unstored + c.reserved
		if committed+estimate > b.Limit || (estimate == 0 && committed >= b.Limit) {
			return nil, false, false
		}
	}
	c.reserved += estimate
	return &Reservation{keyID: keyID, estimate: estimate}, true, false
}

// Settle implements Limits; a second settle of the same reservation, or
// of none (a refused one), does nothing.
func (l *LocalLimits) Settle(r *Reservation, actual int64) {
	if r == nil {
		return
	}
	r.once.Do(func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		c := l.counters(r.keyID)
		c.reserved -= r.estimate
		c.unstored += actual
	})
}

// Unstored is the key's settled spend the ledger has not written yet.
func (l *LocalLimits) Unstored(keyID string) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c := l.keys[keyID]; c != nil {
		return c.unstored
	}
	return 0
}

// Stored implements Limits.
func (l *LocalLimits) Stored(spend map[string]int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for keyID, micros := range spend {
		c := l.counters(keyID)
		c.unstored -= micros
		c.stored += micros
	}
}

// Loaded implements Limits: its mark is the spend stored so far, so that
// spend stored from now on counts beside the read's sum.
func (l *LocalLimits) Loaded(keyID string, _ time.Time) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.counters(keyID)
	c.storedAtLoad = c.stored
	return strconv.FormatInt(c.stored, 10)
}

// storedSince is the spend stored since the read that answered mark, or
// since the last Loaded for a mark Loaded did not answer; l.mu is held.
func (c *keyCounters) storedSince(mark string) int64 {
	if at, err := strconv.ParseInt(mark, 10, 64); err == nil {
		return c.stored - at
	}
	return c.stored - c.storedAtLoad
}
