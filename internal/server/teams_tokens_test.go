package server_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/falfake"
	"github.com/falproxy/falproxy/internal/openai"
	"github.com/falproxy/falproxy/internal/pricing"
)

// TestLedgerMatchesTheEmulatorsBillForTokens extends
// TestLedgerMatchesTheEmulatorsBill to chat (whole and streamed), Responses
// (bridged, or forwarded by the passthrough) and embeddings, on each chat
// backend that reports usage: the ledger
// records the fal endpoint that bills them and the cost fal bills, to the
// cent. fal bills gpt-4o above the price its pricing API lists for the
// endpoint, as a model behind an LLM endpoint may cost more: only the
// cost its answer reports (usage.cost) settles that right.
func TestLedgerMatchesTheEmulatorsBillForTokens(t *testing.T) {
	for _, b := range backendsNamed(chat.Router, chat.Passthrough) {
		t.Run(strings.ReplaceAll(b.name, "/", "_"), func(t *testing.T) {
			eachStore(t, func(t *testing.T, url string) {
				ts := &teamsSetup{url: url}
				// The passthrough forwards Responses to fal's own route too.
				responsesMode := func(*setup) {}
				if b.passthrough() {
					responsesMode = withResponsesPassthrough
				}
				h := newHarness(t, withTeams(ts), withBackend(b.name), responsesMode, withEmbeddings, func(s *setup) {
					s.fake.Prices = map[string]falfake.Price{
						"openrouter/router":               {UnitPrice: 0.01, Unit: "token"},
						"openrouter/router#openai/gpt-4o": {UnitPrice: 0.03, Unit: "token"},
						"openrouter/router/openai/v1":     {UnitPrice: 0.02, Unit: "token"},
						// Billed above the endpoint's price as well.
						"openrouter/router/openai/v1#openai/gpt-4o": {UnitPrice: 0.05, Unit: "token"},
					}
				})
				_, key := h.createKey(map[string]any{"name": "tokens"})
				requests := []struct{ path, body string }{
					{"/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"Hello there, how are you"}]}`},
					{"/v1/chat/completions", `{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Stream to me"}]}`},
					{"/v1/chat/completions", `{"model":"google/gemini-2.5-flash","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Once more"}]}`},
					{"/v1/responses", `{"model":"google/gemini-2.5-flash","input":"Respond in a few words"}`},
					{"/v1/responses", `{"model":"gpt-4o","stream":true,"input":"Stream a response"}`},
					{"/v1/embeddings", `{"model":"text-embedding-3-small","input":["the first text","a second one"]}`},
				}
				if !b.passthrough() { // fal's OpenAI-compatible stream reports usage only when asked
					requests = append(requests, struct{ path, body string }{"/v1/chat/completions",
						`{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"Stream without usage"}]}`})
				}
				for _, r := range requests {
					if status, _, body := h.postAs(context.Background(), key, r.path, r.body); status != http.StatusOK {
						t.Fatalf("%s %s: %d %.300s", r.path, r.body, status, body)
					}
				}
				ts.flush(t)
				bill := h.fake.BillUSD()
				total := h.usage("")
				if bill < 1 || len(total) != 1 || total[0].Requests != int64(len(requests)) || total[0].UnpricedRequests != 0 {
					t.Fatalf("the emulator billed $%v; ledger %+v", bill, total)
				}
				if math.Abs(total[0].CostUSD-bill) > 1e-9 { // to the micro-dollar, so to the cent
					t.Fatalf("the ledger says $%v, fal billed $%v", total[0].CostUSD, bill)
				}
				wantEndpoints := map[string]bool{b.name: true, chat.Passthrough.String(): true}
				for _, e := range ledgerEndpoints(t, url) {
					if !wantEndpoints[e] {
						t.Errorf("the ledger names the endpoint %q, want the fal apps %v", e, wantEndpoints)
					}
				}
			})
		})
	}
}

// TestInputAndOutputTokensAtTheirOwnRates: a PRICES_FILE price for a model
// behind the passthrough's endpoint, with input and output rates, prices
// the prompt and completion tokens of fal's usage each at its rate.
func TestInputAndOutputTokensAtTheirOwnRates(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		ts := &teamsSetup{url: url, prices: map[string]pricing.Price{
			"openrouter/router/openai/v1#openai/gpt-4o": {Unit: "token", InputUnitPrice: 0.01, OutputUnitPrice: 0.1},
		}}
		h := newHarness(t, withTeams(ts), withBackend(chat.Passthrough.String()))
		_, key := h.createKey(map[string]any{"name": "rates"})
		status, _, body := h.postAs(context.Background(), key, "/v1/chat/completions",
			`{"model":"gpt-4o","messages":[{"role":"user","content":"Hello there, how are you"}]}`)
		var answer struct{ Usage openai.Usage }
		if status != http.StatusOK || json.Unmarshal(body, &answer) != nil || answer.Usage.PromptTokens == 0 || answer.Usage.CompletionTokens == 0 {
			t.Fatalf("%d %s", status, body)
		}
		if calls := h.falCalls(falfake.OpChat); len(calls) != 1 || !strings.Contains(string(calls[0].Body), `"model":"openai/gpt-4o"`) {
			t.Fatalf("fal received %+v", calls)
		}
		ts.flush(t)
		want := float64(answer.Usage.PromptTokens)*0.01 + float64(answer.Usage.CompletionTokens)*0.1
		if got := h.usage(""); len(got) != 1 || math.Abs(got[0].CostUSD-want) > 1e-9 {
			t.Fatalf("ledger %+v, want %d input tokens at $0.01 and %d output tokens at $0.1: $%v",
				got, answer.Usage.PromptTokens, answer.Usage.CompletionTokens, want)
		}
	})
}

