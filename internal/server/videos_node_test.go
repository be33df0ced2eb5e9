package server_test

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/falproxy/falproxy/internal/falfake"
)

// TestNodeVideos runs test/node/videos.mjs: the openai npm package creates
// a video, polls it to completion and downloads fal's file, remixes, lists
// and deletes, through falproxy on the emulator.
func TestNodeVideos(t *testing.T) {
	h := newHarness(t, withVideos(0))
	sum := sha256.Sum256(falfake.VideoAsset("sample.mp4"))
	runNodeScript(t, h, "videos.mjs", "VIDEO_MODEL=sora-2", "VIDEO_SHA256="+hex.EncodeToString(sum[:]))
	if c := h.fake.Counts(); c.ByEndpoint["fal-ai/sora-2/text-to-video"] < 1 || c.ByEndpoint["fal-ai/sora-2/video-to-video/remix"] < 1 {
		t.Errorf("fal calls %+v do not match the script's requests", c)
	}
	// The script deletes the remix: by then the list may have seen it
	// finish (no cancel is sent), or it still runs and is cancelled. Either
	// way nothing is left running at fal.
	eventually(t, "no job left running at fal", func() bool {
		for _, j := range h.fake.Jobs() {
			if j.State != falfake.StateCompleted {
				return false
			}
		}
		return true
	})
}
