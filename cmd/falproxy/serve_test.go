package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/falfake"
	"github.com/falproxy/falproxy/internal/freeport"
)

// syncBuffer collects a process's output from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// running is a falproxy started through run, as main starts it.
type running struct {
	base   string
	stop   context.CancelFunc
	done   chan error
	stdout *syncBuffer
	stderr *syncBuffer
}

func freePort(t *testing.T) string {
	t.Helper()
	port, err := freeport.Loopback()
	if err != nil {
		t.Fatal(err)
	}
	return strconv.Itoa(port)
}

// fakeEnv is the environment that points falproxy at an emulator, which
// speaks h2c and serves result images from loopback.
func fakeEnv(fake *falfake.Fake, extra map[string]string) map[string]string {
	env := map[string]string{
		"CUSTOM_ACCESS_KEY": "sk-access-key-one,sk-access-key-two",
		"AI_KEYS":           "falkeyid1:falsecretvalue1,falkeyid2:falsecretvalue2",
		"SUPPORTED_MODELS":  "flux-dev:fal-ai/flux/dev",
		"HOST":              "127.0.0.1",
		"FAL_QUEUE_URL":     fake.QueueURL(),
		"FAL_RUN_URL":       fake.RunURL(),
		"FAL_OPENAPI_URL":   fake.OpenAPIURL(),
		"FAL_STORAGE_URL":   fake.StorageURL(),

		"FAL_H2C":             "true",
		"ALLOW_PRIVATE_MEDIA": "true",
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

func startRun(t *testing.T, args []string, env map[string]string) *running {
	t.Helper()
	if _, ok := env["PORT"]; !ok {
		env["PORT"] = freePort(t)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{base: "http://127.0.0.1:" + env["PORT"], stop: cancel, done: make(chan error, 1),
		stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	go func() { r.done <- run(ctx, args, lookup(env), r.stdout, r.stderr) }()
	for range 500 {
		select {
		case err := <-r.done:
			t.Fatalf("falproxy exited early: %v\n%s", err, r.stderr)
		default:
		}
		if resp, err := http.Get(r.base + "/health"); err == nil {
			resp.Body.Close()
			t.Cleanup(func() { r.shutdown(t) })
			return r
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	t.Fatalf("falproxy did not answer /health\n%s", r.stderr)
	return nil
}

// shutdown signals falproxy and waits for run to return.
func (r *running) shutdown(t *testing.T) error {
	t.Helper()
	r.stop()
	select {
	case err := <-r.done:
		r.done <- err // let a later call see it too
		return err
	case <-time.After(60 * time.Second):
		t.Fatal("falproxy did not stop")
		return nil
	}
}

func (r *running) generate(ctx context.Context, key, body string) (int, string, error) {
	return r.post(ctx, "/v1/images/generations", key, body)
}

// post sends a JSON body with an access key and returns the answer.
func (r *running) post(ctx context.Context, path, key, body string) (int, string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, r.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

func TestShutdownCancelsJobsPastGrace(t *testing.T) {
	fake, err := falfake.New(falfake.Options{GenerationTime: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	r := startRun(t, []string{"serve"}, fakeEnv(fake, map[string]string{"SHUTDOWN_GRACE": "300ms"}))

	const n = 100
	answers := make(chan string, n)
	for range n {
		go func() {
			code, body, err := r.generate(context.Background(), "sk-access-key-one", `{"prompt":"a slow cat"}`)
			answers <- fmt.Sprintf("%d %s %v", code, body, err)
		}()
	}
	waitFor(t, "every job reached fal", func() bool { return len(fake.Jobs()) == n })
	if err := r.shutdown(t); err != nil {
		t.Fatalf("run returned %v, want nil on a signal", err)
	}
	for range n {
		// Every client still waiting is told to retry, not sent an
		// empty 200.
		if a := <-answers; !strings.HasPrefix(a, "503 ") || !strings.Contains(a, `"code":"server_shutting_down"`) {
			t.Fatalf("a client in flight past the grace period got %s", a)
		}
	}
	cancelled := 0
	for _, j := range fake.Jobs() {
		if j.Cancelled {
			cancelled++
		}
	}
	if cancelled != n {
		t.Fatalf("%d of %d in-flight jobs cancelled at fal", cancelled, n)
	}
	if c := fake.Counts(); c.Submits != n {
		t.Fatalf("%d submits for %d requests", c.Submits, n)
	}
}

func TestShutdownLetsJobsFinishWithinGrace(t *testing.T) {
	fake, err := falfake.New(falfake.Options{GenerationTime: 400 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	r := startRun(t, []string{"serve"}, fakeEnv(fake, map[string]string{"SHUTDOWN_GRACE": "30s"}))
	const n = 20
	codes := make(chan int, n)
	for range n {
		go func() {
			code, _, _ := r.generate(context.Background(), "sk-access-key-two", `{"prompt":"a quick cat"}`)
			codes <- code
		}()
	}
	waitFor(t, "every job reached fal", func() bool { return len(fake.Jobs()) == n })
	if err := r.shutdown(t); err != nil {
		t.Fatal(err)
	}
	for range n {
		if code := <-codes; code != http.StatusOK {
			t.Fatalf("a request in flight at shutdown got %d", code)
		}
	}
	if c := fake.Counts(); c.Cancels != 0 {
		t.Fatalf("%d jobs cancelled although they finished within grace", c.Cancels)
	}
}

// TestSecretsNeverLogged runs a debug-level falproxy through successes and
// failures and searches everything it printed and answered for the keys.
func TestSecretsNeverLogged(t *testing.T) {
	fake, err := falfake.New(falfake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()
	env := fakeEnv(fake, map[string]string{"DEBUG_MODE": "true", "LOG_FORMAT": "json",
		"CHAT_ENDPOINT": "openrouter/router", "CHAT_MODELS": "gpt-4o:openai/gpt-4o"})
	fake.Inject(falfake.Fault{Op: falfake.OpSubmit, Key: "falkeyid1:falsecretvalue1", Status: http.StatusUnauthorized, Times: 1})
	r := startRun(t, []string{"serve"}, env)

	var answers strings.Builder
	record := func(code int, body string, err error) {
		fmt.Fprintf(&answers, "%d %s %v\n", code, body, err)
	}
	ctx := context.Background()
	record(r.generate(ctx, "sk-access-key-one", `{"prompt":"ok"}`))
	record(r.generate(ctx, "sk-access-key-one", `{"prompt":"[fail] broken"}`))
	record(r.generate(ctx, "sk-access-key-one", `{"prompt":"p","n":99}`))
	record(r.generate(ctx, "sk-wrong", `{"prompt":"p"}`))
	record(r.generate(ctx, "sk-access-key-two", `{"prompt":"p","num_inference_steps":999}`))
	req, _ := http.NewRequest(http.MethodPost, r.base+"/v1/chat/completions",
		strings.NewReader(`{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`))
	req.Header.Set("Authorization", "Bearer sk-access-key-one")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		record(resp.StatusCode, string(b), nil)
	}
	if err := r.shutdown(t); err != nil {
		t.Fatal(err)
	}
	all := r.stdout.String() + r.stderr.String() + answers.String()
	if !strings.Contains(r.stderr.String(), `"level":"DEBUG"`) {
		t.Fatalf("no debug output captured:\n%s", r.stderr)
	}
	for _, secret := range []string{"falsecretvalue1", "falsecretvalue2", "falkeyid1:", "sk-access-key-one", "sk-access-key-two"} {
		if strings.Contains(all, secret) {
			t.Errorf("output contains %q:\n%s", secret, all)
		}
	}
}

func TestConfigErrorExitsWithStatus2(t *testing.T) {
	var stdout, stderr bytes.Buffer
	environ := func(k string) (string, bool) {
		if k == "AI_KEYS" {
			return "onlyfalkey:supersecret", true
		}
		if k == "PORT" {
			return "not-a-port", true
		}
		return "", false
	}
	err := run(context.Background(), []string{"serve"}, environ, &stdout, &stderr)
	ec, ok := err.(*exitCode)
	if !ok || ec.code != 2 {
		t.Fatalf("err = %v, want exit code 2", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "CUSTOM_ACCESS_KEY") || !strings.Contains(msg, "PORT") || strings.Contains(msg, "supersecret") {
		t.Fatalf("message %q", msg)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 1500 {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting until %s", what)
}

// TestDemo runs the README's first command: a proxy on the built-in
// emulator that answers with the key it printed, and serves the playground.
func TestDemo(t *testing.T) {
	r := startRun(t, []string{"demo"}, map[string]string{})
	waitFor(t, "the demo banner", func() bool { return strings.Contains(r.stdout.String(), "Ctrl-C stops") })
	var key string
	for _, line := range strings.Split(r.stdout.String(), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "access" && f[1] == "key" {
			key = f[2]
		}
	}
	if !strings.HasPrefix(key, "sk-demo-") || !strings.Contains(r.stdout.String(), r.base+"/v1") {
		t.Fatalf("demo banner lacks the key or base URL:\n%s", r.stdout)
	}
	code, body, err := r.generate(context.Background(), key, `{"model":"flux-schnell","prompt":"a lighthouse","size":"512x512"}`)
	if err != nil || code != http.StatusOK || !strings.Contains(body, `"url":"http://127.0.0.1:`) {
		t.Fatalf("image: %d %s %v", code, body, err)
	}
	resp, err := http.Get(r.base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("playground: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
