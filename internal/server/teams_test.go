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
	"github.com/falproxy/falproxy/internal/store"
	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
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
// image jobs, jobs fal completed for answers that then failed, and split
// requests of which one job failed, and checks that the usage the admin
// API reports is what fal (the emulator) bills, to the cent.
func TestLedgerMatchesTheEmulatorsBill(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		ts := &teamsSetup{url: url}
		h := newHarness(t, withTeams(ts), withAudio, withVideos(30*time.Millisecond), func(s *setup) {
			s.fake.Prices = map[string]falfake.Price{
				// recraft answers URLs only, which b64_json downloads.
				"fal-ai/recraft/v3/text-to-image":    {UnitPrice: 0.04, Unit: "image"},
				"fal-ai/wizper":                      {UnitPrice: 0.6, Unit: "audio minute"},
				"fal-ai/sora-2/text-to-video":        {UnitPrice: 0.1, Unit: "second"},
				"fal-ai/sora-2/video-to-video/remix": {UnitPrice: 0.2, Unit: "second"},
			}
			s.metrics = true
		})
		_, key := h.createKey(map[string]any{"name": "mixed"})
		ctx := context.Background()
		runs := []struct {
			body   string
			faults []falfake.Fault
			status int
		}{
			{body: `{"model":"flux-dev","prompt":"one","n":2}`, status: http.StatusOK},
			{body: `{"model":"sdxl","prompt":"two"}`, status: http.StatusOK},
			{body: `{"model":"ultra","prompt":"three"}`, status: http.StatusOK},
			{body: `{"model":"flux-dev","prompt":"[fail] four"}`, status: http.StatusBadGateway},
			{body: `{"model":"ideogram","prompt":"unpriced"}`, status: http.StatusOK},
			// fal made the image, falproxy could not download it.
			{body: `{"model":"recraft","prompt":"lost","response_format":"b64_json"}`, status: http.StatusBadGateway,
				faults: []falfake.Fault{{Op: falfake.OpCDN, Status: http.StatusNotFound, Times: 1}}},
		}
		for _, r := range runs {
			for _, f := range r.faults {
				h.fake.Inject(f)
			}
			if status, _, body := h.postAs(ctx, key, "/v1/images/generations", r.body); status != r.status {
				t.Fatalf("%s: %d %s", r.body, status, body)
			}
			h.fake.ClearFaults()
		}
		// Split in jobs of 4 and 2 images: one is held on its way to
		// fal while the other completes, then fails.
		h.fake.Reset()
		h.fake.Inject(falfake.Fault{Op: falfake.OpSubmit, Endpoint: "fal-ai/flux/dev", Delay: time.Second, Times: 1})
		split := make(chan int)
		go func() {
			status, _, _ := h.postAs(ctx, key, "/v1/images/generations", `{"model":"flux-dev","prompt":"split","n":6}`)
			split <- status
		}()
		eventually(t, "falproxy to read the first job's result", func() bool { return h.fake.Counts().Results == 1 })
		h.fake.Inject(falfake.Fault{Op: falfake.OpSubmit, Endpoint: "fal-ai/flux/dev", JobError: "runner_disconnected", Times: 1})
		if status := <-split; status != http.StatusBadGateway {
			t.Fatalf("split request with a failed job: %d", status)
		}
		h.fake.ClearFaults()
		splitImages, splitMade := 0, 0
		for i, in := range h.falInputs() {
			n := int(in["num_images"].(float64))
			splitImages += n
			if j := h.fake.Jobs()[i]; j.ErrorType == "" {
				splitMade += n
			}
		}
		if len(h.fake.Jobs()) != 2 || splitImages != 6 || splitMade == 0 || splitMade == 6 {
			t.Fatalf("the split request sent %d jobs of %d images, %d made, want 2 of 6, one failed", len(h.fake.Jobs()), splitImages, splitMade)
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
		// A completed job: the client leaves while falproxy downloads
		// its image.
		h.fake.Inject(falfake.Fault{Op: falfake.OpCDN, Delay: time.Minute, Times: 1})
		cancel, done = h.postInBackgroundAs(key, "/v1/images/generations", `{"model":"recraft","prompt":"gone","response_format":"b64_json"}`)
		eventually(t, "falproxy to download the image", func() bool { return h.fake.Counts().CDN == 1 })
		cancel()
		<-done
		transcribeAs(t, h, key, falfake.ToneWAV(3000, 330))
		videoBill := videosMadeFailedDeletedAndRemixed(t, h, key)
		var total []store.UsageTotal
		eventually(t, "the ledger to record 15 requests and settle its videos", func() bool {
			ts.flush(t)
			total = h.usage("")
			return len(total) == 1 && total[0].Requests == 15 && math.Abs(total[0].CostUSD-h.fake.BillUSD()) < 1e-9
		})
		bill := h.fake.BillUSD()
		// Two flux-dev images, one sdxl, one ultra, two recraft, 500
		// characters of speech, the flux-dev images of the split
		// request's completed job, 3 s of audio heard and the videos.
		if want := 0.202 + 0.025*float64(splitMade) + 0.03 + videoBill; math.Abs(bill-want) > 1e-9 {
			t.Fatalf("the emulator billed %v", bill)
		}
		if math.Abs(total[0].CostUSD-bill) > 1e-9 { // the same to the micro-dollar, so to the cent
			t.Fatalf("the ledger says $%v, fal billed $%v", total[0].CostUSD, bill)
		}
		if total[0].UnpricedRequests != 1 {
			t.Fatalf("unpriced requests %d, want the one of a model without a price", total[0].UnpricedRequests)
		}
		mreq, _ := http.NewRequest(http.MethodGet, h.url+"/metrics", nil)
		_, _, m := h.do(mreq)
		_, after, _ := strings.Cut(string(m), `falproxy_cost_usd_total{key_name="mixed",model="flux-dev"} `)
		if cost, _ := strconv.ParseFloat(strings.Fields(after + " x")[0], 64); cents(cost) != cents(0.05+0.025*float64(splitMade)) {
			t.Errorf("/metrics does not show the key's cost:\n%s", m)
		}
		byModel := h.usage("?group_by=model")
		if len(byModel) != 8 || byModel[0].Group != "flux-dev" || byModel[0].Requests != 4 || cents(byModel[0].CostUSD) != cents(0.05+0.025*float64(splitMade)) {
			t.Fatalf("by model %+v", byModel)
		}
	})
}

