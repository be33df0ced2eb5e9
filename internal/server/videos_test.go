package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/falproxy/falproxy/internal/falfake"
	"github.com/falproxy/falproxy/internal/registry"
	"github.com/falproxy/falproxy/internal/server"
)

// videoModels are the video aliases of the tests: Sora 2 with its
// image-to-video endpoint (its remix endpoint is found next to them), Veo
// 3.1, which has no remix endpoint, and Kling 2.6, whose image-to-video
// endpoint takes start_image_url.
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

// createVideo creates a video of model with the prompt "a fox".
func createVideo(t *testing.T, sdk oai.Client, model string) *oai.Video {
	t.Helper()
	v, err := sdk.Videos.New(context.Background(), oai.VideoNewParams{Prompt: "a fox", Model: oai.VideoModel(model)})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// downloadVideo reads the content of a video as the SDK downloads it.
func downloadVideo(t *testing.T, sdk oai.Client, id string, params oai.VideoDownloadContentParams, opts ...option.RequestOption) []byte {
	t.Helper()
	resp, err := sdk.Videos.DownloadContent(context.Background(), id, params, opts...)
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	return b
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

	tb := downloadVideo(t, h.sdk, created.ID, oai.VideoDownloadContentParams{Variant: oai.VideoDownloadContentParamsVariantThumbnail})
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
	veo := createVideo(t, h.sdk, "veo")
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

// TestVideoExtrasAndURLReach: a multipart field falproxy does not map
// reaches fal typed by the model's schema, and a JSON input_reference
// with an https URL reaches fal as it is.
func TestVideoExtrasAndURLReach(t *testing.T) {
	h := newHarness(t, withVideos(0))
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range map[string]string{"model": "kling", "prompt": "a fox", "negative_prompt": "blur", "generate_audio": "false", "cfg_scale": "0.7"} {
		_ = mw.WriteField(k, v)
	}
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, h.url+"/v1/videos", &body)
	req.Header.Set("Authorization", "Bearer "+accessKey)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if status, _, out := h.do(req); status != http.StatusOK {
		t.Fatalf("multipart: %d %s", status, out)
	}
	const url = "https://images.example.com/fox.png"
	if status, _, out := h.post(context.Background(), "/v1/videos",
		`{"model":"sora-2","prompt":"the fox runs","input_reference":{"image_url":"`+url+`"}}`); status != http.StatusOK {
		t.Fatalf("json: %d %s", status, out)
	}
	in := h.falInputs()
	if len(in) != 2 || in[0]["negative_prompt"] != "blur" || in[0]["generate_audio"] != false || in[0]["cfg_scale"] != 0.7 {
		t.Errorf("fal received the extras as %v", in)
	}
	if len(in) == 2 && in[1]["image_url"] != url {
		t.Errorf("fal received image_url %v, want %s", in[1]["image_url"], url)
	}
}
