package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/falfake"
	"github.com/falproxy/falproxy/internal/store"
)

// leaveWhile sends body to path with key, waits until fal has received
// calls of the kind calls counts, then leaves as a client that gives up
// does, and waits for falproxy to end the request (its access log line
// follows its ledger row) and the cancels of what it abandoned to settle.
func leaveWhile(t *testing.T, h *harness, key, path, body string, calls func(falfake.Counts) int) {
	t.Helper()
	cancel, done := h.postInBackgroundAs(key, path, body)
	eventually(t, "fal to receive the call", func() bool { return calls(h.fake.Counts()) > 0 })
	cancel()
	<-done
	eventually(t, "falproxy to end the request", func() bool { return strings.Contains(h.logText(), "path="+path+" status=") })
	h.settleCancels()
}

func statusStreams(c falfake.Counts) int { return c.StatusStreams }

// ledgerCost is what the ledger charges in all, once the rows queued are
// written, and its totals.
func ledgerCost(t *testing.T, h *harness, ts *teamsSetup) (float64, []store.UsageTotal) {
	t.Helper()
	ts.flush(t)
	total := h.usage("")
	var cost float64
	for _, u := range total {
		cost += u.CostUSD
	}
	return cost, total
}

// chargedAsFalBills checks that the ledger holds what fal bills, one
// flux-dev image, and that the key's hard budget of two images has room
// for one more request only.
func chargedAsFalBills(t *testing.T, h *harness, ts *teamsSetup, key string) {
	t.Helper()
	const image = 0.025
	var cost float64
	eventually(t, "the ledger to hold fal's bill", func() bool {
		cost, _ = ledgerCost(t, h, ts)
		return math.Abs(cost-image) < 1e-9
	})
	if bill := h.fake.BillUSD(); math.Abs(bill-image) > 1e-9 {
		t.Fatalf("the emulator billed $%v, want one image", bill)
	}
	h.fake.ClearFaults()
	for i, want := range []int{http.StatusOK, http.StatusTooManyRequests} { // the budget's second image, then none
		if status, _, body := h.postAs(context.Background(), key, "/v1/images/generations", imageBody); status != want {
			t.Fatalf("request %d after the one left: %d %s, want %d", i+1, status, body, want)
		}
	}
	if n := h.falSubmits("fal-ai/flux/dev"); n != 2 {
		t.Fatalf("fal received %d jobs, want 2", n)
	}
}

// TestJobsCompletedWhileTheClientLeavesAreCharged: the client leaves
// while falproxy waits for the status of a job fal has meanwhile
// completed, so that the cancel comes too late, or, a regression case
// that Run settles itself, while falproxy reads the result of a job fal
// has completed. fal bills the job either way, so the ledger records its
// cost, once, also for a streamed request whose answer had begun, and the
// key's budget counts it.
func TestJobsCompletedWhileTheClientLeavesAreCharged(t *testing.T) {
	const streamed = `{"model":"flux-dev","prompt":"a lighthouse","stream":true}`
	for _, c := range []struct {
		name  string
		body  string
		op    falfake.Op // the call fal holds when the client leaves
		calls func(falfake.Counts) int
	}{
		{"reading the result (regression)", imageBody, falfake.OpResult, func(c falfake.Counts) int { return c.Results }},
		{"waiting for the status", imageBody, falfake.OpStream, statusStreams},
		{"waiting for the status of a stream", streamed, falfake.OpStream, statusStreams},
	} {
		t.Run(c.name, func(t *testing.T) {
			eachStore(t, func(t *testing.T, url string) {
				ts := &teamsSetup{url: url}
				h := newHarness(t, withTeams(ts), quick)
				_, key := h.createKey(map[string]any{"name": "leaver", "budget_usd": 0.05})
				h.fake.Inject(falfake.Fault{Op: c.op, Delay: time.Minute, Times: 1})
				leaveWhile(t, h, key, "/v1/images/generations", c.body, c.calls)
				chargedAsFalBills(t, h, ts, key)
			})
		})
	}
}

// TestAbandonedJobsThatFailedAtFalAreNotCharged: the client leaves while
// falproxy waits for a job that then fails at fal (a 422 content policy
// failure, whose status carries no error type), so that the cancel comes
// too late. fal bills nothing for it, and neither does the ledger.
func TestAbandonedJobsThatFailedAtFalAreNotCharged(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		ts := &teamsSetup{url: url}
		h := newHarness(t, withTeams(ts), quick)
		_, key := h.createKey(map[string]any{"name": "leaver"})
		h.fake.Inject(falfake.Fault{Op: falfake.OpStream, Delay: time.Minute, Times: 1})
		leaveWhile(t, h, key, "/v1/images/generations", `{"model":"flux-dev","prompt":"[nsfw] a lighthouse"}`, statusStreams)
		ts.flush(t)
		for _, u := range h.usage("") {
			if u.CostUSD != 0 {
				t.Fatalf("the ledger charges $%v for a job that failed: %+v", u.CostUSD, u)
			}
		}
		if bill := h.fake.BillUSD(); bill != 0 {
			t.Fatalf("the emulator billed $%v, want nothing", bill)
		}
		if n := h.fake.Counts().Results; n != 1 {
			t.Fatalf("fal received %d result reads, want the one that tells the job failed", n)
		}
	})
}