// ledgerEndpoints reads the endpoint column of the ledger at url, as an
// operator would with SQL: the admin API does not group by endpoint.
func ledgerEndpoints(t *testing.T, url string) []string {
	t.Helper()
	db := openDatabase(t, url)
	rows, err := db.Query("SELECT DISTINCT endpoint FROM usage_ledger")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil || len(out) == 0 {
		t.Fatalf("the ledger's endpoints %v: %v", out, err)
	}
	return out
}

// openDatabase opens the database at a store URL for reading what the
// store wrote, closed after the test.
func openDatabase(t *testing.T, url string) *sql.DB {
	t.Helper()
	driver, dsn := "pgx", url
	if path, ok := strings.CutPrefix(url, "sqlite://"); ok {
		driver, dsn = "sqlite", "file:"+path
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// TestUsageAfterANestedNullUsageIsCharged: fal's answer carries its usage
// after a choice whose message holds "usage":null (keys sorted, "choices"
// comes first). The ledger charges the answer's own usage, not the
// request's estimate.
func TestUsageAfterANestedNullUsageIsCharged(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		ts := &teamsSetup{url: url, prices: map[string]pricing.Price{
			"openrouter/router/openai/v1#openai/gpt-4o": {Unit: "token", InputUnitPrice: 0.01, OutputUnitPrice: 0.1},
		}}
		h := newHarness(t, withTeams(ts), withBackend(chat.Passthrough.String()))
		h.fake.Inject(falfake.Fault{Op: falfake.OpChat, Status: http.StatusOK, Body: `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"openai/gpt-4o",` +
			`"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Hi","usage":null}}],` +
			`"usage":{"prompt_tokens":30,"completion_tokens":7,"total_tokens":37}}`})
		_, key := h.createKey(map[string]any{"name": "nested"})
		status, _, body := h.postAs(context.Background(), key, "/v1/chat/completions",
			`{"model":"gpt-4o","max_tokens":5000,"messages":[{"role":"user","content":"Hello there"}]}`)
		if status != http.StatusOK || !strings.Contains(string(body), `"total_tokens":37`) {
			t.Fatalf("%d %s", status, body)
		}
		if calls := h.falCalls(falfake.OpChat); len(calls) != 1 {
			t.Fatalf("fal received %d calls, want 1", len(calls))
		}
		ts.flush(t)
		want := 30*0.01 + 7*0.1
		if got := h.usage(""); len(got) != 1 || math.Abs(got[0].CostUSD-want) > 1e-9 {
			t.Fatalf("ledger %+v, want fal's 30 input and 7 output tokens: $%v", got, want)
		}
	})
}
