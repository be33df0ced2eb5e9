package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/falfake"
	"github.com/falproxy/falproxy/internal/store"
	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// TestTokenPricedAnswersSettleToTheirUsage: a chat answer is estimated
// from its size and max_tokens, and the ledger keeps the usage the client
// was told instead, or, for a stream that does not tell the client, the
// usage fal reported.
func TestTokenPricedAnswersSettleToTheirUsage(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		ts := &teamsSetup{url: url}
		h := newHarness(t, withTeams(ts), func(s *setup) {
			// fal bills the chat endpoint that runs the model, not the model id.
			s.fake.Prices = map[string]falfake.Price{"openrouter/router": {UnitPrice: 5, Unit: "1M tokens"}}
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
		status, _, stream := h.postAs(context.Background(), key, "/v1/chat/completions",
			`{"model":"gpt-4o","max_tokens":2000,"stream":true,"messages":[{"role":"user","content":"Hello there"}]}`)
		if status != http.StatusOK || strings.Contains(string(stream), `"usage"`) || !strings.Contains(string(stream), "[DONE]") {
			t.Fatalf("stream without include_usage: %d %s", status, stream)
		}
		if last := h.falCalls(falfake.OpLLMStream); len(last) != 1 {
			t.Fatalf("fal received %d streams, want 1", len(last))
		}
		ts.flush(t)
		got := h.usage("?model=gpt-4o")
		want := 2 * float64(answer.Usage.TotalTokens) * 5 / 1e6
		if len(got) != 1 || got[0].Requests != 2 || math.Abs(got[0].CostUSD-want) > 1e-6 || math.Abs(got[0].Units*1e6-2*float64(answer.Usage.TotalTokens)) > 1e-6 {
			t.Fatalf("ledger %+v, want twice %d tokens costing $%v", got, answer.Usage.TotalTokens, want)
		}
	})
}

// TestTranscriptionSettlesToItsDuration: a recording's length is known
// only from fal's answer; a minute-priced transcription is recorded at the
// duration fal's transcript covers, in whatever format the client reads
// it, and a speech request at its characters.
func TestTranscriptionSettlesToItsDuration(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		ts := &teamsSetup{url: url}
		h := newHarness(t, withTeams(ts), withAudio, func(s *setup) {
			s.fake.Prices = map[string]falfake.Price{
				"fal-ai/wizper":                  {UnitPrice: 0.006, Unit: "audio minute"},
				"fal-ai/kokoro/american-english": {UnitPrice: 0.02, Unit: "1000 characters"},
			}
		})
		_, key := h.createKey(map[string]any{"name": "voice"})
		for _, format := range []string{"verbose_json", "text"} {
			ct, body := multipartBody(t, []formPart{
				{name: "model", data: []byte("whisper-1")},
				{name: "response_format", data: []byte(format)},
				{name: "file", file: "tone.wav", data: falfake.ToneWAV(2000, 330)},
			})
			req, _ := http.NewRequest(http.MethodPost, h.url+"/v1/audio/transcriptions", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", ct)
			status, hdr, answer := h.do(req)
			if status != http.StatusOK || (format == "verbose_json") != strings.Contains(string(answer), `"duration":2`) {
				t.Fatalf("%s: %d %s", format, status, answer)
			}
			if hdr.Get("X-Falproxy-Cost-Usd") != "" {
				t.Errorf("a transcription's cost is not known before it runs, yet the header says %q", hdr.Get("X-Falproxy-Cost-Usd"))
			}
		}
		speech := `{"model":"tts-1","input":"` + strings.Repeat("a", 500) + `","voice":"alloy"}`
		if status, hdr, b := h.postAs(context.Background(), key, "/v1/audio/speech", speech); status != http.StatusOK || hdr.Get("X-Falproxy-Cost-Usd") != "0.01" {
			t.Fatalf("speech: %d %q %.200s", status, hdr.Get("X-Falproxy-Cost-Usd"), b)
		}
		ts.flush(t)
		byModel := h.usage("?group_by=model")
		if len(byModel) != 2 || byModel[0].Group != "tts-1" || byModel[0].CostUSD != 0.01 ||
			byModel[1].Group != "whisper-1" || math.Abs(byModel[1].CostUSD-0.0004) > 1e-9 {
			t.Fatalf("ledger %+v, want 500 characters at $0.02/1000 and twice 2 s at $0.006/min", byModel)
		}
	})
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

