package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"
)

// proxyGoroutineMarks pick out, in a dump of every goroutine, those that
// exist for the proxy's requests: its handlers and anything its code
// starts, the background reader net/http keeps for each client connection
// with a request in flight, and the writer Go's HTTP/2 client keeps for
// each stream to fal (only the proxy speaks HTTP/2 here: the test's client
// speaks HTTP/1.1, and the emulator serves rather than calls).
var proxyGoroutineMarks = []string{
	"falproxy/internal/server.",
	"falproxy/internal/fal.",
	"net/http.(*connReader).backgroundRead",
	"net/http.(*http2clientStream).doRequest",
}

// goroutineCounts returns how many goroutines carry a proxy mark, and how
// many of those are waiting on a job's status stream.
func goroutineCounts() (proxy, following int) {
	for _, g := range goroutineStacks() {
		for _, mark := range proxyGoroutineMarks {
			if strings.Contains(g, mark) {
				proxy++
				break
			}
		}
		if strings.Contains(g, "fal.(*Client).followStream") {
			following++
		}
	}
	return proxy, following
}

// TestGoroutinesPerImageJob bounds what an image request waiting on fal
// costs in goroutines, each of which keeps a stack for the whole wait: the
// connection's handler, net/http's background reader of that connection
// and the HTTP/2 client's writer of the status stream, and nothing more
// (no helper goroutine to run or follow the job).
func TestGoroutinesPerImageJob(t *testing.T) {
	const jobs, perJob = 20, 3
	h := newHarness(t, func(s *setup) { s.fake.GenerationTime = time.Hour })
	before, _ := goroutineCounts()
	stop := startWaitingImageJobs(t, h, accessKey, jobs)
	defer stop()
	proxy, _ := goroutineCounts()
	if got := float64(proxy-before) / jobs; got > perJob {
		t.Errorf("%.2f proxy goroutines per image job waiting on fal, want at most %d", got, perJob)
	}
	// Each job took one submit and one status stream, no polling.
	if c := h.fake.Counts(); c.Submits != jobs || c.StatusStreams != jobs || c.Status != 0 {
		t.Errorf("fal received %d submits, %d status streams and %d status polls for %d jobs", c.Submits, c.StatusStreams, c.Status, jobs)
	}
}

// TestWaitingImageJobStack holds the stack of a request waiting on fal at
// 8 KiB: the runtime doubles a stack when a call goes deeper than it holds
// and keeps it doubled while more than a quarter is in use, so a request
// whose deepest point (the submit's HTTP/2 round trip, opening and reading
// the status stream, decoding a status event) passed about 7.1 KiB held
// 16 KiB for its whole wait.
func TestWaitingImageJobStack(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.fake.GenerationTime = time.Hour })
	checkWaitingImageJobStacks(t, h, accessKey)
}

// TestWaitingImageJobStackWithVirtualKey holds the same 8 KiB for a
// request made with a virtual key, whose lookup, limits and metering run
// before and around the image handler.
func TestWaitingImageJobStackWithVirtualKey(t *testing.T) {
	ts := &teamsSetup{url: "sqlite://" + filepath.Join(t.TempDir(), "falproxy.db")}
	h := newHarness(t, withTeams(ts), func(s *setup) { s.fake.GenerationTime = time.Hour })
	_, key := h.createKey(map[string]any{"name": "waiting", "rpm": 100000, "max_concurrent": 1000, "budget_usd": 1000, "budget_period": "daily"})
	checkWaitingImageJobStacks(t, h, key)
}

// checkWaitingImageJobStacks reads the stacks of requests made with key
// while they wait on fal, and fails unless they are at 8 KiB. Now and then
// the runtime's own work on a request's goroutine (an allocation's slow
// path, helping the collector) goes deeper, so it asks it of most
// requests, not all. The race detector's frames are larger; the figure
// holds for production builds.
func checkWaitingImageJobStacks(t *testing.T, h *harness, key string) {
	t.Helper()
	if raceEnabled {
		t.Skip("the race detector's frames are larger than a production build's")
	}
	const jobs, maxStack = 20, 8 << 10
	// The connection to fal, the model's schema and the key's session
	// are there before the burst, as under load: requests racing to dial
	// take a deeper path.
	startWaitingImageJobs(t, h, key, 1)()
	if start := stackStartingSize(); start > maxStack {
		t.Skipf("goroutines start with %d-byte stacks here", start)
	}
	stop := startWaitingImageJobs(t, h, key, jobs)
	defer stop()
	sizes := goroutineStackSizes(t, "fal.readStatusStream")
	if len(sizes) < jobs {
		t.Fatalf("found %d goroutines reading a status stream, want %d", len(sizes), jobs)
	}
	small := 0
	for _, size := range sizes {
		if size <= maxStack {
			small++
		}
	}
	t.Logf("stacks of the requests waiting on fal: %v", sizes)
	if small < len(sizes)*3/4 {
		t.Errorf("%d of %d requests waiting on fal have a stack of at most %d bytes, want three quarters", small, len(sizes), maxStack)
	}
}

