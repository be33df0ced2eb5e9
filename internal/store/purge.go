package store

import (
	"sync/atomic"
	"time"
)

// Expired rows are purged as the writes that add rows come: at most once
// per PurgeEvery in a process, and at most PurgeBatch rows of a table at
// a time, so that no request does more than a bounded amount of it. Reads
// never return an expired row, purged or not.
const (
	PurgeEvery = 10 * time.Second
	PurgeBatch = 1000
)

// PurgeClock tells when a purge is due. It is safe for concurrent use:
// of writes made at once, one purges.
type PurgeClock struct{ next atomic.Int64 }

// Due reports whether a purge should run at now, and if so counts one as
// run.
func (c *PurgeClock) Due(now time.Time) bool {
	next := c.next.Load()
	return now.UnixNano() >= next && c.next.CompareAndSwap(next, now.Add(PurgeEvery).UnixNano())
}
