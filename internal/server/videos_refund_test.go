package server_test

import (
	"encoding/json"
	"math"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/falproxy/falproxy/internal/falfake"
	"github.com/falproxy/falproxy/internal/registry"
)

// withoutDuration is Sora 2's text-to-video schema as the endpoint id
// endpoint, without its duration field: a model that picks the length of
// its videos itself.
func withoutDuration(t *testing.T, endpoint string) []byte {
	t.Helper()
	b, err := os.ReadFile("../falfake/schemas/fal-ai__sora-2__text-to-video.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(strings.ReplaceAll(string(b), "fal-ai/sora-2/text-to-video", endpoint)), &doc); err != nil {
		t.Fatal(err)
	}
	input := doc["components"].(map[string]any)["schemas"].(map[string]any)["Sora2TextToVideoInput"].(map[string]any)
	delete(input["properties"].(map[string]any), "duration")
	order := input["x-fal-order-properties"].([]any)
	input["x-fal-order-properties"] = order[:len(order)-1] // duration is last
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFailedVideoOfUnstatedLengthIsRefunded: a video whose length neither
// the client nor the model states is estimated at the default length;
// when fal fails it, that estimate is refunded.
func TestFailedVideoOfUnstatedLengthIsRefunded(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		ts := &teamsSetup{url: url}
		const endpoint = "acme/clip"
		h := newHarness(t, withTeams(ts), withVideos(100*time.Millisecond), func(s *setup) {
			s.server.VideoModels = append(s.server.VideoModels, registry.VideoModel{Alias: "clip", Text: endpoint})
			s.fake.Schemas = map[string][]byte{endpoint: withoutDuration(t, endpoint)}
			s.fake.Prices = map[string]falfake.Price{endpoint: {UnitPrice: 0.1, Unit: "second"}}
		})
		_, key := h.createKey(map[string]any{"name": "films"})
		sdk := oai.NewClient(option.WithBaseURL(h.url+"/v1"), option.WithAPIKey(key), option.WithMaxRetries(0))
		v, err := sdk.Videos.New(t.Context(), oai.VideoNewParams{Prompt: "[fail] a fox", Model: "clip"})
		if err != nil {
			t.Fatal(err)
		}
		if v.Seconds != "" {
			t.Fatalf("seconds %q, want none: the model picks the length", v.Seconds)
		}
		if v := pollVideo(t, sdk, v.ID); v.Status != oai.VideoStatusFailed {
			t.Fatalf("video %s", v.RawJSON())
		}
		if n := h.falSubmits(endpoint); n != 1 {
			t.Fatalf("fal received %d jobs, want 1", n)
		}
		ts.flush(t)
		if total := h.usage(""); len(total) != 1 || math.Abs(total[0].CostUSD) > 1e-9 || total[0].Requests != 1 || total[0].UnpricedRequests != 0 {
			t.Fatalf("usage %+v, want 1 priced request refunded", total)
		}
	})
}

// TestUnpricedVideoIsNotRefunded: a video submitted while its price was
// not known recorded no cost; when fal fails it after the price became
// known, nothing is refunded, so the key is credited no money it was
// never charged.
func TestUnpricedVideoIsNotRefunded(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		ts := &teamsSetup{url: url, priceRetry: time.Nanosecond}
		h := newHarness(t, withTeams(ts), withVideos(100*time.Millisecond), func(s *setup) {
			s.fake.Prices = map[string]falfake.Price{"fal-ai/sora-2/text-to-video": {UnitPrice: 0.1, Unit: "second"}}
		})
		_, key := h.createKey(map[string]any{"name": "films"})
		h.fake.Inject(falfake.Fault{Op: falfake.OpPricing, Status: http.StatusInternalServerError})
		status, header, body := h.postAs(t.Context(), key, "/v1/videos", `{"model":"sora-2","prompt":"[fail] a fox","seconds":"8"}`)
		if status != http.StatusOK || header.Get("X-Falproxy-Cost-Usd") != "" {
			t.Fatalf("submit while pricing is down: %d %v %s", status, header, body)
		}
		var unpriced oai.Video
		if err := json.Unmarshal(body, &unpriced); err != nil {
			t.Fatal(err)
		}
		h.fake.ClearFaults()
		submits := 0
		eventually(t, "the price to be known again", func() bool {
			submits++
			status, header, body := h.postAs(t.Context(), key, "/v1/videos", `{"model":"sora-2","prompt":"a fox","seconds":"4"}`)
			if status != http.StatusOK {
				t.Fatalf("%d %s", status, body)
			}
			return header.Get("X-Falproxy-Cost-Usd") != ""
		})
		sdk := oai.NewClient(option.WithBaseURL(h.url+"/v1"), option.WithAPIKey(key), option.WithMaxRetries(0))
		if v := pollVideo(t, sdk, unpriced.ID); v.Status != oai.VideoStatusFailed {
			t.Fatalf("video %s", v.RawJSON())
		}
		if n := h.falSubmits("fal-ai/sora-2/text-to-video"); n != 1+submits {
			t.Fatalf("fal received %d jobs, want %d", n, 1+submits)
		}
		ts.flush(t)
		// The one priced 4-second video; the failed one neither charged
		// nor refunded.
		total := h.usage("")
		if len(total) != 1 || math.Abs(total[0].CostUSD-0.4) > 1e-9 || total[0].UnpricedRequests != int64(submits) {
			t.Fatalf("usage %+v, want $0.40 and %d unpriced requests", total, submits)
		}
	})
}

// TestCompletedVideoWithoutFileIsNotRefunded: a job fal completed is
// billed even when its result holds no video; the client sees the video
// failed, and the ledger keeps its charge, as fal's bill does.
func TestCompletedVideoWithoutFileIsNotRefunded(t *testing.T) {
	eachStore(t, func(t *testing.T, url string) {
		ts := &teamsSetup{url: url}
		h := newHarness(t, withTeams(ts), withVideos(100*time.Millisecond), func(s *setup) {
			s.fake.Prices = map[string]falfake.Price{"fal-ai/sora-2/text-to-video": {UnitPrice: 0.1, Unit: "second"}}
		})
		_, key := h.createKey(map[string]any{"name": "films"})
		h.fake.Inject(falfake.Fault{Op: falfake.OpResult, Status: http.StatusOK, Body: `{"seed":1}`})
		sdk := oai.NewClient(option.WithBaseURL(h.url+"/v1"), option.WithAPIKey(key), option.WithMaxRetries(0))
		v, err := sdk.Videos.New(t.Context(), oai.VideoNewParams{Prompt: "a fox", Model: "sora-2", Seconds: "8"})
		if err != nil {
			t.Fatal(err)
		}
		v = pollVideo(t, sdk, v.ID)
		if v.Status != oai.VideoStatusFailed || v.Error.Code != "upstream_no_video" {
			t.Fatalf("video %s", v.RawJSON())
		}
		if bill := h.fake.BillUSD(); math.Abs(bill-0.8) > 1e-9 {
			t.Fatalf("the emulator billed $%v, want $0.80 for the 8 seconds it made", bill)
		}
		ts.flush(t)
		if total := h.usage(""); len(total) != 1 || math.Abs(total[0].CostUSD-0.8) > 1e-9 {
			t.Fatalf("usage %+v, want fal's bill of $0.80", total)
		}
	})
}