// TestHardBudgetRefusesUnpricedModels: a request whose cost cannot be
// estimated (here a chat model fal's pricing API does not price) is
// refused for a key with a hard budget before fal runs anything, since
// a $0 estimate would never reach the budget; a key without a hard stop
// still uses the model, and the hard-budget key still uses priced ones.
func TestHardBudgetRefusesUnpricedModels(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		h := newHarness(t, withTeams(&teamsSetup{url: url}), quick)
		_, hard := h.createKey(map[string]any{"name": "hard", "budget_usd": 5, "budget_period": "daily"})
		_, soft := h.createKey(map[string]any{"name": "soft", "budget_usd": 5, "budget_period": "daily", "hard_stop": false})
		const chat = `{"model":"gpt-4o","messages":[{"role":"user","content":"Hello"}]}`
		ctx := context.Background()
		status, hdr, body := h.postAs(ctx, hard, "/v1/chat/completions", chat)
		e := decodeError(t, body)
		if status != http.StatusForbidden || deref(e.Code) != "model_not_priced" || deref(e.Param) != "model" ||
			hdr.Get("X-Should-Retry") != "false" || !strings.Contains(e.Message, "gpt-4o") {
			t.Fatalf("unpriced model with a hard budget: %d %+v %v", status, e, hdr)
		}
		if n := len(h.fake.Jobs()); n != 0 {
			t.Fatalf("fal received %d jobs for a refused request", n)
		}
		if status, _, body := h.postAs(ctx, soft, "/v1/chat/completions", chat); status != http.StatusOK {
			t.Fatalf("unpriced model without a hard stop: %d %s", status, body)
		}
		if status, _, body := h.postAs(ctx, hard, "/v1/images/generations", imageBody); status != http.StatusOK {
			t.Fatalf("priced model with a hard budget: %d %s", status, body)
		}
		if n := h.falSubmits("fal-ai/flux/dev"); n != 1 {
			t.Fatalf("fal received %d image jobs, want 1", n)
		}
	})
}

