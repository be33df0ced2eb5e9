package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	_ "image/jpeg" // results may come back as JPEG

	"github.com/falproxy/falproxy/internal/ciskip"
)

// bannerExports reads the "export NAME=value" lines demo prints, with
// $KEY expanded and single quotes removed as a shell would.
func bannerExports(banner string) map[string]string {
	vars := map[string]string{}
	for _, line := range strings.Split(banner, "\n") {
		words := strings.Fields(line)
		if len(words) < 2 || words[0] != "export" {
			continue
		}
		for _, w := range words[1:] {
			if name, value, ok := strings.Cut(w, "="); ok {
				vars[name] = strings.ReplaceAll(strings.Trim(value, "'"), "$KEY", vars["KEY"])
			}
		}
	}
	return vars
}

// startDemo runs demo in env and returns it with the variables its banner
// tells the user to export.
func startDemo(t *testing.T, env map[string]string) (*running, map[string]string) {
	t.Helper()
	r := startRun(t, []string{"demo"}, env)
	waitFor(t, "the demo banner", func() bool { return strings.Contains(r.stdout.String(), "Ctrl-C stops") })
	return r, bannerExports(r.stdout.String())
}

// TestDemoBannerExports: the banner's export lines give $KEY for the
// README's curl lines and the emulator's URLs, with which falproxy check
// reaches every demo model.
func TestDemoBannerExports(t *testing.T) {
	r, vars := startDemo(t, map[string]string{})
	if !strings.HasPrefix(vars["KEY"], "sk-demo-") || len(vars["KEY"]) < 16 {
		t.Fatalf("no export KEY line with a demo key:\n%s", r.stdout)
	}
	if code, body, err := r.generate(context.Background(), vars["KEY"], `{"model":"flux-schnell","prompt":"a lighthouse"}`); err != nil || code != http.StatusOK {
		t.Fatalf("generation with $KEY: %d %s %v", code, body, err)
	}
	for _, name := range []string{"FAL_QUEUE_URL", "FAL_RUN_URL", "FAL_OPENAPI_URL", "FAL_STORAGE_URL", "AI_KEYS", "SUPPORTED_MODELS"} {
		if vars[name] == "" {
			t.Fatalf("the banner exports no %s:\n%s", name, r.stdout)
		}
	}
	if vars["CUSTOM_ACCESS_KEY"] != vars["KEY"] {
		t.Fatalf("CUSTOM_ACCESS_KEY=%q, want $KEY", vars["CUSTOM_ACCESS_KEY"])
	}
	stdout, _, err := runCmd(t, vars, "check")
	if err != nil || !strings.Contains(stdout, "ok: 13 image models") || !strings.Contains(stdout, "3 video models") {
		t.Fatalf("check against the demo's emulator: %v\n%s", err, stdout)
	}
}

// TestDemoKeepsAccessKey: a CUSTOM_ACCESS_KEY in .env is the demo's key, so
// the README's $KEY stays valid from run to run.
func TestDemoKeepsAccessKey(t *testing.T) {
	const key = "sk-my-own-demo-key-0123456789"
	t.Chdir(t.TempDir())
	if err := os.WriteFile(filepath.Join(".", ".env"), []byte("CUSTOM_ACCESS_KEY="+key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, vars := startDemo(t, map[string]string{})
	if vars["KEY"] != key {
		t.Fatalf("export KEY=%q, want the key from .env:\n%s", vars["KEY"], r.stdout)
	}
	if code, body, err := r.generate(context.Background(), key, `{"model":"flux-schnell","prompt":"a lighthouse"}`); err != nil || code != http.StatusOK {
		t.Fatalf("generation with the .env key: %d %s %v", code, body, err)
	}
}

// TestDemoShortAccessKey: the demo refuses a short key as serve does.
func TestDemoShortAccessKey(t *testing.T) {
	_, _, err := runCmd(t, map[string]string{"CUSTOM_ACCESS_KEY": "sk-short-key"}, "demo")
	if exitStatus(err) != 2 || !strings.Contains(err.Error(), "CUSTOM_ACCESS_KEY entry 1 is shorter than 16 characters") {
		t.Fatalf("err = %v, want a configuration problem", err)
	}
}

// TestDemoMaskEdit sends a masked edit as the SDKs do (multipart image and
// mask) to the demo's flux-fill alias. fal's fill model requires both
// image_url and mask_url (the emulator answers 422 without the mask), and
// answers with an image the size of the input.
func TestDemoMaskEdit(t *testing.T) {
	r, vars := startDemo(t, map[string]string{})
	edit := func(withMask bool) (int, []byte) {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		_ = mw.WriteField("model", "flux-fill")
		_ = mw.WriteField("prompt", "a red door")
		writePNG(t, mw, "image", 64, 48)
		if withMask {
			writePNG(t, mw, "mask", 64, 48)
		}
		_ = mw.Close()
		req, _ := http.NewRequest(http.MethodPost, r.base+"/v1/images/edits", &body)
		req.Header.Set("Authorization", "Bearer "+vars["KEY"])
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}

	code, body := edit(true)
	var out struct {
		Data []struct {
			URL string `json:"url"`
		} `json:"data"`
	}
	if code != http.StatusOK || json.Unmarshal(body, &out) != nil || len(out.Data) != 1 {
		t.Fatalf("masked edit: %d %s", code, body)
	}
	resp, err := http.Get(out.Data[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	cfg, _, err := image.DecodeConfig(resp.Body)
	if err != nil || cfg.Width != 64 || cfg.Height != 48 {
		t.Fatalf("result image %dx%d (%v), want the input's 64x48", cfg.Width, cfg.Height, err)
	}

	if code, body := edit(false); code != http.StatusBadRequest || !strings.Contains(string(body), "mask") {
		t.Fatalf("edit without a mask: %d %s", code, body)
	}
}

// writePNG adds a w×h PNG file field to a multipart form.
func writePNG(t *testing.T, mw *multipart.Writer, field string, w, h int) {
	t.Helper()
	part, err := mw.CreateFormFile(field, field+".png")
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(part, image.NewNRGBA(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
}

// TestDemoBannerVideoLines runs the banner's video lines in a shell: they
// create a video, poll until it is done and download it, so video.mp4 is
// the MP4 and never an error saved in its place.
func TestDemoBannerVideoLines(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "sed", "grep"} {
		if _, err := exec.LookPath(tool); err != nil {
			ciskip.Skipf(t, "no %s: %v", tool, err)
		}
	}
	r, vars := startDemo(t, map[string]string{})
	banner := r.stdout.String()
	start, end := strings.Index(banner, "VIDEO_ID=$("), strings.Index(banner, "-o video.mp4")
	if start < 0 || end < start {
		t.Fatalf("the banner has no video lines that set VIDEO_ID and save video.mp4:\n%s", banner)
	}
	dir := t.TempDir()
	cmd := exec.Command("bash", "-ec", banner[start:end+len("-o video.mp4")])
	cmd.Dir, cmd.Env = dir, append(os.Environ(), "KEY="+vars["KEY"])
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the banner's video lines: %v\n%s", err, out)
	}
	video, err := os.ReadFile(filepath.Join(dir, "video.mp4"))
	if err != nil || len(video) < 12 || string(video[4:8]) != "ftyp" {
		t.Fatalf("video.mp4 is not an MP4 (%v): %.80q", err, video)
	}
}
