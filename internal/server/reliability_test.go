package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/falfake"
)

// The reliability tests put falproxy under load and faults. They need more
// goroutines than the race detector allows, so they run in the non-race
// pass of scripts/test.sh (go test -run Reliability ./internal/server).

func skipUnlessLoad(t *testing.T) {
	t.Helper()
	if raceEnabled {
		t.Skip("load test: run without -race (go test -run Reliability ./internal/server)")
	}
	if testing.Short() {
		t.Skip("load test skipped in -short mode")
	}
}

// peakSampler records the peak goroutine count while it runs.
type peakSampler struct {
	stop chan struct{}
	done chan struct{}
	peak atomic.Int64
}

func samplePeaks() *peakSampler {
	p := &peakSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if n := int64(runtime.NumGoroutine()); n > p.peak.Load() {
				p.peak.Store(n)
			}
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

func (p *peakSampler) end() int64 {
	close(p.stop)
	<-p.done
	return p.peak.Load()
}

// vmHWM is the process's peak resident set size in MiB (Linux).
func vmHWM() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.ParseFloat(strings.Fields(line)[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func TestReliabilityLoad1000(t *testing.T) {
	skipUnlessLoad(t)
	h := newHarness(t, func(s *setup) {
		s.fake.GenerationTime = time.Second
		s.server.RequestTimeout = time.Minute
	})
	baseline := runtime.NumGoroutine()
	peaks := samplePeaks()
	const n = 1000
	lat := make([]time.Duration, n)
	codes := make([]int, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			code, _, _ := h.post(context.Background(), "/v1/images/generations", fmt.Sprintf(`{"model":"flux-dev","prompt":"load %d"}`, i))
			lat[i], codes[i] = time.Since(t0), code
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	peak := peaks.end()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Fatalf("request %d: status %d", i, c)
		}
	}
	cnt := h.fake.Counts()
	if cnt.Submits != n || cnt.Results != n || cnt.Cancels != 0 {
		t.Fatalf("upstream: %+v", cnt)
	}
	// Idle keep-alive connections are a pool, not a leak: drop them, then
	// every goroutine the requests started must be gone.
	h.closeIdle()
	eventually(t, "goroutines return to baseline", func() bool { return runtime.NumGoroutine() <= baseline+5 })
	t.Logf("load: %d requests, 1s generation, all 200 in %v; latency p50 %v p99 %v; upstream calls/request %.2f; peak goroutines %d (baseline %d, after %d); peak RSS of the test process (proxy + emulator + clients) %.0f MiB",
		n, wall.Round(time.Millisecond), percentile(lat, .5).Round(time.Millisecond), percentile(lat, .99).Round(time.Millisecond),
		float64(cnt.Submits+cnt.StatusStreams+cnt.Status+cnt.Results)/n, peak, baseline, runtime.NumGoroutine(), vmHWM())
}

// outcome is how one client request of the fault mix ended.
type outcome struct {
	kind   string // what the request was meant to exercise
	status int
	body   []byte
	err    error
}

// TestReliabilityFaultMix runs the fault mix over HTTP/2 (h2c), as
// falproxy speaks to fal, and over plain HTTP/1.1, as through a local
// egress proxy, where a dropped call is a closed connection.
func TestReliabilityFaultMix(t *testing.T) {
	skipUnlessLoad(t)
	for _, proto := range []string{"h2c", "http1"} {
		t.Run(proto, func(t *testing.T) { faultMix(t, proto) })
	}
}

func faultMix(t *testing.T, proto string) {
	keys := []string{"k1:s1", "k2:s2", "k3:s3", "k4:s4"}
	h := newHarness(t, func(s *setup) {
		s.falKeys = keys
		s.http1 = proto == "http1"
		s.fake.GenerationTime = 800 * time.Millisecond
		s.server.RequestTimeout = time.Minute
	})
	// 429 on half the keys, dropped and slow status streams, dropped
	// result connections (idempotent reads: retried), and cancels that
	// are dropped or refused before one gets through (retried).
	h.fake.Inject(falfake.Fault{Op: falfake.OpSubmit, Key: keys[0], Status: http.StatusTooManyRequests, RetryAfter: "1"})
	h.fake.Inject(falfake.Fault{Op: falfake.OpSubmit, Key: keys[1], Status: http.StatusTooManyRequests})
	h.fake.Inject(falfake.Fault{Op: falfake.OpStream, Drop: true, Times: 40})
	h.fake.Inject(falfake.Fault{Op: falfake.OpStream, Delay: 1500 * time.Millisecond, Times: 40})
	h.fake.Inject(falfake.Fault{Op: falfake.OpResult, Drop: true, Times: 20})
	h.fake.Inject(falfake.Fault{Op: falfake.OpCancel, Drop: true, Times: 15})
	h.fake.Inject(falfake.Fault{Op: falfake.OpCancel, Status: http.StatusServiceUnavailable, Times: 10})

	const n = 300
	results := make([]outcome, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			body := fmt.Sprintf(`{"model":"flux-dev","prompt":"mix %d"}`, i)
			kind := "ok"
			switch i % 10 {
			case 1: // a job that fails at fal
				kind, body = "job_failure", fmt.Sprintf(`{"model":"flux-dev","prompt":"[fail] mix %d"}`, i)
			case 2: // fal rejects the input (422)
				kind, body = "invalid_input", fmt.Sprintf(`{"model":"flux-dev","prompt":"mix %d","num_inference_steps":99}`, i)
			case 3: // the client gives up while the (slow) job runs
				kind, body = "abandoned", fmt.Sprintf(`{"model":"flux-dev","prompt":"mix %d [slow]"}`, i)
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, 300*time.Millisecond)
				defer cancel()
			}
			o := outcome{kind: kind}
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.url+"/v1/images/generations", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+accessKey)
			resp, err := h.client.Do(req)
			if err != nil {
				o.err = err
			} else {
				o.body, o.err = io.ReadAll(resp.Body)
				resp.Body.Close()
				o.status = resp.StatusCode
			}
			results[i] = o
		}()
	}
	wg.Wait()

	tally := map[string]int{}
	for i, o := range results {
		code := ""
		if o.err == nil && o.status != http.StatusOK {
			code = deref(decodeError(t, o.body).Code)
		}
		got := fmt.Sprintf("%d %s", o.status, code)
		ok := false
		switch o.kind {
		case "ok":
			ok = o.status == http.StatusOK
		case "job_failure":
			ok = o.status == http.StatusBadGateway && code == "runner_disconnected"
		case "invalid_input":
			ok = o.status == http.StatusBadRequest
		case "abandoned":
			ok = o.err != nil
		}
		if !ok {
			t.Errorf("request %d (%s) ended with %s err=%v", i, o.kind, got, o.err)
		}
		tally[o.kind+" → "+got]++
	}

	// No double submit: each prompt reached fal's queue at most once.
	seen := map[string]int{}
	for _, j := range h.fake.Jobs() {
		seen[string(j.Input)]++
	}
	for in, c := range seen {
		if c > 1 {
			t.Errorf("input submitted %d times: %s", c, in)
		}
	}
	// Every abandoned job was cancelled at fal, failed cancels included:
	// none is left running (and billed) without a client.
	abandoned, running := 0, func() int {
		n := 0
		for _, j := range h.fake.Jobs() {
			if abandonedPrompt(j.Input) && !j.Cancelled {
				n++
			}
		}
		return n
	}
	for _, j := range h.fake.Jobs() {
		if abandonedPrompt(j.Input) {
			abandoned++
		}
	}
	eventually(t, "every abandoned job is cancelled", func() bool { return running() == 0 })
	c := h.fake.Counts()
	t.Logf("fault mix (%s): %d requests; outcomes %v; fal saw %d submits (%d refused by 429), %d jobs, %d cancel calls for %d abandoned jobs, %d stream opens, %d polls, %d result reads, %d faults fired; abandoned jobs left running at fal: %d of %d",
		proto, n, tally, c.Submits, c.Submits-len(h.fake.Jobs()), len(h.fake.Jobs()),
		c.Cancels, abandoned, c.StatusStreams, c.Status, c.Results, c.Faults, running(), abandoned)
}

// abandonedPrompt tells whether a job input belongs to an abandoned request
// (index ≡ 3 mod 10, with no fault trigger in its prompt).
func abandonedPrompt(input []byte) bool {
	s := string(input)
	i := strings.Index(s, "mix ")
	if i < 0 || strings.Contains(s, "[fail]") || strings.Contains(s, "num_inference_steps") {
		return false
	}
	j := i + 4
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	n, err := strconv.Atoi(s[i+4 : j])
	return err == nil && n%10 == 3
}