// TestBusyServerCostsTheKeyNothing: a request refused for want of a
// MAX_INFLIGHT slot does not use up its key's requests per minute.
func TestBusyServerCostsTheKeyNothing(t *testing.T) {
	h := newHarness(t, withTeams(&teamsSetup{url: sqliteURL(t)}), quick, func(s *setup) {
		s.server.MaxInflight = 1
		s.server.AdmissionWait = time.Nanosecond // refused as soon as the slot is taken
	})
	_, key := h.createKey(map[string]any{"name": "one-a-minute", "rpm": 1})
	// The operator's chat holds the only slot: fal holds its job's status
	// until the client leaves.
	h.fake.Inject(falfake.Fault{Op: falfake.OpStream, Endpoint: "openrouter/router", Delay: time.Hour, Times: 1})
	ctx, cancel := context.WithCancel(context.Background())
	held := make(chan struct{})
	go func() {
		defer close(held)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.url+"/v1/chat/completions",
			strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"Hello"}]}`))
		req.Header.Set("Authorization", "Bearer "+accessKey)
		if resp, err := h.client.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	eventually(t, "the operator's chat to hold the slot", func() bool {
		for _, c := range h.fake.Received() {
			if c.Op == falfake.OpStream && c.Endpoint == "openrouter/router" {
				return true
			}
		}
		return false
	})
	status, _, body := h.postAs(context.Background(), key, "/v1/images/generations", imageBody)
	if e := decodeError(t, body); status != http.StatusServiceUnavailable || deref(e.Code) != "server_busy" {
		t.Fatalf("with the only slot taken: %d %+v", status, e)
	}
	cancel()
	<-held
	eventually(t, "the slot to be free", func() bool {
		status, _, _ := h.post(context.Background(), "/v1/images/generations", imageBody)
		return status == http.StatusOK
	})
	status, _, body = h.postAs(context.Background(), key, "/v1/images/generations", imageBody)
	if status != http.StatusOK {
		t.Fatalf("the key's first admitted request of the minute: %d %s", status, body)
	}
	if n := h.falSubmits("fal-ai/flux/dev"); n != 2 {
		t.Fatalf("fal received %d image jobs, want the probe's and the key's", n)
	}
}

// TestPricesComeThroughEveryFalKey: a fal key refused by the pricing API
// (which may want an admin key) is skipped for the next one, so budgets
// keep their prices, and is still used for models.
func TestPricesComeThroughEveryFalKey(t *testing.T) {
	h := newHarness(t, withTeams(&teamsSetup{url: sqliteURL(t)}), quick)
	h.fake.Inject(falfake.Fault{Op: falfake.OpPricing, Key: "fal-key-1:secret1", Status: http.StatusForbidden})
	_, key := h.createKey(map[string]any{"name": "budgeted", "budget_usd": 1})
	for i := range 4 {
		status, hdr, body := h.postAs(context.Background(), key, "/v1/images/generations", imageBody)
		if status != http.StatusOK || hdr.Get("X-Falproxy-Cost-Usd") != "0.025" {
			t.Fatalf("request %d: %d %s, estimate %q", i, status, body, hdr.Get("X-Falproxy-Cost-Usd"))
		}
	}
	pricedWith, workedWith := map[string]bool{}, map[string]bool{}
	for _, c := range h.fake.Received() {
		switch c.Op {
		case falfake.OpPricing:
			pricedWith[c.Key] = true
		case falfake.OpSubmit:
			workedWith[c.Key] = true
		}
	}
	if !pricedWith["fal-key-1:secret1"] || !pricedWith["fal-key-2:secret2"] || !workedWith["fal-key-1:secret1"] {
		t.Fatalf("pricing asked with %v, models run with %v", pricedWith, workedWith)
	}
}

// TestConcurrentKeyChangesAllLand: two changes of one key's different
// settings made at once both stay; neither writes back the other's old
// value.
func TestConcurrentKeyChangesAllLand(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		h := newHarness(t, withTeams(&teamsSetup{url: url}))
		id, _ := h.createKey(map[string]any{"name": "busy"})
		for round := 1; round <= 20; round++ {
			var wg sync.WaitGroup
			for _, field := range []string{"rpm", "max_concurrent"} {
				wg.Go(func() {
					if status := h.admin(http.MethodPatch, "/admin/keys/"+id, map[string]any{field: round}, nil); status != http.StatusOK {
						t.Errorf("PATCH %s: %d", field, status)
					}
				})
			}
			wg.Wait()
			var got struct {
				RPM           int `json:"rpm"`
				MaxConcurrent int `json:"max_concurrent"`
			}
			h.admin(http.MethodGet, "/admin/keys/"+id, nil, &got)
			if got.RPM != round || got.MaxConcurrent != round {
				t.Fatalf("round %d: rpm %d, max_concurrent %d: a change was lost", round, got.RPM, got.MaxConcurrent)
			}
		}
	})
}

// TestKeyNamesAreText: a name with a control character (which Postgres
// cannot store) is a 400 naming the field, on both stores, not a 503.
func TestKeyNamesAreText(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		h := newHarness(t, withTeams(&teamsSetup{url: url}))
		id, _ := h.createKey(map[string]any{"name": "plain"})
		for _, c := range []struct{ method, path string }{{http.MethodPost, "/admin/keys"}, {http.MethodPatch, "/admin/keys/" + id}} {
			var got struct {
				Error struct {
					Code    string `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			status := h.admin(c.method, c.path, map[string]any{"name": "bad\x00name"}, &got)
			if status != http.StatusBadRequest || got.Error.Code != "invalid_key_settings" || !strings.Contains(got.Error.Message, "name") {
				t.Fatalf("%s %s: %d %+v", c.method, c.path, status, got.Error)
			}
		}
	})
}

// cachedAndColdKeys starts falproxy on ts with two keys: one this process
// has used (so cached), one it has not.
func cachedAndColdKeys(t *testing.T, ts *teamsSetup) (h *harness, cachedKey, coldKey string) {
	t.Helper()
	h = newHarness(t, withTeams(ts), quick)
	_, cachedKey = h.createKey(map[string]any{"name": "cached"})
	_, coldKey = h.createKey(map[string]any{"name": "cold"})
	if status, _, body := h.postAs(context.Background(), cachedKey, "/v1/images/generations", imageBody); status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	return h, cachedKey, coldKey
}

