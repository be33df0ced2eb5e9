package server_test

import (
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/falfake"
)

// TestPassthroughStreamsLeftMidwayAreChargedWhatWasStreamed: the client
// of a stream of fal's OpenAI-compatible routes, asking for up to 100,000
// tokens, leaves after the first delta while the model stalls ("[stall]"),
// before any chunk carried usage. fal bills the prompt and the tokens
// generated, so the ledger charges the estimate of the prompt and of the
// text streamed: more than nothing, far less than the request's estimate.
// The chat route, Responses forwarded to fal's responses route, and
// Responses bridged onto the chat route are charged alike.
func TestPassthroughStreamsLeftMidwayAreChargedWhatWasStreamed(t *testing.T) {
	const prompt = "Tell me a long story [stall]"
	for _, c := range []struct {
		name, path, body string
		mode             func(*setup)
		op               falfake.Op
		delta            func([]byte) string
	}{
		{"chat", "/v1/chat/completions",
			`{"model":"gpt-4o","max_tokens":100000,"stream":true,"messages":[{"role":"user","content":"` + prompt + `"}]}`,
			withBackend(chat.Passthrough.String()), falfake.OpChat, chatContentDelta},
		{"responses forwarded", "/v1/responses",
			`{"model":"gpt-4o","max_output_tokens":100000,"stream":true,"input":"` + prompt + `"}`,
			withResponsesPassthrough, falfake.OpResponses, responsesTextDelta},
		{"responses bridged", "/v1/responses",
			`{"model":"gpt-4o","max_output_tokens":100000,"stream":true,"input":"` + prompt + `"}`,
			withBackend(chat.Passthrough.String()), falfake.OpChat, responsesTextDelta},
	} {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			eachStore(t, func(t *testing.T, url string) {
				ts := &teamsSetup{url: url}
				h := newHarness(t, withTeams(ts), c.mode, func(s *setup) {
					s.fake.Prices = map[string]falfake.Price{chat.Passthrough.String(): {UnitPrice: 5, Unit: "1M tokens"}}
				})
				_, key := h.createKey(map[string]any{"name": "leaver"})
				estimate, text := leaveAfterFirstDelta(t, h, key, c.path, c.body, c.delta)
				if n := len(h.falCalls(c.op)); n != 1 {
					t.Fatalf("fal received %d %s calls, want one", n, c.op)
				}
				cost, total := ledgerCost(t, h, ts)
				streamed := chat.EstimateUsage(utf8.RuneCountInString(prompt), utf8.RuneCountInString(text))
				want := float64(streamed.TotalTokens) * 5 / 1e6
				if math.Abs(cost-want) > 1e-9 || cost >= estimate/100 {
					t.Fatalf("the ledger charges $%v (%+v) for a stream left after %q; want $%v for %d tokens, the request's estimate being $%v",
						cost, total, text, want, streamed.TotalTokens, estimate)
				}
			})
		})
	}
}

// TestPassthroughStreamLeftAfterItsUsageIsChargedThatUsage: the client of
// a chat stream asked with include_usage leaves after fal's usage chunk,
// before [DONE] ("[stall-at-end]"). The ledger charges fal's usage, to
// the micro-dollar of fal's bill, not an estimate of what was streamed.
func TestPassthroughStreamLeftAfterItsUsageIsChargedThatUsage(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		ts := &teamsSetup{url: url}
		h := newHarness(t, withTeams(ts), withBackend(chat.Passthrough.String()), func(s *setup) {
			s.fake.Prices = map[string]falfake.Price{chat.Passthrough.String(): {UnitPrice: 5, Unit: "1M tokens"}}
		})
		_, key := h.createKey(map[string]any{"name": "leaver"})
		leaveAfterFirstDelta(t, h, key, "/v1/chat/completions",
			`{"model":"gpt-4o","max_tokens":100000,"stream":true,"stream_options":{"include_usage":true},`+
				`"messages":[{"role":"user","content":"Tell me a story [stall-at-end]"}]}`,
			func(data []byte) string {
				if strings.Contains(string(data), `"usage":{`) {
					return "usage"
				}
				return ""
			})
		if n := len(h.falCalls(falfake.OpChat)); n != 1 {
			t.Fatalf("fal received %d chat calls, want one", n)
		}
		cost, total := ledgerCost(t, h, ts)
		if bill := h.fake.BillUSD(); bill <= 0 || math.Abs(cost-bill) > 1e-9 {
			t.Fatalf("the ledger charges $%v (%+v), fal billed $%v", cost, total, bill)
		}
	})
}
