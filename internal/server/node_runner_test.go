package server_test

import (
	"cmp"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/ciskip"
	"github.com/falproxy/falproxy/internal/falschema/schematest"
)

// nodeTimeout bounds a whole Node script run; one takes a second or two
// on loopback.
const nodeTimeout = 2 * time.Minute

// runNodeScript runs test/node/<script> with the openai npm package
// against the harness's falproxy (FALPROXY_URL, FALPROXY_KEY, and env),
// fails the test if it fails, and returns its output. It skips without
// Node.js or the package.
func runNodeScript(t *testing.T, h *harness, script string, env ...string) string {
	t.Helper()
	return runNode(t, []string{"openai"}, append([]string{"FALPROXY_URL=" + h.url + "/v1", "FALPROXY_KEY=" + accessKey}, env...), script)
}

// codexPlatformPackage is the npm package that holds the Codex binary for
// this machine. npm installs only the one for its platform, as an optional
// dependency of @openai/codex, which without it is installed yet cannot
// run (an install with --omit=optional, or from another platform).
func codexPlatformPackage() string {
	platform := cmp.Or(map[string]string{"windows": "win32"}[runtime.GOOS], runtime.GOOS)
	arch := cmp.Or(map[string]string{"amd64": "x64"}[runtime.GOARCH], runtime.GOARCH)
	return "@openai/codex-" + platform + "-" + arch
}

// runNode runs test/node/<script> (a path under test/node, such as an npm
// package's bin script) with args and with env added to the environment,
// logs and returns its output, and fails the test when it fails or
// outlives nodeTimeout. It skips, or fails under CI, when Node.js or one
// of the npm packages is missing.
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
	return execNode(t, node, root, nodeTimeout, env, filepath.Join("test", "node", script), args...)
}

// execNode runs script, a path from dir, with node and args, with env
// added to the environment; it logs and returns the output, and fails the
// test when the script fails or outlives timeout.
func execNode(t *testing.T, node, dir string, timeout time.Duration, env []string, script string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{script}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("%s did not finish within %v:\n%s", script, timeout, out)
	}
	if err != nil {
		t.Fatalf("%s failed (%v):\n%s", script, err, out)
	}
	t.Logf("%s: %s", script, strings.TrimSpace(string(out)))
	return string(out)
}
