package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/falfake"
)

const imageBody = `{"model":"flux-dev","prompt":"a lighthouse","response_format":"url"}`

// falSubmits counts the jobs fal received for an endpoint.
func (h *harness) falSubmits(endpoint string) int {
	n := 0
	for _, j := range h.fake.Jobs() {
		if j.Endpoint == endpoint {
			n++
		}
	}
	return n
}

func TestVirtualKeyModelsAndRevocation(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		ts := &teamsSetup{url: url}
		h := newHarness(t, withTeams(ts), quick)
		id, key := h.createKey(map[string]any{"name": "design", "models": []string{"flux-dev"}})
		if !strings.HasPrefix(key, "sk-fp-") || len(key) < 40 {
			t.Fatalf("key %q", key)
		}
		ctx := context.Background()

		status, hdr, body := h.postAs(ctx, key, "/v1/images/generations", imageBody)
		if status != http.StatusOK {
			t.Fatalf("allowed model: %d %s", status, body)
		}
		if got := hdr.Get("X-Falproxy-Cost-Usd"); got != "0.025" {
			t.Errorf("cost header %q, want the emulator's price of one image", got)
		}

		status, hdr, body = h.postAs(ctx, key, "/v1/images/generations", `{"model":"sdxl","prompt":"a lighthouse"}`)
		e := decodeError(t, body)
		if status != http.StatusForbidden || deref(e.Code) != "model_not_allowed" || deref(e.Param) != "model" || hdr.Get("X-Should-Retry") != "false" {
			t.Fatalf("other model: %d %+v %v", status, e, hdr)
		}
		if n := h.falSubmits("fal-ai/fast-sdxl"); n != 0 {
			t.Fatalf("fal received %d jobs of a model the key may not use", n)
		}

		if status := h.admin(http.MethodDelete, "/admin/keys/"+id, nil, nil); status != http.StatusOK {
			t.Fatalf("revoke: %d", status)
		}
		before := len(h.fake.Jobs())
		status, _, body = h.postAs(ctx, key, "/v1/images/generations", imageBody)
		if status != http.StatusUnauthorized || deref(decodeError(t, body).Code) != "invalid_api_key" {
			t.Fatalf("revoked key: %d %s", status, body)
		}
		if len(h.fake.Jobs()) != before {
			t.Fatal("a revoked key reached fal")
		}
		// The operator key keeps working, without limits.
		if status, _, body := h.post(ctx, "/v1/images/generations", `{"model":"sdxl","prompt":"x"}`); status != http.StatusOK {
			t.Fatalf("operator key: %d %s", status, body)
		}
	})
}

func TestVirtualKeyExpiryAndDisable(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		ts := &teamsSetup{url: url}
		h := newHarness(t, withTeams(ts), quick)
		_, expired := h.createKey(map[string]any{"name": "old", "expires_at": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)})
		id, key := h.createKey(map[string]any{"name": "paused"})
		if status := h.admin(http.MethodPatch, "/admin/keys/"+id, map[string]any{"enabled": false}, nil); status != http.StatusOK {
			t.Fatalf("disable: %d", status)
		}
		for name, k := range map[string]string{"expired": expired, "disabled": key} {
			status, _, body := h.postAs(context.Background(), k, "/v1/images/generations", imageBody)
			if e := decodeError(t, body); status != http.StatusUnauthorized || !strings.Contains(e.Message, name) {
				t.Errorf("%s key: %d %+v", name, status, e)
			}
		}
		if n := len(h.fake.Jobs()); n != 0 {
			t.Fatalf("fal received %d jobs", n)
		}
	})
}

func TestVirtualKeyRequestsPerMinute(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		ts := &teamsSetup{url: url}
		h := newHarness(t, withTeams(ts), quick)
		_, key := h.createKey(map[string]any{"name": "slow", "rpm": 2})
		ctx := context.Background()
		for i := range 2 {
			if status, _, body := h.postAs(ctx, key, "/v1/images/generations", imageBody); status != http.StatusOK {
				t.Fatalf("request %d: %d %s", i, status, body)
			}
		}
		status, hdr, body := h.postAs(ctx, key, "/v1/images/generations", imageBody)
		e := decodeError(t, body)
		if status != http.StatusTooManyRequests || deref(e.Code) != "rate_limit_exceeded" || hdr.Get("Retry-After") == "" {
			t.Fatalf("third request: %d %+v %v", status, e, hdr)
		}
		if n := h.falSubmits("fal-ai/flux/dev"); n != 2 {
			t.Fatalf("fal received %d jobs, want 2", n)
		}
	})
}

