package server_test

import (
	"context"
	"net/http"
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
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range jobs {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.url+"/v1/images/generations",
				strings.NewReader(`{"model":"flux-dev","prompt":"a lighthouse"}`))
			req.Header.Set("Authorization", "Bearer "+accessKey)
			req.Header.Set("Content-Type", "application/json")
			if resp, err := h.client.Do(req); err == nil {
				resp.Body.Close()
			}
		})
	}
	defer wg.Wait()
	defer cancel()
	// Every job is waiting once fal has received its status stream and
	// its handler follows it.
	proxy, following := goroutineCounts()
	for deadline := time.Now().Add(30 * time.Second); following < jobs || h.fake.Counts().StatusStreams < jobs; proxy, following = goroutineCounts() {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d requests are following their job's status stream", following, jobs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := float64(proxy-before) / jobs; got > perJob {
		t.Errorf("%.2f proxy goroutines per image job waiting on fal, want at most %d", got, perJob)
	}
	// Each job took one submit and one status stream, no polling.
	if c := h.fake.Counts(); c.Submits != jobs || c.StatusStreams != jobs || c.Status != 0 {
		t.Errorf("fal received %d submits, %d status streams and %d status polls for %d jobs", c.Submits, c.StatusStreams, c.Status, jobs)
	}
}