// startWaitingImageJobs sends jobs image requests made with key and
// returns once every one waits on its job's status stream; stop cancels
// them and waits for their ends.
func startWaitingImageJobs(t *testing.T, h *harness, key string, jobs int) (stop func()) {
	t.Helper()
	streams := h.fake.Counts().StatusStreams
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	stop = func() {
		cancel()
		wg.Wait()
	}
	for range jobs {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.url+"/v1/images/generations",
				strings.NewReader(`{"model":"flux-dev","prompt":"a lighthouse"}`))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			if resp, err := h.client.Do(req); err == nil {
				resp.Body.Close()
			}
		})
	}
	// Every job is waiting once fal has received its status stream and
	// its handler follows it.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		_, following := goroutineCounts()
		if following >= jobs && h.fake.Counts().StatusStreams >= streams+jobs {
			return stop
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("%d of %d requests are following their job's status stream", following, jobs)
		}
	}
}

// stackStartingSize is the size the runtime gives a new goroutine's stack,
// which it sets from the stacks in use at each collection.
func stackStartingSize() uint64 {
	s := []metrics.Sample{{Name: "/gc/stack/starting-size:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestCompletedImageJobStack holds the stack of a request at 8 KiB through
// its end: reading fal's result (encoding/json's reflection, the deepest
// work of a request) used to double it to 16 KiB as the job completed,
// and the connection's goroutine keeps its stack while it waits for the
// client's next request. Collection is off meanwhile, since a collection
// would shrink the stacks it finds mostly unused and hide a doubling.
func TestCompletedImageJobStack(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's frames are larger than a production build's")
	}
	const requests, maxStack = 20, 8 << 10
	h := newHarness(t, func(s *setup) { s.fake.GenerationTime = 20 * time.Millisecond })
	// A connection per request, each kept open once its answer is read.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: requests}}
	defer client.CloseIdleConnections()
	generate := func() {
		req, _ := http.NewRequest(http.MethodPost, h.url+"/v1/images/generations",
			strings.NewReader(`{"model":"flux-dev","prompt":"a lighthouse"}`))
		req.Header.Set("Authorization", "Bearer "+accessKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		defer resp.Body.Close()
		var answer struct{ Data []struct{ URL string } }
		if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || resp.StatusCode != http.StatusOK || len(answer.Data) != 1 || answer.Data[0].URL == "" {
			t.Errorf("answered %d with %+v (%v), want one image's URL", resp.StatusCode, answer, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
	}
	generate() // the connection to fal and the model's schema, as under load
	if start := stackStartingSize(); start > maxStack {
		t.Skipf("goroutines start with %d-byte stacks here", start)
	}
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	var wg sync.WaitGroup
	for range requests {
		wg.Go(generate)
	}
	wg.Wait()
	if c := h.fake.Counts(); c.Submits != requests+1 || c.StatusStreams != requests+1 || c.Results != requests+1 {
		t.Errorf("fal received %d submits, %d status streams and %d result reads for %d requests", c.Submits, c.StatusStreams, c.Results, requests+1)
	}
	sizes := goroutineStackSizes(t, "net/http.(*conn).serve")
	small := 0
	for _, size := range sizes {
		if size <= maxStack {
			small++
		}
	}
	t.Logf("stacks of the connections whose requests are answered: %v", sizes)
	if len(sizes) < requests || small < len(sizes)*3/4 {
		t.Errorf("%d of %d connections whose requests are answered have a stack of at most %d bytes, want three quarters of at least %d", small, len(sizes), maxStack, requests)
	}
}
