package main

import (
	"bytes"
	"context"
	"maps"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/falproxy/falproxy/internal/falfake"
	"github.com/falproxy/falproxy/internal/store/pgtest"
)

func TestMain(m *testing.M) {
	keyVersionTimeout = 10 * time.Second
	if os.Getenv(childEnv) == "1" {
		main() // a replica started by a fleet test (see fleet_harness_test.go)
		os.Exit(0)
	}
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		pgtest.Stop()
		os.Exit(code)
	}))
}

// testEnv starts the fal emulator and returns an environment pointing
// falproxy at it (see fakeEnv) with the demo's image models and two chat
// models; vars add to or replace its entries.
func testEnv(t *testing.T, vars map[string]string) map[string]string {
	t.Helper()
	fake, err := falfake.New(falfake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	env := fakeEnv(fake, map[string]string{
		"SUPPORTED_MODELS": demoModels,
		"CHAT_MODELS":      "gpt-4o:openai/gpt-4o,google/gemini-2.5-flash",
	})
	maps.Copy(env, vars)
	return env
}

// lookup serves env as the process environment.
func lookup(env map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
}

// runCmd runs falproxy with args in env and returns its error and output.
func runCmd(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, lookup(env), &out, &errOut)
	return out.String(), errOut.String(), err
}

// exitStatus is the status main would exit with for err.
func exitStatus(err error) int {
	if err == nil {
		return 0
	}
	if ec, ok := err.(*exitCode); ok {
		return ec.code
	}
	return 1
}

// assertNoSecrets fails when text carries an access key, a fal key or a
// fal key's secret part from env.
func assertNoSecrets(t *testing.T, env map[string]string, text string) {
	t.Helper()
	var secrets []string
	for _, name := range []string{"CUSTOM_ACCESS_KEY", "AI_KEYS"} {
		for _, k := range strings.Split(env[name], ",") {
			secrets = append(secrets, strings.TrimSpace(k))
			if _, secret, ok := strings.Cut(k, ":"); ok {
				secrets = append(secrets, secret)
			}
		}
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("output carries a secret (%q):\n%s", s, text)
		}
	}
}
