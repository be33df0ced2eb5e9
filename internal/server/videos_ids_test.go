package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/falproxy/falproxy/internal/fal"
	"github.com/falproxy/falproxy/internal/falfake"
	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/server"
)

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

// restarted is falproxy restarted with the harness's keys.
func restarted(t *testing.T, h *harness) oai.Client {
	t.Helper()
	return replica(t, h, []string{"fal-key-1:secret1", "fal-key-2:secret2"}, []string{accessKey}, nil)
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
	if sealed, _ := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(created.ID, "video_")); strings.Contains(string(sealed), "a fox") {
		t.Error("the id shows the prompt")
	}

	// Rotation: ids sealed with the old SIGNING_KEY open where it is
	// listed after the new one.
	old := replica(t, h, falKeys, []string{accessKey}, []string{"old-signing-key-0123"})
	sealed := createVideo(t, old, "sora-2")
	rotated := replica(t, h, falKeys, []string{accessKey}, []string{"new-signing-key-0123", "old-signing-key-0123"})
	if v, err := rotated.Videos.Get(ctx, sealed.ID); err != nil || v.ID != sealed.ID {
		t.Errorf("after a rotation: %v", err)
	}
	notFound(replica(t, h, falKeys, []string{accessKey}, nil), sealed.ID, "an id sealed with a SIGNING_KEY, without it")
	if n := h.fake.Counts().Status; n == 0 {
		t.Error("the restarted proxy did not ask fal for the status")
	}
}

// TestVideoResumeUsesAppID: a video followed after a restart is found at
// fal by its app id, as fal's clients build the queue URLs: the status,
// result and cancel of an endpoint with a sub-path go to owner/app/requests.
func TestVideoResumeUsesAppID(t *testing.T) {
	h := newHarness(t, withVideos(0))
	ctx := context.Background()
	again := restarted(t, h)
	followed := createVideo(t, h.sdk, "kling")
	if v := pollVideo(t, again, followed.ID); v.Status != oai.VideoStatusCompleted {
		t.Fatalf("video %s", v.RawJSON())
	}
	deleted := createVideo(t, h.sdk, "kling")
	if _, err := again.Videos.Delete(ctx, deleted.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "fal receives the cancel", func() bool { return h.fake.Counts().Cancels == 1 })
	seen := map[falfake.Op]bool{}
	for _, c := range h.fake.Received() {
		switch c.Op {
		case falfake.OpStatus, falfake.OpResult, falfake.OpCancel:
			seen[c.Op] = true
			if !strings.HasPrefix(c.Path, "/queue/fal-ai/kling-video/requests/") {
				t.Errorf("fal received %s at %s", c.Op, c.Path)
			}
		}
	}
	if len(seen) != 3 {
		t.Errorf("fal received %v; want status, result and cancel", seen)
	}
}

// TestVideoAfterRestart: a restarted falproxy with the same keys downloads
// a video's content and remixes it.
func TestVideoAfterRestart(t *testing.T) {
	h := newHarness(t, withVideos(0))
	ctx := context.Background()
	created := createVideo(t, h.sdk, "sora-2")
	again := restarted(t, h)
	if got := downloadVideo(t, again, created.ID, oai.VideoDownloadContentParams{}); !bytes.Equal(got, falfake.VideoAsset("sample.mp4")) {
		t.Errorf("download after a restart: %d bytes", len(got))
	}
	remix, err := again.Videos.Remix(ctx, created.ID, oai.VideoRemixParams{Prompt: "the fox at night"})
	if err != nil {
		t.Fatal(err)
	}
	if v := pollVideo(t, again, remix.ID); v.Status != oai.VideoStatusCompleted || v.RemixedFromVideoID != created.ID {
		t.Errorf("remix after a restart: %s", v.RawJSON())
	}
	if jobs := h.fake.Jobs(); len(jobs) != 2 || jobs[1].Endpoint != "fal-ai/sora-2/video-to-video/remix" {
		t.Errorf("fal's jobs %+v", jobs)
	}
}
