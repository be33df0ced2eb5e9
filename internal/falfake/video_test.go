package falfake

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestVideoModels runs video endpoints as fal does: a running job logs its
// progress, the result names the files the schema declares, the CDN
// answers Range requests, and remix takes back a video_id.
func TestVideoModels(t *testing.T) {
	f, c := start(t, Options{GenerationTime: time.Hour})
	sub := c.submit(f, "fal-ai/sora-2/text-to-video", map[string]any{"prompt": "a fox", "duration": 8})
	st := c.do("GET", str(sub, "status_url")+"?logs=1", nil).json(t)
	logs, _ := st["logs"].([]any)
	if str(st, "status") != StateInProgress || len(logs) == 0 || !strings.Contains(str(logs[len(logs)-1].(map[string]any), "message"), "%") {
		t.Fatalf("running status %v lacks a progress log", st)
	}
	if r := c.do("PUT", str(sub, "cancel_url"), nil); r.status != http.StatusAccepted {
		t.Fatalf("cancel %d", r.status)
	}

	f2, c2 := start(t, Options{})
	out := c2.do("POST", f2.RunURL()+"/fal-ai/sora-2/text-to-video", map[string]any{"prompt": "a fox"}).json(t)
	for _, k := range []string{"video", "thumbnail", "spritesheet", "video_id"} {
		if out[k] == nil {
			t.Errorf("sora output lacks %s: %v", k, out)
		}
	}
	video := str(out["video"].(map[string]any), "url")
	whole := c2.do("GET", video, nil)
	if !bytes.Equal(whole.body, VideoAsset("sample.mp4")) || whole.header.Get("Content-Type") != "video/mp4" {
		t.Errorf("video download: %d bytes, type %q", len(whole.body), whole.header.Get("Content-Type"))
	}
	req, _ := http.NewRequest("GET", video, nil)
	req.Header.Set("Range", "bytes=4-11")
	res, err := c2.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusPartialContent || res.Header.Get("Content-Range") == "" {
		t.Errorf("range request: %d %v", res.StatusCode, res.Header)
	}

	veo := c2.do("POST", f2.RunURL()+"/fal-ai/veo3.1", map[string]any{"prompt": "a fox"}).json(t)
	if veo["video"] == nil || veo["thumbnail"] != nil || veo["video_id"] != nil {
		t.Errorf("veo answers only what its schema declares: %v", veo)
	}
	remix := c2.do("POST", f2.RunURL()+"/fal-ai/sora-2/video-to-video/remix", map[string]any{"prompt": "at night", "video_id": out["video_id"]})
	if remix.status != http.StatusOK {
		t.Errorf("remix of a known video: %d %s", remix.status, remix.body)
	}
	for _, id := range []string{"nope", "vid_0123456789abcdef"} {
		bad := c2.do("POST", f2.RunURL()+"/fal-ai/sora-2/video-to-video/remix", map[string]any{"prompt": "at night", "video_id": id})
		if bad.status != http.StatusUnprocessableEntity {
			t.Errorf("remix of a video the emulator did not make, %q: %d %s", id, bad.status, bad.body)
		}
	}
}