// TestBudgetHoldsUnderConcurrency sends 20 requests at once against a
// budget that covers 4 images: at most 4 run.
func TestBudgetHoldsUnderConcurrency(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		ts := &teamsSetup{url: url}
		h := newHarness(t, withTeams(ts), func(s *setup) { s.fake.GenerationTime = 50 * time.Millisecond })
		_, key := h.createKey(map[string]any{"name": "capped", "budget_usd": 0.10, "budget_period": "daily"})

		var wg sync.WaitGroup
		statuses := make(chan int, 20)
		codes := make(chan string, 20)
		for range 20 {
			wg.Go(func() {
				req, _ := http.NewRequest(http.MethodPost, h.url+"/v1/images/generations", strings.NewReader(imageBody))
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := h.client.Do(req)
				if err != nil {
					statuses <- 0
					return
				}
				defer resp.Body.Close()
				statuses <- resp.StatusCode
				if resp.StatusCode == http.StatusTooManyRequests {
					var e struct {
						Error struct{ Code string } `json:"error"`
					}
					_ = jsonDecode(resp, &e)
					codes <- e.Error.Code
				}
			})
		}
		wg.Wait()
		close(statuses)
		close(codes)
		ok := 0
		for s := range statuses {
			switch s {
			case http.StatusOK:
				ok++
			case http.StatusTooManyRequests:
			default:
				t.Errorf("status %d", s)
			}
		}
		for c := range codes {
			if c != "insufficient_quota" {
				t.Errorf("429 code %q", c)
			}
		}
		if ok != 4 {
			t.Fatalf("%d images made, the budget covers 4", ok)
		}
		if n := h.falSubmits("fal-ai/flux/dev"); n != 4 {
			t.Fatalf("fal received %d jobs, want 4", n)
		}
	})
}

func sqliteURL(t *testing.T) string {
	return fmt.Sprintf("sqlite://%s/falproxy.db", t.TempDir())
}

// TestLedgerMatchesTheEmulatorsBill runs completed, failed and cancelled
// image jobs and checks that the usage the admin API reports is what fal
// (the emulator) bills, to the cent.
func TestLedgerMatchesTheEmulatorsBill(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		ts := &teamsSetup{url: url}
		h := newHarness(t, withTeams(ts), withAudio, func(s *setup) {
			s.fake.GenerationTime = 30 * time.Millisecond
			s.metrics = true
		})
		_, key := h.createKey(map[string]any{"name": "mixed"})
		ctx := context.Background()
		runs := []struct{ body, want string }{
			{`{"model":"flux-dev","prompt":"one","n":2}`, "ok"},
			{`{"model":"sdxl","prompt":"two"}`, "ok"},
			{`{"model":"ultra","prompt":"three"}`, "ok"},
			{`{"model":"flux-dev","prompt":"[fail] four"}`, "failed"},
			{`{"model":"ideogram","prompt":"unpriced"}`, "ok"},
		}
		for _, r := range runs {
			status, _, body := h.postAs(ctx, key, "/v1/images/generations", r.body)
			if (status == http.StatusOK) != (r.want == "ok") {
				t.Fatalf("%s: %d %s", r.body, status, body)
			}
		}
		speech := `{"model":"tts-1","voice":"alloy","input":"` + strings.Repeat("ab", 250) + `"}`
		if status, _, body := h.postAs(ctx, key, "/v1/audio/speech", speech); status != http.StatusOK {
			t.Fatalf("speech: %d %.200s", status, body)
		}
		// A cancelled job: the client leaves while fal runs it.
		h.fake.Reset()
		cancel, done := h.postInBackgroundAs(key, "/v1/images/generations", `{"model":"flux-dev","prompt":"left"}`)
		eventually(t, "fal to receive the job", func() bool { return len(h.fake.Jobs()) == 1 })
		cancel()
		<-done
		eventually(t, "fal to cancel the job", func() bool { return h.fake.Counts().Cancels > 0 })
		ts.flush(t)

		total := h.usage("")
		if len(total) != 1 || total[0].Requests != 7 {
			t.Fatalf("usage %+v, want 7 requests", total)
		}
		bill := h.fake.BillUSD()
		if cents(bill) != 12 { // two flux-dev images, one sdxl, one ultra, 500 characters of speech
			t.Fatalf("the emulator billed %v", bill)
		}
		if math.Abs(total[0].CostUSD-bill) > 1e-9 { // the same to the micro-dollar, so to the cent
			t.Fatalf("the ledger says $%v, fal billed $%v", total[0].CostUSD, bill)
		}
		if total[0].UnpricedRequests != 1 {
			t.Fatalf("unpriced requests %d, want the one of a model without a price", total[0].UnpricedRequests)
		}
		mreq, _ := http.NewRequest(http.MethodGet, h.url+"/metrics", nil)
		if _, _, m := h.do(mreq); !strings.Contains(string(m), `falproxy_cost_usd_total{key_name="mixed",model="flux-dev"} 0.05`) {
			t.Errorf("/metrics does not show the key's cost:\n%s", m)
		}
		byModel := h.usage("?group_by=model")
		if len(byModel) != 5 || byModel[0].Group != "flux-dev" || byModel[0].Requests != 3 || cents(byModel[0].CostUSD) != 5 {
			t.Fatalf("by model %+v", byModel)
		}
	})
}