// TestDefaultModelsAreCheckedAndPricedAsRun: a request that names no model
// is held to the key's model list and priced as the model the handler
// runs: an edit's first editing model (kontext here, not the default
// image model), speech's first speaking model.
func TestDefaultModelsAreCheckedAndPricedAsRun(t *testing.T) {
	ts := &teamsSetup{url: sqliteURL(t)}
	h := newHarness(t, withTeams(ts), withAudio, quick)
	_, narrow := h.createKey(map[string]any{"name": "flux-only", "models": []string{"flux-dev"}})
	_, editor := h.createKey(map[string]any{"name": "editor", "models": []string{"kontext"}, "budget_usd": 1})
	edit := func(key string) (int, http.Header, []byte) {
		ct, body := multipartBody(t, []formPart{
			{name: "prompt", data: []byte("make it blue")},
			{name: "image", file: "in.png", data: pngFile(t, 16, 16, false)},
		})
		req, _ := http.NewRequest(http.MethodPost, h.url+"/v1/images/edits", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", ct)
		return h.do(req)
	}
	status, _, body := edit(narrow)
	if e := decodeError(t, body); status != http.StatusForbidden || deref(e.Code) != "model_not_allowed" || !strings.Contains(e.Message, "kontext") {
		t.Fatalf("an edit without a model by a key without kontext: %d %+v", status, e)
	}
	speech := `{"input":"hello there","voice":"alloy"}`
	status, _, body = h.postAs(context.Background(), narrow, "/v1/audio/speech", speech)
	if e := decodeError(t, body); status != http.StatusForbidden || deref(e.Code) != "model_not_allowed" {
		t.Fatalf("speech without a model by a key without audio models: %d %+v", status, e)
	}
	if n := len(h.fake.Jobs()); n != 0 {
		t.Fatalf("fal ran %d jobs for refused requests", n)
	}
	status, hdr, body := edit(editor)
	if status != http.StatusOK || hdr.Get("X-Falproxy-Cost-Usd") != "0.04" {
		t.Fatalf("an edit without a model by a key with kontext: %d, estimate %q: %s", status, hdr.Get("X-Falproxy-Cost-Usd"), body)
	}
	ts.flush(t)
	// The refused requests never reached fal: they are not in the ledger.
	if got := h.usage("?group_by=model"); len(got) != 1 || got[0].Group != "kontext" || got[0].CostUSD != 0.04 {
		t.Fatalf("ledger %+v, want the kontext edit at $0.04", got)
	}
}

// TestVideoIsPricedAtTheLengthFalMakes: a video's estimate counts the
// seconds fal will generate as the plan reads them ("8s" is 8 seconds),
// not a guess from the body.
func TestVideoIsPricedAtTheLengthFalMakes(t *testing.T) {
	h := newHarness(t, withTeams(&teamsSetup{url: sqliteURL(t)}), withVideos(time.Millisecond), func(s *setup) {
		s.fake.Prices = map[string]falfake.Price{"fal-ai/sora-2/text-to-video": {UnitPrice: 0.1, Unit: "video second"}}
	})
	_, key := h.createKey(map[string]any{"name": "films", "budget_usd": 5})
	status, hdr, body := h.postAs(context.Background(), key, "/v1/videos", `{"model":"sora-2","prompt":"a lighthouse","seconds":"8s"}`)
	if status != http.StatusOK || hdr.Get("X-Falproxy-Cost-Usd") != "0.8" {
		t.Fatalf("%d, estimate %q: %s", status, hdr.Get("X-Falproxy-Cost-Usd"), body)
	}
	if n := h.falSubmits("fal-ai/sora-2/text-to-video"); n != 1 {
		t.Fatalf("fal received %d video jobs", n)
	}
}

// TestMadeUpEndpointsAreNotPricedOnTheRequestPath: a raw endpoint id a
// client names (ALLOW_ANY_ENDPOINT) runs unpriced, without a call to
// fal's pricing API before it, so that made-up ids cannot put one behind
// every request.
func TestMadeUpEndpointsAreNotPricedOnTheRequestPath(t *testing.T) {
	const raw = "fal-ai/fast-lcm-diffusion"
	eachStore(t, func(t *testing.T, url string) {
		ts := &teamsSetup{url: url}
		h := newHarness(t, withTeams(ts), quick, func(s *setup) {
			s.server.AllowAnyEndpoint = true
			s.fake.Prices = map[string]falfake.Price{raw: {UnitPrice: 0.01, Unit: "image"}}
		})
		_, key := h.createKey(map[string]any{"name": "open"})
		status, hdr, body := h.postAs(context.Background(), key, "/v1/images/generations", `{"model":"`+raw+`","prompt":"p"}`)
		if status != http.StatusOK || hdr.Get("X-Falproxy-Cost-Usd") != "" {
			t.Fatalf("%d %v %s", status, hdr, body)
		}
		for _, c := range h.fake.Received() {
			if c.Op == falfake.OpPricing {
				t.Fatalf("fal's pricing API was asked %s on the request path", c.Query)
			}
		}
		if n := h.falSubmits(raw); n != 1 {
			t.Fatalf("fal received %d jobs, want 1", n)
		}
		ts.flush(t)
		if total := h.usage(""); len(total) != 1 || total[0].Requests != 1 || total[0].UnpricedRequests != 1 {
			t.Fatalf("usage %+v, want one unpriced request", total)
		}
	})
}

// TestRemixIsPricedFromItsSource: a remix is as long as the video it
// remixes, at the remix endpoint's price, so a hard-budget key may remix;
// the ledger and fal's bill agree.
func TestRemixIsPricedFromItsSource(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		ts := &teamsSetup{url: url}
		h := newHarness(t, withTeams(ts), withVideos(0), func(s *setup) {
			s.fake.Prices = map[string]falfake.Price{
				"fal-ai/sora-2/text-to-video":        {UnitPrice: 0.1, Unit: "second"},
				"fal-ai/sora-2/video-to-video/remix": {UnitPrice: 0.2, Unit: "second"},
			}
		})
		_, key := h.createKey(map[string]any{"name": "hard", "budget_usd": 5, "budget_period": "daily"})
		sdk := oai.NewClient(option.WithBaseURL(h.url+"/v1"), option.WithAPIKey(key), option.WithMaxRetries(0))
		first, err := sdk.Videos.New(context.Background(), oai.VideoNewParams{Prompt: "a fox", Model: "sora-2", Seconds: "8"})
		if err != nil {
			t.Fatal(err)
		}
		pollVideo(t, sdk, first.ID)
		status, hdr, body := h.postAs(context.Background(), key, "/v1/videos/"+first.ID+"/remix", `{"prompt":"at night"}`)
		if status != http.StatusOK || hdr.Get("X-Falproxy-Cost-Usd") != "1.6" {
			t.Fatalf("remix: %d %q %s", status, hdr.Get("X-Falproxy-Cost-Usd"), body)
		}
		var remix struct{ ID string }
		_ = json.Unmarshal(body, &remix)
		pollVideo(t, sdk, remix.ID)
		if jobs := h.fake.Jobs(); len(jobs) != 2 || jobs[1].Endpoint != "fal-ai/sora-2/video-to-video/remix" {
			t.Fatalf("fal's jobs %+v", jobs)
		}
		ts.flush(t)
		bill := h.fake.BillUSD()
		if total := h.usage(""); len(total) != 1 || math.Abs(bill-2.4) > 1e-9 || math.Abs(total[0].CostUSD-bill) > 1e-9 {
			t.Fatalf("the ledger says %+v, fal billed $%v, want $2.40 for 8 s and their remix", total, bill)
		}
	})
}

