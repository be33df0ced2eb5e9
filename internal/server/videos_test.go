package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/falproxy/falproxy/internal/fal"
	"github.com/falproxy/falproxy/internal/falfake"
	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/registry"
	"github.com/falproxy/falproxy/internal/server"
)

// videoModels are the video aliases of the tests: Sora 2 with its
// image-to-video endpoint (and its remix found next to it), and Veo 3.1,
// which has no remix endpoint.
var videoModels = []registry.VideoModel{
	{Alias: "sora-2", Text: "fal-ai/sora-2/text-to-video", Image: "fal-ai/sora-2/image-to-video"},
	{Alias: "veo", Text: "fal-ai/veo3.1"},
	{Alias: "kling", Text: "fal-ai/kling-video/v2.6/pro/text-to-video", Image: "fal-ai/kling-video/v2.6/pro/image-to-video"},
}

// withVideos adds the video models; generation takes gen at fal.
func withVideos(gen time.Duration) func(*setup) {
	return func(s *setup) {
		s.server.VideoModels = videoModels
		s.fake.GenerationTime = gen
	}
}

// pollVideo polls GET /v1/videos/{id} until the video has finished.
func pollVideo(t *testing.T, sdk oai.Client, id string) *oai.Video {
	t.Helper()
	var v *oai.Video
	eventually(t, "the video finishes", func() bool {
		var err error
		v, err = sdk.Videos.Get(context.Background(), id)
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		return v.Status == oai.VideoStatusCompleted || v.Status == oai.VideoStatusFailed
	})
	return v
}

func TestVideoCreatePollDownload(t *testing.T) {
	h := newHarness(t, withVideos(0))
	ctx := context.Background()
	created, err := h.sdk.Videos.New(ctx, oai.VideoNewParams{Prompt: "a fox in the snow", Model: "sora-2",
		Seconds: oai.VideoSeconds8, Size: oai.VideoSize1280x720})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created.ID, "video_") || created.Status != oai.VideoStatusQueued || created.Model != "sora-2" ||
		created.Seconds != "8" || created.Size != "1280x720" || created.Prompt != "a fox in the snow" {
		t.Errorf("created %+v", created)
	}
	v := pollVideo(t, h.sdk, created.ID)
	if v.Status != oai.VideoStatusCompleted || v.Progress != 100 || v.CompletedAt == 0 || v.ExpiresAt != v.CreatedAt+7*24*3600 {
		t.Fatalf("finished video %s", v.RawJSON())
	}
	in := h.falInputs()
	if len(in) != 1 || in[0]["duration"] != 8.0 || in[0]["aspect_ratio"] != "16:9" || in[0]["prompt"] != "a fox in the snow" {
		t.Errorf("fal received %v", in)
	}

	resp, err := h.sdk.Videos.DownloadContent(ctx, created.ID, oai.VideoDownloadContentParams{})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := falfake.VideoAsset("sample.mp4")
	if !bytes.Equal(got, want) || resp.Header.Get("Content-Type") != "video/mp4" || resp.ContentLength != int64(len(want)) {
		t.Errorf("download: %d bytes of %q (length %d), want fal's %d bytes", len(got), resp.Header.Get("Content-Type"), resp.ContentLength, len(want))
	}

	req, _ := http.NewRequest(http.MethodGet, h.url+"/v1/videos/"+created.ID+"/content", nil)
	req.Header.Set("Authorization", "Bearer "+accessKey)
	req.Header.Set("Range", "bytes=100-199")
	status, hdr, part := h.do(req)
	if status != http.StatusPartialContent || !bytes.Equal(part, want[100:200]) ||
		hdr.Get("Content-Range") != "bytes 100-199/"+strconv.Itoa(len(want)) || hdr.Get("Accept-Ranges") != "bytes" {
		t.Errorf("range: %d %v, %d bytes", status, hdr, len(part))
	}

	thumb, err := h.sdk.Videos.DownloadContent(ctx, created.ID, oai.VideoDownloadContentParams{Variant: oai.VideoDownloadContentParamsVariantThumbnail})
	if err != nil {
		t.Fatal(err)
	}
	tb, _ := io.ReadAll(thumb.Body)
	thumb.Body.Close()
	if !bytes.Equal(tb, falfake.VideoAsset("thumbnail.jpg")) {
		t.Errorf("thumbnail: %d bytes", len(tb))
	}

	page, err := h.sdk.Videos.List(ctx, oai.VideoListParams{})
	if err != nil || len(page.Data) != 1 || page.Data[0].ID != created.ID || page.Data[0].Status != oai.VideoStatusCompleted {
		t.Errorf("list: %v %+v", err, page)
	}
}

