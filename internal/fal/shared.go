package fal

import (
	"encoding/hex"
	"time"
)

// Several replicas of falproxy may use the same fal keys. What one learns
// about a key (fal rate limits it, or refuses it) holds for all, and fal
// counts a key's concurrent jobs over the whole account, whichever replica
// sent them. The two interfaces below let a pool share both with the
// fleet without this package knowing how (internal/fleet keeps them in
// Redis). Keys are named by TagString there: the same on every replica
// whatever the order of AI_KEYS, and revealing nothing of the secret.

// KeyHealthSharer hears of each rest and recovery of a key, to tell the
// other replicas.
type KeyHealthSharer interface {
	// Rested says the key tagged tag is not to be used before until, for
	// reason; rejected when fal refused the key (401/403) rather than
	// rate limited it. A zero until says the key is accepted again. It is
	// called outside any lock and may take one round trip to the store.
	Rested(tag string, until time.Time, reason string, rejected bool)
}

// KeySlots counts each key's jobs across the fleet.
type KeySlots interface {
	// TryAcquire takes one of max slots of the key tagged tag. ok is
	// false when all are taken; err is set when the count cannot be
	// reached, and the pool then falls back to Share(max) slots of its own.
	// release gives the slot back and is called once.
	TryAcquire(tag string, max int) (release func(), ok bool, err error)
	// Share is this replica's part of max while the count cannot be
	// reached.
	Share(max int) int
	// Hold records a job of the key tagged tag that runs on this
	// replica's share, so that the count takes it in once it can be
	// reached. release is called once, when the job ends.
	Hold(tag string) (release func())
}

// TagString is Tag in hex: the key's name in state shared between
// replicas.
func (k *Key) TagString() string { return hex.EncodeToString(k.tag) }

// KeyTags are the TagStrings of the pool's keys, in the order configured.
func (p *Pool) KeyTags() []string {
	out := make([]string, len(p.keys))
	for i, k := range p.keys {
		out[i] = k.TagString()
	}
	return out
}

// ApplyRest applies a rest (or, with a zero until, a recovery) another
// replica found for the key tagged tag, without telling the fleet again.
// A rest shorter than the one the key already has changes nothing, and a
// recovery ends only a quarantine (fal refusing the key), which is what a
// re-check finds good again: a rate limit passes by itself. Unknown tags
// (a key this replica does not have) are ignored.
func (p *Pool) ApplyRest(tag string, until time.Time, reason string, rejected bool) {
	k := p.byTag[tag]
	if k == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if until.IsZero() {
		if k.rejected {
			k.until, k.reason, k.rejected = time.Time{}, "", false
		}
		return
	}
	if k.restUntil(until, reason+" (seen by another replica)", rejected) {
		k.told = true
	}
}

// ForgetRest ends the quarantine of the key tagged tag if another replica
// found it and the fleet no longer holds it: a recovery this replica did
// not hear of (published while its subscription was down). A quarantine
// this replica found itself stays until its own re-check.
func (p *Pool) ForgetRest(tag string) {
	k := p.byTag[tag]
	if k == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.rejected && k.told {
		k.until, k.reason, k.rejected, k.told = time.Time{}, "", false, false
	}
}

// takeSlot takes one of k's concurrency slots, reporting false when all
// are in use. The local channel caps this process at Concurrency; with
// Slots the fleet's count must agree too, or, while it cannot be reached,
// this replica's share of it.
func (p *Pool) takeSlot(k *Key) bool {
	if k.slots == nil {
		return true
	}
	select {
	case k.slots <- struct{}{}:
	default:
		return false
	}
	if p.opt.Slots == nil {
		return true
	}
	release, ok, err := p.opt.Slots.TryAcquire(k.TagString(), p.opt.Concurrency)
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case err != nil && k.fallback < p.opt.Slots.Share(p.opt.Concurrency):
		k.fallback++
		held := p.opt.Slots.Hold(k.TagString())
		release = func() {
			k.mu.Lock()
			k.fallback--
			k.mu.Unlock()
			held()
		}
	case err != nil, !ok:
		if err == nil {
			p.refused.Add(1)
		}
		<-k.slots
		return false
	}
	k.leases = append(k.leases, release)
	return true
}

// releaseSlot gives back a slot of the fleet's count taken by takeSlot
// (any of k's: they are alike).
func (p *Pool) releaseSlot(k *Key) {
	if p.opt.Slots == nil {
		return
	}
	k.mu.Lock()
	n := len(k.leases)
	if n == 0 {
		k.mu.Unlock()
		return
	}
	release := k.leases[n-1]
	k.leases = k.leases[:n-1]
	k.mu.Unlock()
	release()
}
