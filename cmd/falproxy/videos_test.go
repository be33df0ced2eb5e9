package main

import (
	"encoding/json"
	"strings"
	"testing"
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
