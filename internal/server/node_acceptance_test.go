package server_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/ciskip"
	"github.com/falproxy/falproxy/internal/falschema/schematest"
)

// nodeTimeout bounds the whole Node acceptance run; it takes a second or
// two on loopback.
const nodeTimeout = 2 * time.Minute

// TestNodeAcceptance runs test/node/acceptance.mjs, which drives falproxy
// with the official openai npm package (chat whole and streamed through its
// strict stream helper, images as base64, typed errors), against falproxy
// on the fal emulator.
func TestNodeAcceptance(t *testing.T) {
	h := newHarness(t)
	// The script checks that b64_json holds a PNG, OpenAI's default format;
	// flux-dev's own default on fal is jpeg, so this checks that falproxy
	// asks for PNG when the client names no output_format.
	runNodeScript(t, h, "acceptance.mjs", "CHAT_MODEL=gpt-4o", "IMAGE_MODEL=flux-dev")

	// The script's calls reached fal: a streamed chat, and queued jobs for
	// the whole chat and the image.
	c := h.fake.Counts()
	if c.Streams != 1 || c.ByEndpoint["openrouter/router"] < 2 || c.ByEndpoint["fal-ai/flux/dev"] < 1 {
		t.Errorf("fal calls %+v do not match the script's requests", c)
	}
}

// runNodeScript runs test/node/<script> with Node.js against the harness's
// falproxy (FALPROXY_URL, FALPROXY_KEY and env), failing the test if it
// fails, and skipping it (failing under CI) without Node.js or the openai
// npm package.
func runNodeScript(t *testing.T, h *harness, script string, env ...string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		ciskip.Skipf(t, "node is not on PATH: the Node acceptance test needs Node.js 18 or later")
	}
	root := schematest.FindDir(t, ".")
	if _, err := os.Stat(filepath.Join(root, "test", "node", "node_modules", "openai")); err != nil {
		ciskip.Skipf(t, "the openai npm package is not installed: run npm ci --prefix test/node")
	}
	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("test", "node", script))
	cmd.Dir = root
	cmd.Env = append(append(os.Environ(), "FALPROXY_URL="+h.url+"/v1", "FALPROXY_KEY="+accessKey), env...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("%s did not finish within %v:\n%s", script, nodeTimeout, out)
	}
	if err != nil {
		t.Fatalf("%s failed (%v):\n%s", script, err, out)
	}
	t.Logf("%s: %s", script, strings.TrimSpace(string(out)))
}
