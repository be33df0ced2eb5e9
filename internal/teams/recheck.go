// Checking that a cached key is still current before a request spends
// (see Gate.Recheck).

package teams

import (
	"context"
	"errors"
	"time"

	"github.com/falproxy/falproxy/internal/store"
)

// versionRead is one read of a key's version, shared by the requests that
// wait for it.
type versionRead struct {
	done    chan struct{}
	version time.Time
	err     error
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

// DefaultVersionTimeout bounds the read that tells whether a cached key
// is current, near the store's normal latency; past it, or when the
// store fails, the cached key is used and the key's version is not read
// again for CacheTTL, so that a database that does not answer slows a
// request of a known key once only.
const DefaultVersionTimeout = 50 * time.Millisecond

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
// on r, under the gate's version timeout whichever of them gave up
// meanwhile.
func (g *Gate) readVersion(c *cached, id string, r *versionRead) {
	ctx, cancel := context.WithTimeout(context.Background(), g.versionTimeout)
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
