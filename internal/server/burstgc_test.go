package server_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBurstCollectsOften checks that the collector runs more often while a
// burst of image jobs is in flight (GOGC 15, so that the burst's garbage
// adds little to its peak) and at the process's own setting again once
// the burst is over. A process run with GOGC set, or at 15 or below, or
// off, keeps its setting through the burst.
func TestBurstCollectsOften(t *testing.T) {
	const jobs = 64 // a burst: see burstSize
	h := newHarness(t, func(s *setup) { s.fake.GenerationTime = time.Hour })
	before := gcPercent()
	stop := startWaitingImageJobs(t, h, accessKey, jobs)
	during := gcPercent()
	stop()
	want := int64(15)
	// GOGC=off reads as -1; an operator's GOGC is left alone.
	if before <= want || os.Getenv("GOGC") != "" {
		want = before
	}
	if during != want {
		t.Errorf("GOGC is %d with %d image jobs waiting on fal, want %d (%d before)", during, jobs, want, before)
	}
	if c := h.fake.Counts(); c.Submits != jobs || c.StatusStreams != jobs {
		t.Errorf("fal received %d submits and %d status streams for %d jobs", c.Submits, c.StatusStreams, jobs)
	}
	// The clients left: their jobs are cancelled at fal, and their
	// requests end.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		_, following := goroutineCounts()
		if following == 0 && h.fake.Counts().Cancels >= jobs && gcPercent() == before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the burst: %d requests still follow a status stream, fal received %d cancels, GOGC is %d (%d before)",
				following, h.fake.Counts().Cancels, gcPercent(), before)
		}
	}
}

// gcPercent is the process's GOGC.
func gcPercent() int64 {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}

// TestStreamsInFlightLeaveCollectionAlone: many chat streams at once are
// not a burst of jobs waiting on fal; they keep allocating as they run,
// so the collector keeps the process's own setting.
func TestStreamsInFlightLeaveCollectionAlone(t *testing.T) {
	const streams = 65 // just past a burst (see burstSize)
	h := newHarness(t, func(s *setup) { s.fake.TokenDelay = time.Hour })
	before := gcPercent()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	for range streams {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.url+"/v1/chat/completions",
				strings.NewReader(`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"a lighthouse"}]}`))
			req.Header.Set("Authorization", "Bearer "+accessKey)
			req.Header.Set("Content-Type", "application/json")
			if resp, err := h.client.Do(req); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	for deadline := time.Now().Add(30 * time.Second); h.fake.Counts().Streams < streams; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("fal received %d of %d streams", h.fake.Counts().Streams, streams)
		}
	}
	if during := gcPercent(); during != before {
		t.Errorf("GOGC is %d with %d chat streams in flight, want the process's %d", during, streams, before)
	}
}

// TestBurstIsCountedAcrossServers: GOGC is the process's, so jobs count
// towards a burst whichever server of the process runs them, and one
// server's jobs ending does not end a burst the other's still make.
func TestBurstIsCountedAcrossServers(t *testing.T) {
	const half = 32 // each server's share of a burst (see burstSize)
	first := newHarness(t, func(s *setup) { s.fake.GenerationTime = time.Hour })
	second := newHarness(t, func(s *setup) { s.fake.GenerationTime = time.Hour })
	before := gcPercent()
	if before <= 15 || os.Getenv("GOGC") != "" {
		t.Skipf("the process runs with GOGC %d, which a burst leaves alone", before)
	}
	stopFirst := startWaitingImageJobs(t, first, accessKey, half)
	stopSecond := startWaitingImageJobs(t, second, accessKey, half)
	defer stopSecond()
	if during := gcPercent(); during != 15 {
		t.Errorf("GOGC is %d with %d image jobs waiting on each of two servers, want 15 (%d before)", during, half, before)
	}
	// The first server's clients leave: each request ends, and is logged,
	// after its job has stopped counting.
	stopFirst()
	eventually(t, "the first server's requests end", func() bool {
		return strings.Count(first.logText(), "path=/v1/images/generations") == half
	})
	if c := first.fake.Counts(); c.Submits != half || c.StatusStreams != half {
		t.Errorf("the first server's fal received %d submits and %d status streams for %d jobs", c.Submits, c.StatusStreams, half)
	}
	if during := gcPercent(); during != 15 {
		t.Errorf("GOGC is %d with %d image jobs still waiting on the second server, want 15 until fewer than %d wait", during, half, half)
	}
	stopSecond()
	eventually(t, "GOGC is restored after the burst", func() bool { return gcPercent() == before })
}