// TestVideosSettleToWhatFalMade: a video is charged its estimate on
// submit; one that fails, or is deleted before it completed, is refunded
// once when that is first seen, however often it is polled, so the
// ledger ends at fal's bill.
func TestVideosSettleToWhatFalMade(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		ts := &teamsSetup{url: url}
		h := newHarness(t, withTeams(ts), withVideos(100*time.Millisecond), func(s *setup) {
			s.fake.Prices = map[string]falfake.Price{
				"fal-ai/sora-2/text-to-video":        {UnitPrice: 0.1, Unit: "second"},
				"fal-ai/sora-2/video-to-video/remix": {UnitPrice: 0.2, Unit: "second"},
			}
		})
		_, key := h.createKey(map[string]any{"name": "films"})
		want := videosMadeFailedDeletedAndRemixed(t, h, key)
		if bill := h.fake.BillUSD(); math.Abs(bill-want) > 1e-9 {
			t.Fatalf("the emulator billed $%v, want $%v for the seconds made", bill, want)
		}
		var total []store.UsageTotal
		eventually(t, "the ledger to settle at fal's bill", func() bool {
			ts.flush(t)
			total = h.usage("")
			return len(total) == 1 && math.Abs(total[0].CostUSD-want) < 1e-9
		})
		if total[0].Requests != 4 {
			t.Fatalf("usage %+v, want 4 requests", total)
		}
	})
}

