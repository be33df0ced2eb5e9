package server_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/falfake"
)

// TestAnswersWithoutUsageAreRecordedAtAnEstimate: a chat answer of fal
// that carries no usage (fal-ai/any-llm's never do; the passthrough's
// when OpenRouter's provider reports none), whole or streamed, is
// recorded in the price's unit at a cost above zero, and its response,
// streamed or not, carries the estimate in x-falproxy-cost-usd.
func TestAnswersWithoutUsageAreRecordedAtAnEstimate(t *testing.T) {
	for _, backend := range []chat.Backend{chat.AnyLLM, chat.Passthrough} {
		t.Run(backend.String(), func(t *testing.T) { answersWithoutUsage(t, backend) })
	}
}

func answersWithoutUsage(t *testing.T, backend chat.Backend) {
	eachStore(t, func(t *testing.T, url string) {
		ts := &teamsSetup{url: url}
		h := newHarness(t, withTeams(ts), func(s *setup) {
			s.server.ChatBackend = backend
			s.fake.Prices = map[string]falfake.Price{backend.String(): {UnitPrice: 5, Unit: "1M tokens"}}
		})
		_, key := h.createKey(map[string]any{"name": "quiet"})
		for _, body := range []string{
			`{"model":"gpt-4o","messages":[{"role":"user","content":"Hello [no-usage]"}]}`,
			`{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Hello [no-usage]"}]}`,
		} {
			status, hdr, answer := h.postAs(context.Background(), key, "/v1/chat/completions", body)
			if status != http.StatusOK || hdr.Get("X-Falproxy-Cost-Usd") == "" {
				t.Fatalf("%d, estimate %q: %s", status, hdr.Get("X-Falproxy-Cost-Usd"), answer)
			}
		}
		ts.flush(t)
		rows, err := openDatabase(t, url).Query("SELECT units, unit, cost_micros FROM usage_ledger")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var units float64
			var unit string
			var cost *int64
			if err := rows.Scan(&units, &unit, &cost); err != nil {
				t.Fatal(err)
			}
			if units <= 0 || unit != "1M tokens" || cost == nil || *cost <= 0 {
				t.Errorf("row of %v %q costing %v µ$, want an estimate in 1M tokens", units, unit, cost)
			}
			n++
		}
		if rows.Err() != nil || n != 2 {
			t.Fatalf("%d rows (%v), want 2", n, rows.Err())
		}
	})
}