func TestVideoVariantAndModelErrors(t *testing.T) {
	h := newHarness(t, withVideos(0))
	ctx := context.Background()
	veo, err := h.sdk.Videos.New(ctx, oai.VideoNewParams{Prompt: "a fox", Model: "veo"})
	if err != nil {
		t.Fatal(err)
	}
	pollVideo(t, h.sdk, veo.ID)
	for _, tc := range []struct {
		method, path, body string
		status             int
		code, param        string
	}{
		{"GET", "/v1/videos/" + veo.ID + "/content?variant=thumbnail", "", 404, "variant_not_found", "variant"},
		{"GET", "/v1/videos/" + veo.ID + "/content?variant=poster", "", 400, "invalid_value", "variant"},
		{"POST", "/v1/videos/" + veo.ID + "/remix", `{"prompt":"at night"}`, 400, "model_not_supported", "model"},
		{"POST", "/v1/videos", `{"prompt":"a fox","model":"veo","input_reference":{"image_url":"https://example.com/a.png"}}`, 400, "unsupported_parameter", "input_reference"},
		{"POST", "/v1/videos", `{"prompt":"a fox","model":"veo","seconds":"eight"}`, 400, "invalid_value", "seconds"},
		{"POST", "/v1/videos", `{"prompt":"a fox","model":"veo","size":"big"}`, 400, "invalid_value", "size"},
		{"POST", "/v1/videos", `{"model":"veo"}`, 400, "missing_required_parameter", "prompt"},
		{"POST", "/v1/videos", `{"prompt":"a fox","model":"nope"}`, 404, "model_not_found", "model"},
	} {
		req, _ := http.NewRequest(tc.method, h.url+tc.path, strings.NewReader(tc.body))
		req.Header.Set("Authorization", "Bearer "+accessKey)
		req.Header.Set("Content-Type", "application/json")
		status, hdr, body := h.do(req)
		e := decodeError(t, body)
		if status != tc.status || deref(e.Code) != tc.code || deref(e.Param) != tc.param || hdr.Get("X-Should-Retry") != "false" {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, status, body)
		}
	}
	if n := len(h.fake.Jobs()); n != 1 {
		t.Errorf("fal received %d jobs, want only the first", n)
	}
}

func TestVideoInputReference(t *testing.T) {
	for _, tc := range []struct {
		name   string
		inline int64
		model  string
		field  string
		prefix string
	}{
		{"inline", 0, "sora-2", "image_url", "data:image/png;base64,"},
		{"uploaded", -1, "kling", "start_image_url", "http://"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, withVideos(0), func(s *setup) { s.server.InlineLimit = tc.inline })
			img := pngFile(t, 64, 36, false)
			created, err := h.sdk.Videos.New(context.Background(), oai.VideoNewParams{Prompt: "the fox runs", Model: oai.VideoModel(tc.model),
				InputReference: oai.VideoNewParamsInputReferenceUnion{OfFile: oai.File(bytes.NewReader(img), "fox.png", "image/png")}})
			if err != nil {
				t.Fatal(err)
			}
			if v := pollVideo(t, h.sdk, created.ID); v.Status != oai.VideoStatusCompleted {
				t.Fatalf("video %s", v.RawJSON())
			}
			jobs := h.fake.Jobs()
			if len(jobs) != 1 || jobs[0].Endpoint != videoModels[map[string]int{"sora-2": 0, "kling": 2}[tc.model]].Image {
				t.Fatalf("jobs %+v", jobs)
			}
			in := h.falInputs()[0]
			url, _ := in[tc.field].(string)
			if !strings.HasPrefix(url, tc.prefix) {
				t.Errorf("fal received %s = %.60q", tc.field, url)
			}
			if tc.inline < 0 && h.fake.Counts().UploadPuts != 1 {
				t.Errorf("the image was not uploaded to fal storage: %+v", h.fake.Counts())
			}
		})
	}
}

