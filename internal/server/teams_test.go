package server_test

import (
	"bytes"
	"context"
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
		// A cancelled job: the client leaves while fal runs it, ten times
		// the generation time here, so that a loaded machine does not let
		// it finish first.
		h.fake.Reset()
		cancel, done := h.postInBackgroundAs(key, "/v1/images/generations", `{"model":"flux-dev","prompt":"[slow] left"}`)
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