func cents(usd float64) int64 { return int64(usd*100 + 0.5) }

// TestRestartKeepsKeysAndSpend spends a budget, restarts falproxy on the
// same database, and finds the key and its spend still there.
func TestRestartKeepsKeysAndSpend(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		first := &teamsSetup{url: url}
		h := newHarness(t, withTeams(first), quick)
		_, key := h.createKey(map[string]any{"name": "kept", "budget_usd": 0.05, "budget_period": "monthly"})
		for range 2 {
			if status, _, body := h.postAs(context.Background(), key, "/v1/images/generations", imageBody); status != http.StatusOK {
				t.Fatalf("%d %s", status, body)
			}
		}
		if lost := first.gate.Close(context.Background()); lost != 0 {
			t.Fatalf("%d ledger rows lost on shutdown", lost)
		}

		again := newHarness(t, withTeams(&teamsSetup{url: url}), quick)
		status, _, body := again.postAs(context.Background(), key, "/v1/images/generations", imageBody)
		if e := decodeError(t, body); status != http.StatusTooManyRequests || deref(e.Code) != "insufficient_quota" {
			t.Fatalf("after a restart the spent budget let a request through: %d %+v", status, e)
		}
		if len(again.fake.Jobs()) != 0 {
			t.Fatal("fal received a job over budget")
		}
	})
}

func TestAdminAPIIsAbsentWithoutAdminKey(t *testing.T) {
	h := newHarness(t)
	req, _ := http.NewRequest(http.MethodGet, h.url+"/admin/keys", nil)
	req.Header.Set("Authorization", "Bearer "+accessKey)
	if status, _, body := h.do(req); status != http.StatusNotFound {
		t.Fatalf("%d %s", status, body)
	}
}

func TestAdminAPIWantsTheAdminKey(t *testing.T) {
	ts := &teamsSetup{url: sqliteURL(t)}
	h := newHarness(t, withTeams(ts))
	req, _ := http.NewRequest(http.MethodGet, h.url+"/admin/keys", nil)
	req.Header.Set("Authorization", "Bearer "+accessKey)
	if status, _, body := h.do(req); status != http.StatusUnauthorized {
		t.Fatalf("a client key on the admin API: %d %s", status, body)
	}
	for _, c := range []struct {
		spec  map[string]any
		param string
		says  string
	}{
		{map[string]any{"name": "x", "budget_period": "weekly"}, "", "budget_period must be daily, monthly or total"},
		{map[string]any{"name": "x", "rpm": "many"}, "rpm", "Invalid type for 'rpm'"},
		{map[string]any{"name": "x", "expires_at": "tomorrow"}, "", "expires_at must be a time"},
		{map[string]any{"owner": "nobody"}, "", "name is required"},
	} {
		var bad struct{ Error apiError }
		status := h.admin(http.MethodPost, "/admin/keys", c.spec, &bad)
		if status != http.StatusBadRequest || deref(bad.Error.Param) != c.param || !strings.Contains(bad.Error.Message, c.says) {
			t.Errorf("%v: %d %+v", c.spec, status, bad.Error)
		}
	}
	if keys, _ := ts.store.Keys(context.Background()); len(keys) != 0 {
		t.Fatalf("a refused key was stored: %+v", keys)
	}
}

