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
	out := runNode(t, []string{"openai"}, []string{
		"FALPROXY_URL=" + h.url + "/v1",
		"FALPROXY_KEY=" + accessKey,
		"CHAT_MODEL=gpt-4o",
		"IMAGE_MODEL=flux-dev",
	}, "acceptance.mjs")
	t.Logf("acceptance.mjs: %s", out)

	// The script's calls reached fal: a streamed chat, and queued jobs for
	// the whole chat and the image.
	c := h.fake.Counts()
	if c.Streams != 1 || c.ByEndpoint["openrouter/router"] < 2 || c.ByEndpoint["fal-ai/flux/dev"] < 1 {
		t.Errorf("fal calls %+v do not match the script's requests", c)
	}
}

// runNode runs a script of test/node (a path under it, such as an npm
// package's bin script) with args, with env added to the environment, and
// returns its trimmed output. It skips, or fails under CI, when Node.js or
// one of the npm packages is missing, and fails the test when the script
// fails or outlives nodeTimeout.
func runNode(t *testing.T, packages, env []string, script string, args ...string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		ciskip.Skipf(t, "node is not on PATH: the Node tests need Node.js 18 or later")
	}
	root := schematest.FindDir(t, ".")
	for _, pkg := range packages {
		if _, err := os.Stat(filepath.Join(root, "test", "node", "node_modules", pkg)); err != nil {
			ciskip.Skipf(t, "the npm package %s is not installed: run npm ci --prefix test/node", pkg)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{filepath.Join("test", "node", script)}, args...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("%s did not finish within %v:\n%s", script, nodeTimeout, out)
	}
	if err != nil {
		t.Fatalf("%s failed (%v):\n%s", script, err, out)
	}
	return strings.TrimSpace(string(out))
}