// TestAbandonedChatsAreChargedTheirTokens: the client of a chat asking
// for up to 100,000 tokens leaves while falproxy waits for the job, which
// fal completes before the cancel arrives. The ledger charges the tokens
// fal billed, not the request's estimate.
func TestAbandonedChatsAreChargedTheirTokens(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		ts := &teamsSetup{url: url}
		h := newHarness(t, withTeams(ts), quick, withBackend(chat.Router.String()), func(s *setup) {
			s.fake.Prices = map[string]falfake.Price{"openrouter/router": {UnitPrice: 5, Unit: "1M tokens"}}
		})
		_, key := h.createKey(map[string]any{"name": "leaver"})
		h.fake.Inject(falfake.Fault{Op: falfake.OpStream, Endpoint: "openrouter/router", Delay: time.Minute, Times: 1})
		leaveWhile(t, h, key, "/v1/chat/completions",
			`{"model":"gpt-4o","max_tokens":100000,"messages":[{"role":"user","content":"Hello there"}]}`, statusStreams)
		bill := h.fake.BillUSD()
		if bill <= 0 || bill > 1000*5/1e6 {
			t.Fatalf("the emulator billed $%v, want a short answer's tokens", bill)
		}
		cost, total := ledgerCost(t, h, ts)
		if math.Abs(cost-bill) > 1e-9 {
			t.Fatalf("the ledger charges $%v (%+v), fal billed $%v", cost, total, bill)
		}
	})
}

// TestStreamsLeftMidwayAreNotChargedTheirEstimate: the client of a chat
// stream asking for up to 100,000 tokens leaves after the first delta.
// The ledger records the request as one the client left, at the tokens
// that reached falproxy, never at its estimate on top.
func TestStreamsLeftMidwayAreNotChargedTheirEstimate(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		ts := &teamsSetup{url: url}
		h := newHarness(t, withTeams(ts), withBackend(chat.Router.String()), func(s *setup) {
			s.fake.Prices = map[string]falfake.Price{"openrouter/router": {UnitPrice: 5, Unit: "1M tokens"}}
			s.fake.TokenDelay = time.Hour // the stream stops after its first event
		})
		_, key := h.createKey(map[string]any{"name": "leaver"})
		estimate, _ := leaveAfterFirstDelta(t, h, key, "/v1/chat/completions",
			`{"model":"gpt-4o","max_tokens":100000,"stream":true,"messages":[{"role":"user","content":"Hello there"}]}`, chatContentDelta)
		if n := len(h.falCalls(falfake.OpLLMStream)); n != 1 {
			t.Fatalf("fal received %d streams, want 1", n)
		}
		cost, total := ledgerCost(t, h, ts)
		if estimate < 100000*5/1e6 || cost >= estimate/100 {
			t.Fatalf("the ledger charges $%v (%+v) for a stream left after its first delta; its estimate was $%v", cost, total, estimate)
		}
	})
}

// leaveAfterFirstDelta sends the stream request body to path with key,
// reads its events until delta finds text in one, then leaves, and waits
// for falproxy to end the request. It returns the request's estimated
// cost (x-falproxy-cost-usd) and the text of that first delta.
func leaveAfterFirstDelta(t *testing.T, h *harness, key, path, body string, delta func(data []byte) string) (estimate float64, text string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	estimate, _ = strconv.ParseFloat(resp.Header.Get("X-Falproxy-Cost-Usd"), 64)
	rd := bufio.NewReader(resp.Body)
	for text == "" {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("the stream ended before a delta: %v", err)
		}
		if data, ok := strings.CutPrefix(strings.TrimSpace(line), "data: "); ok {
			text = delta([]byte(data))
		}
	}
	cancel()
	resp.Body.Close()
	eventually(t, "falproxy to end the request", func() bool {
		return strings.Contains(h.logText(), "path="+path+" status=")
	})
	return estimate, text
}

// chatContentDelta is the content text of a chat chunk, if any.
func chatContentDelta(data []byte) string {
	var chunk struct {
		Choices []struct {
			Delta struct{ Content string }
		}
	}
	if json.Unmarshal(data, &chunk) != nil || len(chunk.Choices) == 0 {
		return ""
	}
	return chunk.Choices[0].Delta.Content
}

// responsesTextDelta is the text of a Responses output_text delta event.
func responsesTextDelta(data []byte) string {
	var ev struct{ Type, Delta string }
	if json.Unmarshal(data, &ev) != nil || ev.Type != "response.output_text.delta" {
		return ""
	}
	return ev.Delta
}