// TestDatabaseDownRefusesUncheckableKeysOnly: with the database gone, a
// virtual key the process has not cached gets 503 with retry advice; a
// cached one and the operator keys keep working.
func TestDatabaseDownRefusesUncheckableKeysOnly(t *testing.T) {
	ts := &teamsSetup{url: sqliteURL(t)}
	h := newHarness(t, withTeams(ts), quick)
	_, cachedKey := h.createKey(map[string]any{"name": "cached"})
	_, coldKey := h.createKey(map[string]any{"name": "cold"})
	ctx := context.Background()
	if status, _, body := h.postAs(ctx, cachedKey, "/v1/images/generations", imageBody); status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	ts.storeGone = true
	_ = ts.store.Close()

	status, hdr, body := h.postAs(ctx, coldKey, "/v1/images/generations", imageBody)
	e := decodeError(t, body)
	if status != http.StatusServiceUnavailable || deref(e.Code) != "key_store_unavailable" || hdr.Get("Retry-After") == "" ||
		strings.Contains(e.Message, "sql") {
		t.Fatalf("uncached key with the database down: %d %+v %v", status, e, hdr)
	}
	if status, _, body := h.post(ctx, "/v1/images/generations", imageBody); status != http.StatusOK {
		t.Fatalf("operator key with the database down: %d %s", status, body)
	}
	if status, _, body := h.postAs(ctx, cachedKey, "/v1/images/generations", imageBody); status != http.StatusOK {
		t.Fatalf("cached key with the database down: %d %s", status, body)
	}
	if n := h.falSubmits("fal-ai/flux/dev"); n != 3 {
		t.Fatalf("fal received %d jobs, want the cached key's two and the operator's", n)
	}
}

// TestRevokeReachesAnotherReplica: two falproxy processes share the
// database; a key revoked through one stops working on the other within
// the cache's lifetime.
func TestRevokeReachesAnotherReplica(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		a := newHarness(t, withTeams(&teamsSetup{url: url}), quick)
		b := newHarness(t, withTeams(&teamsSetup{url: url}), quick)
		id, key := a.createKey(map[string]any{"name": "shared"})
		if status, _, body := b.postAs(context.Background(), key, "/v1/images/generations", imageBody); status != http.StatusOK {
			t.Fatalf("the other replica: %d %s", status, body)
		}
		if status := a.admin(http.MethodDelete, "/admin/keys/"+id, nil, nil); status != http.StatusOK {
			t.Fatalf("revoke: %d", status)
		}
		eventually(t, "the other replica to refuse the revoked key", func() bool {
			status, _, _ := b.postAs(context.Background(), key, "/v1/images/generations", imageBody)
			return status == http.StatusUnauthorized
		})
	})
}

func TestBudgetChangeAppliesAtOnce(t *testing.T) {
	h := newHarness(t, withTeams(&teamsSetup{url: sqliteURL(t)}), quick)
	id, key := h.createKey(map[string]any{"name": "raised", "budget_usd": 0.025})
	ctx := context.Background()
	if status, _, body := h.postAs(ctx, key, "/v1/images/generations", imageBody); status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	status, hdr, _ := h.postAs(ctx, key, "/v1/images/generations", imageBody)
	if status != http.StatusTooManyRequests || hdr.Get("X-Should-Retry") != "false" {
		t.Fatalf("over budget: %d %v", status, hdr)
	}
	if status := h.admin(http.MethodPatch, "/admin/keys/"+id, map[string]any{"budget_usd": 0.05}, nil); status != http.StatusOK {
		t.Fatalf("raise: %d", status)
	}
	if status, _, body := h.postAs(ctx, key, "/v1/images/generations", imageBody); status != http.StatusOK {
		t.Fatalf("after the raise: %d %s", status, body)
	}
	var view struct {
		SpentUSD  float64 `json:"spent_usd"`
		BudgetUSD float64 `json:"budget_usd"`
	}
	h.admin(http.MethodGet, "/admin/keys/"+id, nil, &view)
	if view.BudgetUSD != 0.05 {
		t.Fatalf("view %+v", view)
	}
}

