package server

import (
	"os"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
)

// queuedJobs counts the queued fal jobs of every server in the process
// and collects more often during a burst of them (burstGCPercent). GOGC
// is the process's, so the count is too: counted per server, one server
// restored GOGC in the middle of another's burst, and jobs spread over
// servers made no burst at all.
//
// Why a burst collects more often: a job's request allocates most of what
// it holds as it submits and answers, and with the default GOGC the
// garbage of a thousand of them piles up on top of their live heap and
// stacks before a collection, raising the peak the host sees by 10 MiB
// and more. GOGC 15 is where both limits held in runs on two cores: at
// a thousand jobs the peak came to +43 to +47 MiB (+46 to +50 at GOGC
// 25), and a burst of 500 images added 37 to 44 ms at its 99th
// percentile (51 to 62 ms at GOGC 10, 24 to 32 at 25, 12 to 30 without
// the burst's setting). A job waiting on fal allocates nothing, so the
// extra collections fall on the submits and the answers. Only jobs count:
// requests that keep allocating while they run (streams, passthrough
// chats, downloads) would pay for collections that free little, so many
// of them at once leave GOGC alone.
var queuedJobs jobBurst

// burstGCPercent is the GOGC while burstSize queued fal jobs or more run
// in the process, and until fewer than half as many do.
const burstGCPercent = 15

// operatorGOGC: the process was started with GOGC set, a choice the
// burst's setting leaves alone.
var operatorGOGC = os.Getenv("GOGC") != ""

type jobBurst struct {
	jobs atomic.Int64 // queued fal jobs running
	// mu orders the two transitions; a job that changes neither takes
	// no lock.
	mu sync.Mutex
	// gcPercent is the GOGC in force before the burst, restored when it
	// ends; 0 while no burst's setting is in force.
	gcPercent int
}

// started counts a queued fal job from its submit to its answer.
func (b *jobBurst) started() {
	if b.jobs.Add(1) != burstSize {
		return
	}
	b.mu.Lock()
	if b.jobs.Load() >= burstSize && b.gcPercent == 0 {
		b.collectOften()
	}
	b.mu.Unlock()
}

// ended is the end of a job started counted.
func (b *jobBurst) ended() {
	if b.jobs.Add(-1) != burstSize/2-1 {
		return
	}
	b.mu.Lock()
	if b.jobs.Load() < burstSize/2 && b.gcPercent != 0 {
		debug.SetGCPercent(b.gcPercent)
		b.gcPercent = 0
	}
	b.mu.Unlock()
}

// collectOften sets burstGCPercent for a burst, unless the operator set
// GOGC (the collections cost a burst's slowest requests some CPU, about
// about 20 ms at the 99th percentile of 500 images at once on two cores:
// GOGC=100 keeps that time for more memory) or it is lower already or
// turns collection off; b.mu is held.
func (b *jobBurst) collectOften() {
	if operatorGOGC {
		return
	}
	gogc := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(gogc)
	// GOGC=off reads as -1.
	if gogc[0].Value.Kind() == metrics.KindUint64 && int64(gogc[0].Value.Uint64()) > burstGCPercent {
		b.gcPercent = debug.SetGCPercent(burstGCPercent)
	}
}