// TestVideoRefundFreesTheBudgetOnce: a video fal failed gives its
// estimate back to the key's budget in the process that refunds it, and
// seeing the failure again gives nothing more.
func TestVideoRefundFreesTheBudgetOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		ts := &teamsSetup{url: url}
		h := newHarness(t, withTeams(ts), withVideos(100*time.Millisecond), func(s *setup) {
			s.fake.Prices = map[string]falfake.Price{"fal-ai/sora-2/text-to-video": {UnitPrice: 0.1, Unit: "second"}}
		})
		// The budget covers one 8-second video ($0.80) and not two.
		_, key := h.createKey(map[string]any{"name": "films", "budget_usd": 1.2, "budget_period": "daily"})
		ctx := context.Background()
		sdk := oai.NewClient(option.WithBaseURL(h.url+"/v1"), option.WithAPIKey(key), option.WithMaxRetries(0))
		failed, err := sdk.Videos.New(ctx, oai.VideoNewParams{Prompt: "[fail] a fox", Model: "sora-2", Seconds: "8"})
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if v := pollVideo(t, sdk, failed.ID); v.Status != oai.VideoStatusFailed {
				t.Fatalf("video %s", v.RawJSON())
			}
			ts.flush(t)
		}
		status, _, body := h.postAs(ctx, key, "/v1/videos", `{"model":"sora-2","prompt":"a fox","seconds":"8"}`)
		if status != http.StatusOK {
			t.Fatalf("after the refund the budget refused a video it covers: %d %s", status, body)
		}
		status, _, body = h.postAs(ctx, key, "/v1/videos", `{"model":"sora-2","prompt":"an owl","seconds":"8"}`)
		if e := decodeError(t, body); status != http.StatusTooManyRequests || deref(e.Code) != "insufficient_quota" {
			t.Fatalf("the refund freed the budget more than once: %d %s", status, body)
		}
		if n := h.falSubmits("fal-ai/sora-2/text-to-video"); n != 2 {
			t.Fatalf("fal received %d videos, want 2", n)
		}
	})
}

// TestImagesOfAnUnreadableResultAreCharged: fal bills the images of a job
// it completed even when its result cannot be read; the ledger charges
// the images the job asked for, as fal's bill does.
func TestImagesOfAnUnreadableResultAreCharged(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		ts := &teamsSetup{url: url}
		h := newHarness(t, withTeams(ts), quick)
		_, key := h.createKey(map[string]any{"name": "painter"})
		h.fake.Inject(falfake.Fault{Op: falfake.OpResult, Status: http.StatusOK, Body: `{"images": "not a list"}`})
		status, _, body := h.postAs(context.Background(), key, "/v1/images/generations",
			`{"model":"flux-dev","prompt":"a lighthouse","n":2,"response_format":"url"}`)
		if e := decodeError(t, body); status != http.StatusBadGateway || e.Message == "" {
			t.Fatalf("%d %s", status, body)
		}
		if n := h.falSubmits("fal-ai/flux/dev"); n != 1 {
			t.Fatalf("fal received %d jobs, want 1", n)
		}
		bill := h.fake.BillUSD()
		if bill == 0 {
			t.Fatal("the emulator billed nothing for the job it completed")
		}
		ts.flush(t)
		if total := h.usage(""); len(total) != 1 || math.Abs(total[0].CostUSD-bill) > 1e-9 || total[0].Units != 2 {
			t.Fatalf("usage %+v, want fal's bill of $%v for 2 images", total, bill)
		}
	})
}
