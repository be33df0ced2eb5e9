package main

import (
	"io"
	"os"
	"sync"
	"time"
)

// Log lines written to a file or a pipe are gathered and written together,
// so that a busy server does not make one write system call per access log
// line. A line waits at most logFlushEvery; a terminal gets every line at
// once, as a person watches it.
const (
	logFlushEvery = 100 * time.Millisecond
	logBufferSize = 64 << 10 // written at once when full
)

// bufferedLog returns the writer the log should use for w and a function
// that writes out what is pending, to call before the process exits; it
// may be called more than once, and lines written after it go straight
// to w. A w that bufferedLog already returned is used as it is.
func bufferedLog(w io.Writer) (io.Writer, func()) {
	if b, ok := w.(*logBuffer); ok {
		return b, b.close
	}
	f, ok := w.(*os.File)
	if !ok {
		return w, func() {}
	}
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() && info.Mode()&os.ModeNamedPipe == 0 {
		return w, func() {}
	}
	b := &logBuffer{w: f}
	return b, b.close
}

// logBuffer gathers lines for w and writes them within logFlushEvery of
// the first one pending, or when logBufferSize is reached.
type logBuffer struct {
	w       io.Writer
	mu      sync.Mutex
	pending []byte
	// writing is held while a batch is written, after mu is let go, so
	// that lines logged meanwhile wait for no write system call; it keeps
	// the batches in order. spare is the buffer of the last batch written.
	writing sync.Mutex
	spare   []byte
	timer   *time.Timer
	// closed: every line is written at once. Either the final flush is
	// done, and a line logged after it (by a goroutine still ending)
	// has nothing to flush it later, or the buffer only keeps whole the
	// lines of several writers on a w that is not buffered (newLogger).
	closed bool
}

// Write takes one or more whole lines, as slog's handlers write them.
func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	b.pending = append(b.pending, p...)
	if b.closed || len(b.pending) >= logBufferSize {
		b.writeUnlocking()
		return len(p), nil
	}
	defer b.mu.Unlock()
	if b.timer == nil {
		b.timer = time.AfterFunc(logFlushEvery, b.flush)
	} else if len(b.pending) == len(p) {
		b.timer.Reset(logFlushEvery)
	}
	return len(p), nil
}

// flush writes what is pending.
func (b *logBuffer) flush() {
	b.mu.Lock()
	b.writeUnlocking()
}

// close is the final flush: it writes what is pending and makes every
// later line go straight to w. Calling it again does no harm.
func (b *logBuffer) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writing.Lock() // after a batch still being written
	defer b.writing.Unlock()
	b.writeLocked()
	b.closed = true
	if b.timer != nil {
		b.timer.Stop()
	}
}

func (b *logBuffer) writeLocked() {
	if len(b.pending) == 0 {
		return
	}
	// A failed write to the log has nowhere to be reported; the lines
	// are dropped, as slog drops them on a failed write.
	_, _ = b.w.Write(b.pending)
	b.pending = keepable(b.pending)[:0]
}

// writeUnlocking writes what is pending, called with mu held, which it
// lets go before the write so that other lines are gathered meanwhile
// (locks are taken mu first, then writing).
func (b *logBuffer) writeUnlocking() {
	b.writing.Lock()
	defer b.writing.Unlock()
	batch := b.pending
	b.pending = b.spare[:0]
	b.mu.Unlock()
	if len(batch) > 0 {
		_, _ = b.w.Write(batch) // dropped on failure, as in writeLocked
	}
	b.spare = keepable(batch)
}

// keepable is buf if it is small enough to keep for the next batch, else
// nil: a burst of long lines must not pin its buffer for good. A batch
// fills to logBufferSize plus its last line, and append grows a buffer by
// a quarter at this size, so an ordinary batch stays under twice that.
func keepable(buf []byte) []byte {
	if cap(buf) > 2*logBufferSize {
		return nil
	}
	return buf
}
