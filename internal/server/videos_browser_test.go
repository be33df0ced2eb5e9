package server_test

import (
	"context"
	"os"
	"os/exec"
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
	node, dir := findBrowser(t)
	h := newHarness(t, withVideos(300*time.Millisecond), func(s *setup) { s.server.Playground = true })
	image := filepath.Join(t.TempDir(), "fox.png")
	if err := os.WriteFile(image, pngFile(t, 64, 36, false), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "video.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "FALPROXY_URL="+h.url, "FALPROXY_KEY="+accessKey, "IMAGE_PATH="+image)
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the video tab failed in the browser: %v\n%s", err, out)
	}
	t.Logf("%s", strings.TrimSpace(string(out)))
	jobs := h.fake.Jobs()
	in := h.falInputs()
	if len(jobs) != 1 || jobs[0].Endpoint != "fal-ai/sora-2/image-to-video" || in[0]["duration"] != 8.0 ||
		!strings.HasPrefix(in[0]["image_url"].(string), "data:image/png;base64,") {
		t.Errorf("fal received %+v", jobs)
	}
}
