package server_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/ciskip"
	"github.com/falproxy/falproxy/internal/falfake"
	"github.com/falproxy/falproxy/internal/falschema/schematest"
	"github.com/falproxy/falproxy/internal/registry"
)

// chromiumPath is where Debian's chromium package installs the browser.
const chromiumPath = "/usr/bin/chromium"

// TestPlaygroundInBrowser drives the playground page in headless Chromium
// (test/browser/playground.mjs) against falproxy on the fal emulator, then
// checks that fal received what the page asked for.
func TestPlaygroundInBrowser(t *testing.T) {
	h := newHarness(t, func(s *setup) {
		s.server.Playground = true
		// An image endpoint whose owner is not fal: the page must tell its
		// kind from the model list, not from the owner.
		s.server.ImageModels = append(s.server.ImageModels, registry.ImageModel{Alias: "partner-image", Endpoint: "bria/text-to-image/3.2"})
		// A pause between tokens lets the page show the answer growing.
		s.fake.TokenDelay = 20 * time.Millisecond
		withAudio(s)
		withEmbeddings(s)
	})
	runBrowserScript(t, h, "playground.mjs")

	var sawImage, sawSystem bool
	for _, c := range h.fake.Received() {
		var in map[string]any
		if c.Body == nil || json.Unmarshal(c.Body, &in) != nil {
			continue
		}
		switch c.Op {
		case falfake.OpSubmit:
			sawImage = sawImage || in["prompt"] == "a lighthouse at dawn" && in["seed"] == float64(42)
		case falfake.OpLLMStream, falfake.OpChat:
			sawSystem = sawSystem || strings.Contains(string(c.Body), "You are terse.")
		}
	}
	if !sawImage {
		t.Error("fal received no image job with the page's prompt and seed")
	}
	if !sawSystem {
		t.Error("fal received no chat call carrying the page's system prompt")
	}
	checkPlaygroundAudio(t, h)
}

// findBrowser finds Node.js, test/browser with playwright-core, and
// the browser; a test skips without them (and fails under CI).
// browserTimeout bounds one browser script, which drives a whole page.
const browserTimeout = 3 * time.Minute

// runBrowserScript runs test/browser/<script> in headless Chromium
// against h's falproxy (FALPROXY_URL, FALPROXY_KEY, and env), failing the
// test if it fails; it skips, or fails under CI, without the browser.
func runBrowserScript(t *testing.T, h *harness, script string, env ...string) {
	t.Helper()
	node, dir := findBrowser(t)
	execNode(t, node, dir, browserTimeout, append([]string{"FALPROXY_URL=" + h.url, "FALPROXY_KEY=" + accessKey}, env...), script)
}

func findBrowser(t *testing.T) (node, dir string) {
	t.Helper()
	dir = filepath.Join(schematest.FindDir(t, "."), "test", "browser")
	node, err := exec.LookPath("node")
	if err != nil {
		ciskip.Skipf(t, "skipping the browser test: node is not installed")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		ciskip.Skipf(t, "skipping the browser test: no browser at %s (apt-get install chromium)", chromiumPath)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "playwright-core")); err != nil {
		ciskip.Skipf(t, "skipping the browser test: playwright-core is not installed (npm ci --prefix test/browser)")
	}
	return node, dir
}
