package server

import (
	"runtime"
	"runtime/debug"
	"sync"
	"time"
)

// idleRelease returns memory to the operating system when a burst of work
// is over. Go collects garbage as it allocates, so a server that goes idle
// after a thousand concurrent jobs keeps their memory for minutes, until
// the runtime's periodic forced collection; the host sees the peak as the
// server's size. Shortly after the last request of a burst ends (once its
// clients have had time to close their connections), one collection that
// also hands freed pages back brings RSS down at once.
type idleRelease struct {
	mu       sync.Mutex
	inflight int
	peak     int       // most requests in flight since the last release
	last     time.Time // last release
}

const (
	// burstSize is how many concurrent requests make a burst worth a
	// release; below it the heap they leave is small.
	burstSize = 64
	// releaseEvery bounds how often a release may run.
	releaseEvery = 30 * time.Second
	// releaseDelay is how long the server must stay idle before a release.
	releaseDelay = 2 * time.Second
)

func newIdleRelease() *idleRelease { return &idleRelease{} }

func (r *idleRelease) begin() {
	r.mu.Lock()
	r.inflight++
	r.peak = max(r.peak, r.inflight)
	r.mu.Unlock()
}

func (r *idleRelease) end() {
	r.mu.Lock()
	r.inflight--
	release := r.inflight == 0 && r.peak >= burstSize && time.Since(r.last) >= releaseEvery
	r.mu.Unlock()
	if release {
		time.AfterFunc(releaseDelay, r.releaseIfIdle)
	}
}

// releaseIfIdle releases if the server is still idle. If a request came
// in meanwhile, the burst's mark is kept, so the end of that request tries
// again.
func (r *idleRelease) releaseIfIdle() {
	r.mu.Lock()
	idle := r.inflight == 0 && r.peak > 0
	if idle {
		r.peak, r.last = 0, time.Now()
	}
	r.mu.Unlock()
	if idle {
		// The first collection moves what sync.Pools hold (net/http's
		// connection buffers, a few KiB for each of the burst's
		// connections) to their victim caches; only the second frees
		// it, and returns it with the rest.
		runtime.GC()
		debug.FreeOSMemory()
	}
}