func cents(usd float64) int64 { return int64(usd*100 + 0.5) }

// transcribeAs transcribes a recording with a key, as text.
func transcribeAs(t *testing.T, h *harness, key string, wav []byte) {
	t.Helper()
	ct, body := multipartBody(t, []formPart{
		{name: "model", data: []byte("whisper-1")},
		{name: "response_format", data: []byte("text")},
		{name: "file", file: "tone.wav", data: wav},
	})
	req, _ := http.NewRequest(http.MethodPost, h.url+"/v1/audio/transcriptions", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", ct)
	if status, _, answer := h.do(req); status != http.StatusOK {
		t.Fatalf("transcription: %d %s", status, answer)
	}
}

// videosMadeFailedDeletedAndRemixed makes an 8 s sora-2 video and its
// remix, one that fails and one deleted while it runs, with a key, and
// returns what fal bills for them at $0.1 a second and $0.2 a remixed
// second.
func videosMadeFailedDeletedAndRemixed(t *testing.T, h *harness, key string) float64 {
	t.Helper()
	ctx := context.Background()
	sdk := oai.NewClient(option.WithBaseURL(h.url+"/v1"), option.WithAPIKey(key), option.WithMaxRetries(0))
	create := func(prompt string, secs oai.VideoSeconds) *oai.Video {
		t.Helper()
		v, err := sdk.Videos.New(ctx, oai.VideoNewParams{Prompt: prompt, Model: "sora-2", Seconds: secs})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	made := create("a fox", "8")
	if v := pollVideo(t, sdk, made.ID); v.Status != oai.VideoStatusCompleted {
		t.Fatalf("video %s", v.RawJSON())
	}
	remix, err := sdk.Videos.Remix(ctx, made.ID, oai.VideoRemixParams{Prompt: "at night"})
	if err != nil {
		t.Fatal(err)
	}
	if v := pollVideo(t, sdk, remix.ID); v.Status != oai.VideoStatusCompleted {
		t.Fatalf("remix %s", v.RawJSON())
	}
	failed := create("[fail] a fox", "4")
	for range 2 {
		if v := pollVideo(t, sdk, failed.ID); v.Status != oai.VideoStatusFailed {
			t.Fatalf("video %s", v.RawJSON())
		}
	}
	running := create("[slow] a fox", "12")
	if _, err := sdk.Videos.Delete(ctx, running.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "fal to cancel the running video", func() bool {
		for _, j := range h.fake.Jobs() {
			if j.Cancelled && strings.Contains(string(j.Input), "[slow] a fox") {
				return true
			}
		}
		return false
	})
	return 8*0.1 + 8*0.2
}

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
	eachStore(t, func(t *testing.T, url string) {
		ts := &teamsSetup{url: url}
		h, cachedKey, coldKey := cachedAndColdKeys(t, ts)
		ctx := context.Background()
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
	})
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
	eachStore(t, func(t *testing.T, url string) {
		h := newHarness(t, withTeams(&teamsSetup{url: url}), quick)
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
	})
}

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
