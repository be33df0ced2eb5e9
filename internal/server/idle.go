package server

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
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
//
// During a burst of queued fal jobs it also collects more often
// (burstGCPercent): a job's request allocates most of what it holds as it
// submits and answers, and with the default GOGC the garbage of a
// thousand of them piles up on top of their live heap and stacks before a
// collection, raising the peak the host sees by 10 MiB and more (at a
// thousand jobs, GOGC 10 peaked 3 to 11 MiB below GOGC 20 in runs side by
// side). A job waiting on fal allocates nothing, so the extra collections
// fall on the submits and the answers. Only jobs count: requests that
// keep allocating while they run (streams, passthrough chats, downloads)
// would pay for collections that free little, so many of them at once
// leave GOGC alone.
type idleRelease struct {
	mu       sync.Mutex
	inflight int
	peak     int       // most requests in flight since the last release
	last     time.Time // last release
	jobs     int       // queued fal jobs running (see jobStarted)
	// gcPercent is the GOGC in force before the burst, restored when it
	// ends; 0 while no burst's setting is in force.
	gcPercent int
}

const (
	// burstSize is how many concurrent requests make a burst worth a
	// release; below it the heap they leave is small.
	burstSize = 64
	// releaseEvery bounds how often a release may run.
	releaseEvery = 30 * time.Second
	// releaseDelay is how long the server must stay idle before a release.
	releaseDelay = 2 * time.Second
	// burstGCPercent is the GOGC while burstSize queued fal jobs or more
	// run, and until fewer than half as many do.
	burstGCPercent = 10
)

func newIdleRelease() *idleRelease { return &idleRelease{} }

func (r *idleRelease) begin() {
	r.mu.Lock()
	r.inflight++
	r.peak = max(r.peak, r.inflight)
	r.mu.Unlock()
}

// jobStarted counts a queued fal job from its submit to its answer.
func (r *idleRelease) jobStarted() {
	r.mu.Lock()
	r.jobs++
	if r.jobs == burstSize && r.gcPercent == 0 {
		r.collectOften()
	}
	r.mu.Unlock()
}

// jobEnded is the end of a job jobStarted counted.
func (r *idleRelease) jobEnded() {
	r.mu.Lock()
	r.jobs--
	if r.jobs == burstSize/2-1 && r.gcPercent != 0 {
		debug.SetGCPercent(r.gcPercent)
		r.gcPercent = 0
	}
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

// collectOften sets burstGCPercent for a burst, unless the operator's
// GOGC is lower already or turns collection off; r.mu is held.
func (r *idleRelease) collectOften() {
	gogc := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(gogc)
	// GOGC=off reads as -1.
	if gogc[0].Value.Kind() == metrics.KindUint64 && int64(gogc[0].Value.Uint64()) > burstGCPercent {
		r.gcPercent = debug.SetGCPercent(burstGCPercent)
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
