package store

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Expired rows of the shared tables (responses and videos) are purged in
// the background as the writes that add rows come: at most one purge at a
// time and one start per purgeEvery in a process, each removing
// purgeBatch rows of a table per statement, for as long as batches come
// back full, up to purgeBatches of them. A request never waits for it and
// its client leaving does not stop it. Reads never return an expired row,
// purged or not.
const (
	purgeEvery   = 10 * time.Second
	purgeBatch   = 1000
	purgeBatches = 20
	purgeTimeout = 30 * time.Second
)

// purgedTables are the tables whose rows expire.
var purgedTables = []string{"responses", "videos"}

// purger runs the purges of a Store. Close stops the one running and
// waits for it.
type purger struct {
	next    atomic.Int64 // Unix nanoseconds when the next purge may start
	running atomic.Bool
	failing atomic.Bool // the last purge failed: a new failure is not logged again
	log     atomic.Pointer[slog.Logger]

	mu     sync.Mutex // orders starts with Close
	closed bool
	wg     sync.WaitGroup
	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
}

func newPurger() *purger {
	p := &purger{}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	return p
}

// LogTo makes the store log the purges that fail to log, at warn level,
// once for each run of failures. Without it they are not logged.
func (s *Store) LogTo(log *slog.Logger) { s.purges.log.Store(log) }

// purgeSoon starts a purge of the rows expired at now in the background,
// when one is due and none runs.
func (s *Store) purgeSoon(now time.Time) {
	p := s.purges
	next := p.next.Load()
	if now.UnixNano() < next || !p.next.CompareAndSwap(next, now.Add(purgeEvery).UnixNano()) || !p.running.CompareAndSwap(false, true) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.wg.Go(func() {
		defer p.running.Store(false)
		p.report(s.purgeExpired(now))
	})
}

// purgeExpired removes the rows expired at now, batch after batch while
// they come back full, up to purgeBatches of each table.
func (s *Store) purgeExpired(now time.Time) error {
	ctx, cancel := context.WithTimeout(s.purges.ctx, purgeTimeout)
	defer cancel()
	for _, table := range purgedTables {
		for range purgeBatches {
			n, err := s.purge(ctx, table, now, purgeBatch)
			if err != nil {
				return err
			}
			if n < purgeBatch {
				break
			}
		}
	}
	return nil
}

// report logs a failed purge unless the one before failed too, or the
// store is closing.
func (p *purger) report(err error) {
	if err == nil {
		p.failing.Store(false)
		return
	}
	if p.ctx.Err() != nil || p.failing.Swap(true) {
		return
	}
	if log := p.log.Load(); log != nil {
		log.Warn("expired responses and videos could not be purged from the database; the next purge tries again", "error", err.Error())
	}
}

// stop cancels a running purge and waits for it; none starts after.
func (p *purger) stop() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.cancel()
	p.wg.Wait()
}