// TestTokenPricedAnswersSettleToTheirUsage: a chat answer is estimated
// from its size and max_tokens, and the ledger keeps the usage the client
// was told instead.
func TestTokenPricedAnswersSettleToTheirUsage(t *testing.T) {
	ts := &teamsSetup{url: sqliteURL(t)}
	h := newHarness(t, withTeams(ts), func(s *setup) {
		s.fake.Prices = map[string]falfake.Price{"openai/gpt-4o": {UnitPrice: 5, Unit: "1M tokens"}}
	})
	_, key := h.createKey(map[string]any{"name": "chatty"})
	status, hdr, body := h.postAs(context.Background(), key, "/v1/chat/completions",
		`{"model":"gpt-4o","max_tokens":2000,"messages":[{"role":"user","content":"Hello there"}]}`)
	if status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	var answer struct {
		Usage struct {
			TotalTokens int `json:"total_tokens"`
		} `json:"usage"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || answer.Usage.TotalTokens == 0 {
		t.Fatalf("no usage in %s", body)
	}
	estimate, _ := strconv.ParseFloat(hdr.Get("X-Falproxy-Cost-Usd"), 64)
	if estimate < 2000*5/1e6 {
		t.Fatalf("estimate $%v does not hold max_tokens", estimate)
	}
	ts.flush(t)
	got := h.usage("?model=gpt-4o")
	want := float64(answer.Usage.TotalTokens) * 5 / 1e6
	if len(got) != 1 || math.Abs(got[0].CostUSD-want) > 1e-6 || math.Abs(got[0].Units*1e6-float64(answer.Usage.TotalTokens)) > 1e-6 {
		t.Fatalf("ledger %+v, want %d tokens costing $%v", got, answer.Usage.TotalTokens, want)
	}
}

// TestTranscriptionSettlesToItsDuration: a recording's length is known
// only from fal's answer; a minute-priced transcription is recorded at the
// duration a verbose answer reports, and a speech request at its
// characters.
func TestTranscriptionSettlesToItsDuration(t *testing.T) {
	ts := &teamsSetup{url: sqliteURL(t)}
	h := newHarness(t, withTeams(ts), withAudio, func(s *setup) {
		s.fake.Prices = map[string]falfake.Price{
			"fal-ai/wizper":                  {UnitPrice: 0.006, Unit: "audio minute"},
			"fal-ai/kokoro/american-english": {UnitPrice: 0.02, Unit: "1000 characters"},
		}
	})
	_, key := h.createKey(map[string]any{"name": "voice"})
	ct, body := multipartBody(t, []formPart{
		{name: "model", data: []byte("whisper-1")},
		{name: "response_format", data: []byte("verbose_json")},
		{name: "file", file: "tone.wav", data: falfake.ToneWAV(2000, 330)},
	})
	req, _ := http.NewRequest(http.MethodPost, h.url+"/v1/audio/transcriptions", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", ct)
	status, hdr, answer := h.do(req)
	if status != http.StatusOK || !strings.Contains(string(answer), `"duration":2`) {
		t.Fatalf("%d %s", status, answer)
	}
	if hdr.Get("X-Falproxy-Cost-Usd") != "" {
		t.Errorf("a transcription's cost is not known before it runs, yet the header says %q", hdr.Get("X-Falproxy-Cost-Usd"))
	}
	speech := `{"model":"tts-1","input":"` + strings.Repeat("a", 500) + `","voice":"alloy"}`
	if status, hdr, b := h.postAs(context.Background(), key, "/v1/audio/speech", speech); status != http.StatusOK || hdr.Get("X-Falproxy-Cost-Usd") != "0.01" {
		t.Fatalf("speech: %d %q %.200s", status, hdr.Get("X-Falproxy-Cost-Usd"), b)
	}
	ts.flush(t)
	byModel := h.usage("?group_by=model")
	if len(byModel) != 2 || byModel[0].Group != "tts-1" || byModel[0].CostUSD != 0.01 ||
		byModel[1].Group != "whisper-1" || math.Abs(byModel[1].CostUSD-0.0002) > 1e-9 {
		t.Fatalf("ledger %+v, want 500 characters at $0.02/1000 and 2 s at $0.006/min", byModel)
	}
}

func TestVirtualKeyListsOnlyItsModels(t *testing.T) {
	h := newHarness(t, withTeams(&teamsSetup{url: sqliteURL(t)}))
	_, key := h.createKey(map[string]any{"name": "narrow", "models": []string{"flux-dev", "gpt-4o"}})
	req, _ := http.NewRequest(http.MethodGet, h.url+"/v1/models", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	status, _, body := h.do(req)
	var list struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &list); err != nil || status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	if len(list.Data) != 2 || list.Data[0].ID != "flux-dev" || list.Data[1].ID != "gpt-4o" {
		t.Fatalf("the key sees %+v", list.Data)
	}
}
