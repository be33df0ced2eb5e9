package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/falproxy/falproxy/internal/video"
)

// TestModelsVideos: `falproxy models` describes each video model's
// endpoints from their schemas (durations, aspect ratios, resolutions, the
// image field) and where remixes run; check counts them.
func TestModelsVideos(t *testing.T) {
	env := testEnv(t, map[string]string{"VIDEO_MODELS": demoVideoModels})
	out, _, err := runCmd(t, env, "models")
	if err != nil {
		t.Fatalf("models: %v\n%s", err, out)
	}
	got := blocks(out)
	for alias, want := range map[string][]string{
		"sora-2": {"text-to-video    fal-ai/sora-2/text-to-video", "durations      4, 8, 12, 16, 20", "aspect ratios  9:16, 16:9",
			"image field    image_url", "remix            fal-ai/sora-2/video-to-video/remix", "remixes        by video_id"},
		"veo-3.1":   {"durations      4s, 6s, 8s", "resolutions    720p, 1080p, 4k", "remix            none: the model cannot remix"},
		"kling-2.6": {"image field    start_image_url", "generate_audio"},
	} {
		for _, w := range want {
			if !strings.Contains(got[alias], w) {
				t.Errorf("%s: missing %q in\n%s", alias, w, got[alias])
			}
		}
	}
	js, _, err := runCmd(t, env, "models", "-json")
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		VideoModels []struct {
			Alias     string `json:"alias"`
			Kind      string `json:"kind"`
			Remix     string `json:"remix"`
			Endpoints []struct {
				Role         string `json:"role"`
				Capabilities struct {
					ImageField string `json:"image_field"`
				} `json:"capabilities"`
			} `json:"endpoints"`
		} `json:"video_models"`
	}
	if err := json.Unmarshal([]byte(js), &r); err != nil || len(r.VideoModels) != 3 || r.VideoModels[0].Kind != "video" ||
		r.VideoModels[0].Remix == "" || r.VideoModels[2].Endpoints[1].Capabilities.ImageField != "start_image_url" {
		t.Errorf("models -json: %v %+v", err, r)
	}
	stdout, _, err := runCmd(t, env, "check")
	if err != nil || !strings.Contains(stdout, ", 3 video models") {
		t.Errorf("check: %v %s", err, stdout)
	}
}

// TestDemoServesVideos: serve wires the video models, signing and
// MEDIA_TTL: the demo answers a video and reports its expiry from
// MEDIA_TTL.
func TestDemoServesVideos(t *testing.T) {
	r, vars := startDemo(t, map[string]string{"MEDIA_TTL": "1h"})
	code, body, err := r.post(context.Background(), "/v1/videos", vars["KEY"], `{"model":"veo-3.1","prompt":"a fox","seconds":"6"}`)
	var v struct {
		ID        string `json:"id"`
		Seconds   string `json:"seconds"`
		CreatedAt int64  `json:"created_at"`
	}
	if err != nil || code != http.StatusOK || json.Unmarshal([]byte(body), &v) != nil || v.Seconds != "6" {
		t.Fatalf("create: %d %s %v", code, body, err)
	}
	req, _ := http.NewRequest(http.MethodGet, r.base+"/v1/videos/"+v.ID, nil)
	req.Header.Set("Authorization", "Bearer "+vars["KEY"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		ExpiresAt int64 `json:"expires_at"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || got.ExpiresAt != v.CreatedAt+3600 {
		t.Errorf("get: %d, expires_at %d for created_at %d (%v)", resp.StatusCode, got.ExpiresAt, v.CreatedAt, err)
	}
}

// TestVideoDurationWords: `falproxy models` words each kind of duration
// field, a free one with its bounds.
func TestVideoDurationWords(t *testing.T) {
	lo, hi := 2.0, 15.0
	for _, tc := range []struct {
		d    video.Description
		want string
	}{
		{video.Description{}, "none: the model picks the length"},
		{video.Description{Duration: true, Durations: []string{"5", "10"}}, "5, 10"},
		{video.Description{Duration: true, MinSeconds: &lo, MaxSeconds: &hi}, "any, 2 to 15 seconds"},
		{video.Description{Duration: true, MinSeconds: &lo}, "any, at least 2 seconds"},
		{video.Description{Duration: true}, "any number of seconds"},
	} {
		if got := durations(&tc.d); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.d, got, tc.want)
		}
	}
}

// TestModelsVideoSchemaMissing: a video endpoint whose schema cannot be
// had fails `falproxy models`, and check names it.
func TestModelsVideoSchemaMissing(t *testing.T) {
	env := testEnv(t, map[string]string{"VIDEO_MODELS": "ghost:fal-ai/no-such-video-model"})
	out, _, err := runCmd(t, env, "models")
	if exitStatus(err) != 1 || !strings.Contains(err.Error(), "1 of 1 video models") || !strings.Contains(out, "schema fetch failed") {
		t.Errorf("models: %v\n%s", err, out)
	}
	if _, _, err := runCmd(t, env, "check"); err == nil || !strings.Contains(err.Error(), "ghost (text-to-video fal-ai/no-such-video-model)") {
		t.Errorf("check: %v", err)
	}
}
