package server_test

import (
	"bufio"
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/falfake"
)

// TestAccessLogNamesEveryFalJob: a request that ran several fal jobs logs
// one id as fal_request_id, to search fal with, and all of them in
// fal_request_ids.
func TestAccessLogNamesEveryFalJob(t *testing.T) {
	h := newHarness(t, quick)
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, h.url+"/v1/images/generations",
		strings.NewReader(`{"model":"flux-dev","prompt":"a lighthouse","n":6,"response_format":"url"}`))
	req.Header.Set("Authorization", "Bearer "+accessKey)
	req.Header.Set("X-Request-Id", "split-request")
	if status, _, body := h.do(req); status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	var jobs []string
	for _, j := range h.fake.Jobs() {
		jobs = append(jobs, j.ID)
	}
	if len(jobs) != 2 {
		t.Fatalf("fal ran %d jobs, want 2", len(jobs))
	}
	line := accessLogLine(t, h, "split-request")
	first, ok := attrValue(line, "fal_request_id")
	if !ok || !slices.Contains(jobs, first) {
		t.Fatalf("fal_request_id %q is not one of fal's jobs %v: %s", first, jobs, line)
	}
	all, _ := attrValue(line, "fal_request_ids")
	for _, id := range jobs {
		if !strings.Contains(all, id) {
			t.Fatalf("fal_request_ids %q lacks %s: %s", all, id, line)
		}
	}
}

// TestAccessLogShowsAStreamLeftMidwayAs499: the client of a chat stream
// reads its first event and hangs up. The status line said 200, but the
// access log and the metrics, like the ledger, count a request the
// client left: 499. falproxy closes fal's stream.
func TestAccessLogShowsAStreamLeftMidwayAs499(t *testing.T) {
	h := newHarness(t, withBackend(chat.Router.String()), func(s *setup) {
		s.metrics = true
		s.fake.TokenDelay = time.Hour // the stream stops after its first event
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.url+"/v1/chat/completions",
		strings.NewReader(`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"Hello there"}]}`))
	req.Header.Set("Authorization", "Bearer "+accessKey)
	req.Header.Set("X-Request-Id", "left-stream")
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want the stream's 200", resp.StatusCode)
	}
	rd := bufio.NewReader(resp.Body)
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("the stream ended before its first event: %v", err)
		}
		if strings.HasPrefix(line, "data: ") {
			break
		}
	}
	cancel()
	resp.Body.Close()
	eventually(t, "fal's stream is closed", func() bool { return goroutinesIn("falfake.(*Fake).llmStream") == 0 })
	if n := len(h.falCalls(falfake.OpLLMStream)); n != 1 {
		t.Fatalf("fal received %d streams, want 1", n)
	}
	line := accessLogLine(t, h, "left-stream")
	if status, _ := attrValue(line, "status"); status != "499" {
		t.Errorf("access log status %q, want 499: %s", status, line)
	}
	_, metrics := h.getMetrics(h.url+"/metrics", "")
	if want := `falproxy_requests_total{model="gpt-4o",route="POST /v1/chat/completions",status="499"} 1`; !strings.Contains(metrics, want) {
		t.Errorf("metrics lack %s", want)
	}
}

// accessLogLine waits for the access log line of the request with the
// given id and returns it.
func accessLogLine(t *testing.T, h *harness, requestID string) string {
	t.Helper()
	var line string
	eventually(t, "the access log line", func() bool {
		for l := range strings.Lines(h.logText()) {
			if strings.Contains(l, "msg=request ") && strings.Contains(l, "request_id="+requestID+" ") {
				line = l
				return true
			}
		}
		return false
	})
	return line
}

// attrValue is the value of key in a text log line, unquoted.
func attrValue(line, key string) (string, bool) {
	_, rest, ok := strings.Cut(line, " "+key+"=")
	if !ok {
		return "", false
	}
	if strings.HasPrefix(rest, `"`) {
		v, _, _ := strings.Cut(rest[1:], `"`)
		return v, true
	}
	v, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
	return v, true
}
