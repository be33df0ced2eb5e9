package fal

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Key is one fal key with its passive health, in the manner of a reverse
// proxy's upstream: failures are counted, a 429 cools the key down for a
// while, a 401/403 (bad key, locked account) quarantines it for longer.
type Key struct {
	secret string
	id     string // "key<n>", its position in the list; safe to log and export
	tag    []byte // see Tag; derived once

	// authorization is the Authorization header's value, made once.
	authorization []string

	inflight atomic.Int64
	slots    chan struct{} // per-key concurrency cap; nil = unlimited

	mu        sync.Mutex
	until     time.Time // not used before this instant
	reason    string    // why it is out, for /health and logs
	rejected  bool      // out because fal refused the key (401/403)
	told      bool      // the rest came from another replica (ApplyRest)
	totalFail int64
	leases    []func() // releases of the fleet-wide slots held (see KeySlots)
	fallback  int      // slots held on this replica's share while the fleet's count is unreachable
}

// ID is a short, stable name for the key that reveals nothing about it:
// "key1" for the first key of the list, "key2" for the second, and so on.
// (A hash of the key would let anyone who can read the label confirm a
// guessed key.)
func (k *Key) ID() string { return k.id }

// String never reveals the secret, so a key can be logged by accident.
func (k *Key) String() string { return "fal-key:" + k.id }

// Inflight is the number of fal jobs currently using this key.
func (k *Key) Inflight() int64 { return k.inflight.Load() }

// keyID is the id of the key at position i (from 0) of the list given to
// NewPool, as used in logs and metrics.
func keyID(i int) string { return "key" + strconv.Itoa(i+1) }

// PoolOptions tunes key health.
type PoolOptions struct {
	// Concurrency caps in-flight jobs per key (fal limits concurrency per
	// account); 0 means no cap.
	Concurrency int
	// Cooldown is how long a key rests after a 429 without Retry-After.
	Cooldown time.Duration
	// Quarantine is how long a key rests after 401/403.
	Quarantine time.Duration
	Now        func() time.Time
	// Shared, when set, hears of every rest and recovery of a key, so
	// that the other replicas of a fleet stop using a key this one found
	// rate limited or rejected (see ApplyRest for the other direction).
	Shared KeyHealthSharer
	// Slots, when set with Concurrency, counts each key's jobs across the
	// whole fleet instead of in this process alone.
	Slots KeySlots
}

// Pool hands out fal keys round-robin, skipping unhealthy ones.
type Pool struct {
	keys  []*Key
	byTag map[string]*Key // by TagString
	next  atomic.Uint64
	opt   PoolOptions
	// refused counts the slots the fleet's count refused: a waiter that
	// saw it move backs off instead of asking the fleet again at once.
	refused atomic.Uint64
}

