package teams

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/falproxy/falproxy/internal/store"
)

// Ledger writes usage rows to the store in batches, off the request path:
// Add only appends to a queue in memory, a writer goroutine drains it, and
// Close writes what is left.
type Ledger struct {
	log *slog.Logger
	// commit writes a batch; it runs under writing.
	commit func(context.Context, []store.Row) error

	// writing is held while a batch is taken and written.
	writing sync.Mutex
	mu      sync.Mutex
	queue   []store.Row
	// added and written count the rows queued and committed so far;
	// rows are committed in the order they were queued, so the rows
	// queued before a flush are written once written reaches added as
	// the flush found it.
	added, written uint64
	dropped        atomic.Uint64
	uids           *uidSource
	once           sync.Once
	wake           chan struct{}
	closing        chan struct{}
	done           chan struct{}
}

// maxBatch bounds the rows of one transaction.
const maxBatch = 1000

// maxQueued bounds the rows kept in memory while the database cannot take
// them: past it new rows are dropped (logged and counted), so that an
// outage cannot exhaust the process's memory.
const maxQueued = 200_000

// batchTimeout bounds one batch's write: a database that stops answering
// must not hold the writer, nor a shutdown, for ever.
const batchTimeout = 10 * time.Second

// retryPause is the wait after a failed write before the rows are tried
// again; they stay queued meanwhile.
const retryPause = time.Second

func newLedger(log *slog.Logger, commit func(context.Context, []store.Row) error) *Ledger {
	l := &Ledger{log: log, commit: commit, uids: newUIDSource(), wake: make(chan struct{}, 1), closing: make(chan struct{}), done: make(chan struct{})}
	go l.run()
	return l
}

// Add queues a row; it never waits for the database. It gives a row
// without a UID one; a row with its own (a settlement named after fal's
// request id) keeps it, so that the ledger holds it once however often,
// and by however many replicas, it is written.
func (l *Ledger) Add(r store.Row) {
	if r.UID == "" {
		r.UID = l.uids.next()
	}
	l.mu.Lock()
	full := len(l.queue) >= maxQueued
	if !full {
		l.queue = append(l.queue, r)
		l.added++
	}
	l.mu.Unlock()
	if full {
		// Logged on the first drop and every thousandth after it.
		if n := l.dropped.Add(1); n%1000 == 1 {
			l.log.Error("usage ledger queue full: rows dropped while the database is unavailable", "dropped_total", n)
		}
		return
	}
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Dropped is how many rows were dropped because the queue was full.
func (l *Ledger) Dropped() uint64 { return l.dropped.Load() }

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
	wctx, cancel := context.WithTimeout(ctx, batchTimeout)
	err := l.commit(wctx, batch)
	cancel()
	if err != nil {
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
	l.mu.Lock()
	l.written += uint64(n)
	l.mu.Unlock()
	return more
}

// Close stops the writer and writes the rows still queued, until ctx
// ends; it reports how many rows could not be written.
func (l *Ledger) Close(ctx context.Context) int {
	l.once.Do(func() { close(l.closing) })
	select {
	case <-l.done:
	case <-ctx.Done(): // the writer is stuck in a batch: give up on the rest
		return l.pending()
	}
	return l.flush(ctx)
}

// flush writes the rows queued so far, until ctx ends, and reports how
// many of them are left. Rows queued meanwhile are not waited for, so
// that a flush under steady traffic ends.
func (l *Ledger) flush(ctx context.Context) int {
	l.mu.Lock()
	mark := l.added
	l.mu.Unlock()
	for {
		l.mu.Lock()
		left, written := int(mark-min(l.written, mark)), l.written
		l.mu.Unlock()
		if left == 0 || ctx.Err() != nil {
			return left
		}
		l.writeBatch(ctx)
		l.mu.Lock()
		failed := l.written == written
		l.mu.Unlock()
		if failed { // pause before the next try
			select {
			case <-time.After(100 * time.Millisecond):
			case <-ctx.Done():
			}
		}
	}
}

// pending is how many rows wait to be written.
func (l *Ledger) pending() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queue)
}

// uidSource makes row UIDs: a random prefix of the process and a
// sequence. Request ids cannot serve, since a client may choose its own.
type uidSource struct {
	prefix string
	seq    atomic.Uint64
}

func newUIDSource() *uidSource {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return &uidSource{prefix: hex.EncodeToString(b[:]) + "-"}
}

func (u *uidSource) next() string { return u.prefix + strconv.FormatUint(u.seq.Add(1), 10) }
