package server_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPlaygroundVideoInBrowser drives the playground's video tab in
// headless Chromium (test/browser/video.mjs): a prompt, seconds, size and
// an image become a <video> that plays; fal received the image-to-video
// job with the image.
func TestPlaygroundVideoInBrowser(t *testing.T) {
	h := newHarness(t, withVideos(300*time.Millisecond), func(s *setup) { s.server.Playground = true })
	image := filepath.Join(t.TempDir(), "fox.png")
	if err := os.WriteFile(image, pngFile(t, 64, 36, false), 0o600); err != nil {
		t.Fatal(err)
	}
	runBrowserScript(t, h, "video.mjs", "IMAGE_PATH="+image)
	jobs := h.fake.Jobs()
	in := h.falInputs()
	if len(jobs) != 1 || jobs[0].Endpoint != "fal-ai/sora-2/image-to-video" || in[0]["duration"] != 8.0 ||
		!strings.HasPrefix(in[0]["image_url"].(string), "data:image/png;base64,") {
		t.Errorf("fal received %+v", jobs)
	}
}