// NewPool builds a pool over the given secrets.
func NewPool(secrets []string, opt PoolOptions) *Pool {
	if opt.Cooldown <= 0 {
		opt.Cooldown = 10 * time.Second
	}
	if opt.Quarantine <= 0 {
		opt.Quarantine = 30 * time.Minute
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	p := &Pool{opt: opt, byTag: make(map[string]*Key, len(secrets))}
	for i, s := range secrets {
		k := &Key{secret: s, id: keyID(i), authorization: []string{"Key " + s}}
		k.tag = k.Derive(keyTagLabel)[:keyTagSize]
		if opt.Concurrency > 0 {
			k.slots = make(chan struct{}, opt.Concurrency)
		}
		p.keys = append(p.keys, k)
		p.byTag[k.TagString()] = k
	}
	return p
}

// KeyState is a snapshot of one key's health, safe to expose.
type KeyState struct {
	ID       string `json:"id"`
	Healthy  bool   `json:"healthy"`
	Reason   string `json:"reason,omitempty"`
	Inflight int64  `json:"inflight"`
	Failures int64  `json:"failures"`
}

// States snapshots every key.
func (p *Pool) States() []KeyState {
	now := p.opt.Now()
	out := make([]KeyState, 0, len(p.keys))
	for _, k := range p.keys {
		k.mu.Lock()
		s := KeyState{ID: k.id, Healthy: !now.Before(k.until), Inflight: k.inflight.Load(), Failures: k.totalFail}
		if !s.Healthy {
			s.Reason = k.reason
		}
		k.mu.Unlock()
		out = append(out, s)
	}
	return out
}

// acquire picks the next healthy key not in tried and takes one of its
// concurrency slots. When no key can be used now it returns nil, with busy
// set if some healthy untried key is only at its concurrency cap (worth
// waiting for), and wait, how long until the earliest resting key returns.
func (p *Pool) acquire(tried map[*Key]bool) (k *Key, busy bool, wait time.Duration) {
	n := len(p.keys)
	now := p.opt.Now()
	start := p.next.Add(1) - 1
	for i := range n {
		k := p.keys[(start+uint64(i))%uint64(n)]
		if tried[k] {
			continue
		}
		k.mu.Lock()
		until := k.until
		k.mu.Unlock()
		if now.Before(until) {
			if d := until.Sub(now); wait == 0 || d < wait {
				wait = d
			}
			continue
		}
		if !p.takeSlot(k) {
			busy = true
			continue
		}
		k.inflight.Add(1)
		return k, false, 0
	}
	return nil, busy, wait
}

// release returns a slot taken by acquire.
func (p *Pool) release(k *Key) {
	k.inflight.Add(-1)
	if k.slots != nil {
		p.releaseSlot(k)
		<-k.slots
	}
}

// report records the outcome of a call made with k. Only answers that say
// something about the key itself change its health; a new rest is shared
// with the fleet (see PoolOptions.Shared).
func (p *Pool) report(k *Key, status int, retryAfter time.Duration) {
	switch {
	case status >= 200 && status < 300:
		return
	case status == http.StatusTooManyRequests:
		d := retryAfter
		if d <= 0 {
			d = p.opt.Cooldown
		}
		p.rest(k, d, "rate limited (429)", false)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		p.rest(k, p.opt.Quarantine, "rejected by fal ("+http.StatusText(status)+")", true)
	case status >= 500 || status == 0:
		k.mu.Lock()
		k.totalFail++
		k.mu.Unlock()
	}
}

// rest takes k out of rotation for d and tells the fleet, unless the key
// already rested longer.
func (p *Pool) rest(k *Key, d time.Duration, reason string, rejected bool) {
	k.mu.Lock()
	k.totalFail++
	until := p.opt.Now().Add(d)
	longer := k.restUntil(until, reason, rejected)
	if longer {
		k.told = false
	}
	k.mu.Unlock()
	if longer && p.opt.Shared != nil {
		p.opt.Shared.Rested(k.TagString(), until, reason, rejected)
	}
}

// restUntil makes k rest until the given instant unless it already rests
// longer, and reports whether it changed; k.mu must be held.
func (k *Key) restUntil(until time.Time, reason string, rejected bool) bool {
	if !until.After(k.until) {
		return false
	}
	k.until, k.reason, k.rejected = until, reason, rejected
	return true
}

// ErrKeysRejected means every fal key rests because fal refused it
// (401/403): a configuration problem that waiting does not fix. It wraps
// ErrNoKey.
var ErrKeysRejected = fmt.Errorf("every fal key was rejected by fal: %w", ErrNoKey)

// noKeyReason says why no key could be had: ErrKeysRejected when every key
// rests because fal refused it, ErrNoKey otherwise (some key is rate
// limited or busy, and comes back by itself).
func (p *Pool) noKeyReason() error {
	if len(p.keys) > 0 && len(p.quarantined()) == len(p.keys) {
		return ErrKeysRejected
	}
	return ErrNoKey
}

// quarantined returns the keys resting because fal refused them.
func (p *Pool) quarantined() []*Key {
	now := p.opt.Now()
	var out []*Key
	for _, k := range p.keys {
		k.mu.Lock()
		if k.rejected && now.Before(k.until) {
			out = append(out, k)
		}
		k.mu.Unlock()
	}
	return out
}

// reinstate puts a quarantined key back into rotation, on every replica
// of the fleet.
func (p *Pool) reinstate(k *Key) {
	k.mu.Lock()
	k.until, k.reason, k.rejected = time.Time{}, "", false
	k.mu.Unlock()
	if p.opt.Shared != nil {
		p.opt.Shared.Rested(k.TagString(), time.Time{}, "", false)
	}
}