func TestVideoRemix(t *testing.T) {
	h := newHarness(t, withVideos(0))
	ctx := context.Background()
	first, err := h.sdk.Videos.New(ctx, oai.VideoNewParams{Prompt: "a fox", Model: "sora-2", Seconds: "4"})
	if err != nil {
		t.Fatal(err)
	}
	pollVideo(t, h.sdk, first.ID)
	remix, err := h.sdk.Videos.Remix(ctx, first.ID, oai.VideoRemixParams{Prompt: "the fox at night"})
	if err != nil {
		t.Fatal(err)
	}
	if remix.RemixedFromVideoID != first.ID || remix.Prompt != "the fox at night" || remix.Seconds != "4" {
		t.Errorf("remix %s", remix.RawJSON())
	}
	if v := pollVideo(t, h.sdk, remix.ID); v.Status != oai.VideoStatusCompleted || v.RemixedFromVideoID != first.ID {
		t.Errorf("remixed video %s", v.RawJSON())
	}
	jobs := h.fake.Jobs()
	in := h.falInputs()
	if len(jobs) != 2 || jobs[1].Endpoint != "fal-ai/sora-2/video-to-video/remix" {
		t.Fatalf("jobs %+v", jobs)
	}
	if id, _ := in[1]["video_id"].(string); !strings.HasPrefix(id, "vid_") || in[1]["prompt"] != "the fox at night" || len(in[1]) != 2 {
		t.Errorf("remix input %v", in[1])
	}
}

