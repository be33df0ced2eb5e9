package server_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/falproxy/falproxy/internal/falfake"
)

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
	// The emulator counts the cancel call before it marks the job, so wait
	// for the mark.
	eventually(t, "fal cancels the job", func() bool {
		jobs := h.fake.Jobs()
		return len(jobs) == 1 && jobs[0].Cancelled
	})
	jobs := h.fake.Jobs()
	if c := h.fake.Counts().Cancels; c != 1 {
		t.Errorf("fal received %d cancels, want 1", c)
	}
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
		if e := decodeError(t, body); status != http.StatusConflict || deref(e.Code) != "video_not_ready" {
			t.Errorf("content of a failed video: %d %s", status, body)
		}
		status, _, body = h.post(ctx, "/v1/videos/"+created.ID+"/remix", `{"prompt":"at night"}`)
		if e := decodeError(t, body); status != http.StatusConflict || deref(e.Code) != "video_not_ready" {
			t.Errorf("remix of a failed video: %d %s", status, body)
		}
	}
	// fal validates the input when the job runs: its 422 is mapped as a
	// synchronous one is (invalid_value), naming fal's field in OpenAI's
	// words.
	h.fake.Inject(falfake.Fault{Op: falfake.OpSubmit, JobError: "value_error", Status: 422, Times: 1,
		Body: `{"detail":[{"loc":["body","duration"],"msg":"Input should be 4, 8 or 12","type":"enum"}]}`})
	created, err := h.sdk.Videos.New(ctx, oai.VideoNewParams{Prompt: "a fox", Model: "sora-2"})
	if err != nil {
		t.Fatal(err)
	}
	if v := pollVideo(t, h.sdk, created.ID); v.Status != oai.VideoStatusFailed || v.Error.Code != "invalid_value" || !strings.Contains(v.Error.Message, "'seconds'") {
		t.Errorf("rejected input: %s", v.RawJSON())
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

// TestVideoCORSPreflight: a page may delete a video and seek its content:
// the preflight of a DELETE is allowed, and Content-Range and
// Accept-Ranges are exposed to its script.
func TestVideoCORSPreflight(t *testing.T) {
	h := newHarness(t, withVideos(0))
	req, _ := http.NewRequest(http.MethodOptions, h.url+"/v1/videos/video_x", nil)
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Access-Control-Request-Method", "DELETE")
	status, hdr, _ := h.do(req)
	methods := hdr.Get("Access-Control-Allow-Methods")
	if status != http.StatusNoContent || !strings.Contains(methods, "DELETE") || !strings.Contains(methods, "HEAD") {
		t.Errorf("preflight of a DELETE: %d %v", status, hdr)
	}
	status, hdr, _ = h.get("/v1/videos/video_x/content")
	exposed := hdr.Get("Access-Control-Expose-Headers")
	if status != http.StatusNotFound || !strings.Contains(exposed, "Content-Range") || !strings.Contains(exposed, "Accept-Ranges") {
		t.Errorf("exposed headers: %d %q", status, exposed)
	}
}

// TestVideoDeletedStaysDeleted: a deleted video is gone for this process:
// its id answers 404 to every route, and a finished one is not cancelled
// at fal.
func TestVideoDeletedStaysDeleted(t *testing.T) {
	var h *harness
	// Runs after the harness has closed its fal client, which waits for
	// the cancels under way.
	t.Cleanup(func() {
		if n := h.fake.Counts().Cancels; n != 0 {
			t.Errorf("fal received %d cancels for a finished video", n)
		}
	})
	h = newHarness(t, withVideos(0))
	ctx := context.Background()
	done := createVideo(t, h.sdk, "sora-2")
	pollVideo(t, h.sdk, done.ID)
	if _, err := h.sdk.Videos.Delete(ctx, done.ID); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/v1/videos/" + done.ID, ""},
		{"GET", "/v1/videos/" + done.ID + "/content", ""},
		{"POST", "/v1/videos/" + done.ID + "/remix", `{"prompt":"at night"}`},
		{"DELETE", "/v1/videos/" + done.ID, ""},
	} {
		req, _ := http.NewRequest(tc.method, h.url+tc.path, strings.NewReader(tc.body))
		req.Header.Set("Authorization", "Bearer "+accessKey)
		req.Header.Set("Content-Type", "application/json")
		status, _, body := h.do(req)
		if e := decodeError(t, body); status != http.StatusNotFound || deref(e.Code) != "video_not_found" {
			t.Errorf("%s %s after the delete: %d %s", tc.method, tc.path, status, body)
		}
	}
}

