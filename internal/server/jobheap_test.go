package server_test

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestWaitingImageJobHeap bounds the heap an image request waiting on fal
// keeps through falproxy's own code (allocated under its frames, net/http's
// client calls from them included; the emulator's share and net/http's
// server connection excluded): a thousand jobs in flight hold a thousand
// times as much. Measured 7,040 to 7,400 bytes (7,900 to 8,240 before
// the request body was read into a buffer of its length and a status
// stream stopped keeping a copy of its last event). It fails only over
// 8,200 bytes, the figure before those changes: on a loaded machine a
// request's share of its HTTP/2 connection's buffers and of the runtime's
// growth varies by a few hundred bytes. The race detector's allocations
// differ; the figure holds for production builds.
func TestWaitingImageJobHeap(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes what is allocated")
	}
	const jobs, budget = 100, 8200
	defer func(rate int) { runtime.MemProfileRate = rate }(runtime.MemProfileRate)
	runtime.MemProfileRate = 1
	// A real regression shows in every measurement; a loaded machine's
	// noise rarely twice in a row.
	var perJob int64
	for range 2 {
		if perJob = waitingJobHeap(t, jobs); perJob <= budget {
			return
		}
	}
	t.Errorf("an image job waiting on fal keeps %d bytes through falproxy's code, budget %d", perJob, budget)
}

// waitingJobHeap measures the heap each of jobs image requests waiting on
// fal keeps through falproxy's code, on a fresh harness.
func waitingJobHeap(t *testing.T, jobs int) int64 {
	h := newHarness(t, func(s *setup) { s.fake.GenerationTime = time.Hour })
	startWaitingImageJobs(t, h, accessKey, 1)() // connections and schemas, as under load
	before := proxyHeapInUse()
	stop := startWaitingImageJobs(t, h, accessKey, jobs)
	defer stop()
	perJob := (proxyHeapInUse() - before) / int64(jobs)
	t.Logf("an image job waiting on fal keeps %d bytes through falproxy's code", perJob)
	if c := h.fake.Counts(); c.Submits != jobs+1 || c.StatusStreams != jobs+1 {
		t.Errorf("fal received %d submits and %d status streams for %d jobs", c.Submits, c.StatusStreams, jobs+1)
	}
	return perJob
}

// proxyHeapInUse is the heap in use that was allocated under a frame of
// falproxy's code (not the emulator's, nor the tests'), after two
// collections so that the profile is current.
func proxyHeapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var records []runtime.MemProfileRecord
	n, _ := runtime.MemProfile(nil, true)
	for {
		records = make([]runtime.MemProfileRecord, n+50)
		var ok bool
		if n, ok = runtime.MemProfile(records, true); ok {
			records = records[:n]
			break
		}
	}
	var inUse int64
	for _, r := range records {
		frames := runtime.CallersFrames(r.Stack())
		for {
			f, more := frames.Next()
			if name := f.Function; strings.HasPrefix(name, "github.com/falproxy/falproxy/internal/") &&
				!strings.Contains(name, "/internal/falfake") && !strings.Contains(name, "_test.") {
				inUse += r.InUseBytes()
				break
			}
			if !more {
				break
			}
		}
	}
	return inUse
}