func TestVideoDeleteCancelsRunningJob(t *testing.T) {
	h := newHarness(t, withVideos(time.Hour))
	ctx := context.Background()
	created, err := h.sdk.Videos.New(ctx, oai.VideoNewParams{Prompt: "a long fox", Model: "sora-2"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := h.sdk.Videos.Get(ctx, created.ID)
	if err != nil || v.Status != oai.VideoStatusInProgress || v.Progress >= 100 {
		t.Fatalf("running video: %v %+v", err, v)
	}
	del, err := h.sdk.Videos.Delete(ctx, created.ID)
	if err != nil || !del.Deleted || del.ID != created.ID || del.Object != "video.deleted" {
		t.Fatalf("delete: %v %+v", err, del)
	}
	eventually(t, "fal receives the cancel", func() bool { return h.fake.Counts().Cancels == 1 })
	jobs := h.fake.Jobs()
	if len(jobs) != 1 || !jobs[0].Cancelled || jobs[0].ErrorType != "client_cancelled" {
		t.Errorf("fal's job %+v was not cancelled", jobs)
	}
	page, err := h.sdk.Videos.List(ctx, oai.VideoListParams{})
	if err != nil || len(page.Data) != 0 {
		t.Errorf("a deleted video is still listed: %v %+v", err, page)
	}
}

func TestVideoFailures(t *testing.T) {
	h := newHarness(t, withVideos(0))
	ctx := context.Background()
	for prompt, code := range map[string]string{"[fail] a fox": "runner_disconnected", "[nsfw] a fox": "moderation_blocked"} {
		created, err := h.sdk.Videos.New(ctx, oai.VideoNewParams{Prompt: prompt, Model: "sora-2"})
		if err != nil {
			t.Fatal(err)
		}
		v := pollVideo(t, h.sdk, created.ID)
		if v.Status != oai.VideoStatusFailed || v.Error.Code != code || !strings.Contains(v.Error.Message, "fal") {
			t.Errorf("%q: %s", prompt, v.RawJSON())
		}
		status, _, body := h.get("/v1/videos/" + created.ID + "/content")
		if e := decodeError(t, body); status != http.StatusNotFound || deref(e.Code) != "video_not_ready" {
			t.Errorf("content of a failed video: %d %s", status, body)
		}
	}
	// fal validates the input when the job runs: its 422 names fal's field,
	// which the Video's error reports in OpenAI's words.
	h.fake.Inject(falfake.Fault{Op: falfake.OpSubmit, JobError: "value_error", Status: 422, Times: 1,
		Body: `{"detail":[{"loc":["body","duration"],"msg":"Input should be 4, 8 or 12","type":"enum"}]}`})
	created, err := h.sdk.Videos.New(ctx, oai.VideoNewParams{Prompt: "a fox", Model: "sora-2"})
	if err != nil {
		t.Fatal(err)
	}
	if v := pollVideo(t, h.sdk, created.ID); v.Status != oai.VideoStatusFailed || v.Error.Code != "invalid_input" || !strings.Contains(v.Error.Message, "'seconds'") {
		t.Errorf("rejected input: %s", v.RawJSON())
	}
}

func (h *harness) get(path string) (int, http.Header, []byte) {
	req, _ := http.NewRequest(http.MethodGet, h.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+accessKey)
	return h.do(req)
}

// replica is a second falproxy on the same fal emulator, built from the
// given configuration as a restart or another replica would be.
func replica(t *testing.T, h *harness, falKeys, accessKeys, signing []string) oai.Client {
	t.Helper()
	hc := fal.NewH2CHTTPClient()
	fc := fal.New(fal.Options{QueueURL: h.fake.QueueURL(), RunURL: h.fake.RunURL(), StorageURL: h.fake.StorageURL(),
		Pool: fal.NewPool(falKeys, fal.PoolOptions{}), HTTP: hc})
	proxy := httptest.NewServer(server.New(server.Options{
		AccessKeys: accessKeys, VideoModels: videoModels, SigningKeys: signing, Fal: fc,
		Schemas:    falschema.NewStore(falschema.StoreOptions{URL: h.fake.OpenAPIURL(), HTTP: hc, TTL: time.Hour}),
		Downloader: fal.NewDownloader(fal.DownloaderOptions{AllowPrivate: true}),
	}))
	t.Cleanup(func() {
		proxy.Close()
		_ = fc.Close(context.Background())
		hc.CloseIdleConnections()
	})
	return oai.NewClient(option.WithBaseURL(proxy.URL+"/v1"), option.WithAPIKey(accessKeys[0]), option.WithMaxRetries(0))
}

func TestVideoIDs(t *testing.T) {
	h := newHarness(t, withVideos(0))
	ctx := context.Background()
	created, err := h.sdk.Videos.New(ctx, oai.VideoNewParams{Prompt: strings.Repeat("a fox ", 200), Model: "sora-2"})
	if err != nil {
		t.Fatal(err)
	}
	falKeys := []string{"fal-key-1:secret1", "fal-key-2:secret2"}

	// A restart (or another replica) with the same fal keys follows the
	// video with no shared state, and no configured signing key.
	again := replica(t, h, falKeys, []string{accessKey}, nil)
	v := pollVideo(t, again, created.ID)
	if v.Status != oai.VideoStatusCompleted || v.Model != "sora-2" || len(v.Prompt) > 512 || !strings.HasPrefix(created.Prompt, v.Prompt) {
		t.Errorf("after a restart: %s", v.RawJSON())
	}

	notFound := func(sdk oai.Client, id, what string) {
		t.Helper()
		_, err := sdk.Videos.Get(ctx, id)
		apiErr, ok := err.(*oai.Error)
		if !ok || apiErr.StatusCode != http.StatusNotFound || apiErr.Code != "video_not_found" {
			t.Errorf("%s: %v", what, err)
		}
	}
	raw := []byte(created.ID)
	raw[len(raw)-30] ^= 1
	notFound(h.sdk, string(raw), "a tampered id")
	notFound(h.sdk, created.ID[:len(created.ID)-4], "a truncated id")
	notFound(h.sdk, "video_x", "an unknown id")
	notFound(replica(t, h, falKeys, []string{"sk-another-access-key"}, nil), created.ID, "another access key")
	notFound(replica(t, h, falKeys, []string{accessKey}, []string{"a-configured-signing-key"}), created.ID, "a changed signing key")
	notFound(replica(t, h, falKeys[1:], []string{accessKey}, nil), created.ID, "the submitting fal key removed")
	if n := h.fake.Counts().Status; n == 0 {
		t.Error("the restarted proxy did not ask fal for the status")
	}
}

// TestVideoModelsListed: /v1/models lists the video aliases with their
// kind, and /v1/models/{model} describes their endpoints.
func TestVideoModelsListed(t *testing.T) {
	h := newHarness(t, withVideos(0))
	status, _, body := h.get("/v1/models")
	var list struct {
		Data []struct {
			ID  string `json:"id"`
			Fal struct {
				Kind string `json:"kind"`
			} `json:"fal"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &list); status != http.StatusOK || err != nil {
		t.Fatalf("%d %s", status, body)
	}
	kinds := map[string]string{}
	for _, m := range list.Data {
		kinds[m.ID] = m.Fal.Kind
	}
	if kinds["sora-2"] != "video" || kinds["veo"] != "video" || kinds["flux-dev"] != "image" {
		t.Errorf("kinds %v", kinds)
	}
	status, _, body = h.get("/v1/models/sora-2")
	var detail struct {
		Fal server.VideoModelInfo `json:"fal"`
	}
	if err := json.Unmarshal(body, &detail); status != http.StatusOK || err != nil || detail.Fal.Remix != "fal-ai/sora-2/video-to-video/remix" ||
		len(detail.Fal.Endpoints) != 3 || detail.Fal.Endpoints[1].Capabilities.ImageField != "image_url" {
		t.Errorf("model detail %d %s", status, body)
	}
}

// TestVideoHoldsKeySlotOnlyWhileSubmitting: with one slot per fal key, a
// running video does not keep its key busy, since fal queues the job.
func TestVideoHoldsKeySlotOnlyWhileSubmitting(t *testing.T) {
	h := newHarness(t, withVideos(time.Hour), func(s *setup) {
		s.falKeys = s.falKeys[:1]
		s.pool.Concurrency = 1
	})
	ctx := context.Background()
	for i := range 3 {
		if _, err := h.sdk.Videos.New(ctx, oai.VideoNewParams{Prompt: "a fox " + strconv.Itoa(i), Model: "sora-2"}); err != nil {
			t.Fatalf("video %d: %v", i, err)
		}
	}
	jobs := h.fake.Jobs()
	if len(jobs) != 3 || jobs[0].State == falfake.StateCompleted {
		t.Errorf("fal's jobs %+v: want three, the first still running", jobs)
	}
}

// TestVideoMetrics: video requests are counted per route and model, as
// image requests are.
func TestVideoMetrics(t *testing.T) {
	h := newHarness(t, withVideos(0), func(s *setup) { s.metrics = true })
	created, err := h.sdk.Videos.New(context.Background(), oai.VideoNewParams{Prompt: "a fox", Model: "veo"})
	if err != nil {
		t.Fatal(err)
	}
	pollVideo(t, h.sdk, created.ID)
	_, _, body := h.get("/metrics")
	for _, want := range []string{
		`falproxy_requests_total{model="veo",route="POST /v1/videos",status="200"} 1`,
		`falproxy_requests_total{model="veo",route="GET /v1/videos/{id}",status="200"}`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
