// The gate's cache of keys looked up in the store: loads, background
// refreshes and the memory of unknown keys.

package teams

import (
	"context"
	"errors"
	"time"

	"github.com/falproxy/falproxy/internal/store"
)

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