// TestVideoResultsReadOnce: after a restart, a video's content and its
// seeks ask fal for the status and result once, without the logs.
func TestVideoResultsReadOnce(t *testing.T) {
	h := newHarness(t, withVideos(0))
	ctx := context.Background()
	created := createVideo(t, h.sdk, "sora-2")
	pollVideo(t, h.sdk, created.ID)
	again := restarted(t, h)
	before, seen := h.fake.Counts(), len(h.fake.Received())
	var completedAt int64
	for i, rng := range []string{"", "bytes=0-99", "bytes=100-199"} {
		opts := []option.RequestOption{}
		if rng != "" {
			opts = append(opts, option.WithHeader("Range", rng))
		}
		downloadVideo(t, again, created.ID, oai.VideoDownloadContentParams{}, opts...)
		v, err := again.Videos.Get(ctx, created.ID)
		if err != nil || (i > 0 && v.CompletedAt != completedAt) {
			t.Errorf("completed_at moved: %v %d, first %d", err, v.CompletedAt, completedAt)
		}
		completedAt = v.CompletedAt
	}
	c := h.fake.Counts()
	if n, m, d := c.Status-before.Status, c.Results-before.Results, c.CDN-before.CDN; n != 1 || m != 1 || d != 3 {
		t.Errorf("fal received %d status and %d result calls and %d downloads; want 1, 1 and 3", n, m, d)
	}
	for _, call := range h.fake.Received()[seen:] {
		if call.Op == falfake.OpStatus && call.Query != "logs=0" {
			t.Errorf("a download asked fal for the logs: %q", call.Query)
		}
	}
}

// TestVideoClientGoneAfterSubmit: a client that leaves while fal accepts
// its job leaves no job running at fal.
func TestVideoClientGoneAfterSubmit(t *testing.T) {
	h := newHarness(t, withVideos(time.Hour))
	// fal queues the job and answers late, after the client has gone.
	h.fake.Inject(falfake.Fault{Op: falfake.OpSubmit, Late: 2 * time.Second, Times: 1})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.url+"/v1/videos", strings.NewReader(`{"prompt":"a fox","model":"sora-2"}`))
		req.Header.Set("Authorization", "Bearer "+accessKey)
		req.Header.Set("Content-Type", "application/json")
		if resp, err := h.client.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	eventually(t, "fal queues the job", func() bool { return len(h.fake.Jobs()) == 1 })
	cancel()
	<-done
	eventually(t, "fal receives the cancel", func() bool { return h.fake.Counts().Cancels == 1 })
	if jobs := h.fake.Jobs(); !jobs[0].Cancelled {
		t.Errorf("fal's job %+v runs on", jobs[0])
	}
}

// TestVideoContentHead: HEAD on a video's content asks fal's CDN for the
// headers only.
func TestVideoContentHead(t *testing.T) {
	h := newHarness(t, withVideos(0))
	created := createVideo(t, h.sdk, "sora-2")
	pollVideo(t, h.sdk, created.ID)
	req, _ := http.NewRequest(http.MethodHead, h.url+"/v1/videos/"+created.ID+"/content", nil)
	req.Header.Set("Authorization", "Bearer "+accessKey)
	status, hdr, _ := h.do(req)
	if want := len(falfake.VideoAsset("sample.mp4")); status != http.StatusOK || hdr.Get("Content-Length") != strconv.Itoa(want) {
		t.Errorf("HEAD: %d %v, want 200 with Content-Length %d", status, hdr, want)
	}
	var methods []string
	for _, c := range h.fake.Received() {
		if c.Op == falfake.OpCDN {
			methods = append(methods, c.Method)
		}
	}
	if len(methods) != 1 || methods[0] != http.MethodHead {
		t.Errorf("fal's CDN received %v, want one HEAD", methods)
	}
}
