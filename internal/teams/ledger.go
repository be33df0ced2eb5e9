package teams

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/falproxy/falproxy/internal/store"
)

// Ledger writes usage rows to the store in batches, off the request path:
// Add only appends to a queue in memory, a writer goroutine drains it, and
// Close writes what is left.
type Ledger struct {
	store  *store.Store
	log    *slog.Logger
	stored func([]store.Row) // called after rows are committed

	// writing is held while a batch is taken and written, so that Flush
	// knows no batch is in flight once the queue is empty.
	writing sync.Mutex
	mu      sync.Mutex
	queue   []store.Row
	once    sync.Once
	wake    chan struct{}
	closing chan struct{}
	done    chan struct{}
}

// maxBatch bounds the rows of one transaction.
const maxBatch = 1000

// retryPause is the wait after a failed write before the rows are tried
// again; they stay queued meanwhile.
const retryPause = time.Second

func newLedger(s *store.Store, log *slog.Logger, stored func([]store.Row)) *Ledger {
	l := &Ledger{store: s, log: log, stored: stored, wake: make(chan struct{}, 1), closing: make(chan struct{}), done: make(chan struct{})}
	go l.run()
	return l
}

// Add queues a row; it never waits for the database.
func (l *Ledger) Add(r store.Row) {
	l.mu.Lock()
	l.queue = append(l.queue, r)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *Ledger) run() {
	defer close(l.done)
	for {
		select {
		case <-l.wake:
		case <-l.closing:
			return
		}
		for l.writeBatch(context.Background()) {
		}
	}
}

// writeBatch writes up to maxBatch queued rows and reports whether more
// are waiting. A failed batch goes back to the front of the queue.
func (l *Ledger) writeBatch(ctx context.Context) bool {
	l.writing.Lock()
	defer l.writing.Unlock()
	l.mu.Lock()
	n := min(len(l.queue), maxBatch)
	batch := append([]store.Row(nil), l.queue[:n]...)
	l.queue = l.queue[n:]
	more := len(l.queue) > 0
	l.mu.Unlock()
	if n == 0 {
		return false
	}
	if err := l.store.InsertRows(ctx, batch); err != nil {
		l.log.Error("usage ledger write failed; rows kept for a retry", "rows", n, "error", err.Error())
		l.mu.Lock()
		l.queue = append(batch, l.queue...)
		l.mu.Unlock()
		select {
		case <-time.After(retryPause):
		case <-l.closing:
		case <-ctx.Done():
		}
		return false
	}
	l.stored(batch)
	return more
}

// Close stops the writer and writes the rows still queued, until ctx
// ends; it reports how many rows could not be written.
func (l *Ledger) Close(ctx context.Context) int {
	l.once.Do(func() { close(l.closing) })
	<-l.done
	return l.Flush(ctx)
}

// Flush writes the rows queued so far, until ctx ends, and reports how
// many are left.
func (l *Ledger) Flush(ctx context.Context) int {
	for {
		// Under writing, an empty queue means no batch is in flight.
		l.writing.Lock()
		left := l.Pending()
		l.writing.Unlock()
		if left == 0 || ctx.Err() != nil {
			return left
		}
		l.writeBatch(ctx)
		if l.Pending() >= left { // the write failed: pause before the next try
			select {
			case <-time.After(100 * time.Millisecond):
			case <-ctx.Done():
			}
		}
	}
}

// Pending is how many rows wait to be written.
func (l *Ledger) Pending() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queue)
}
