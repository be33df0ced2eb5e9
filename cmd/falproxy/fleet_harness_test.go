package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/falfake"
	"github.com/falproxy/falproxy/internal/fleet/redistest"
	"github.com/falproxy/falproxy/internal/store/pgtest"
)

// childEnv, set to 1, makes the test binary run falproxy's main instead of
// the tests: a fleet test starts its replicas as real processes of the
// same build (with -race when the tests have it), which it can kill.
const childEnv = "FALPROXY_TEST_AS_MAIN"

// fleetAdminKey is the admin key of every replica of a test fleet.
const fleetAdminKey = "sk-admin-fleet-0123456789"

// testFleet is several falproxy processes sharing one fal emulator, one
// Redis and one Postgres database, as replicas behind a load balancer do.
type testFleet struct {
	t        *testing.T
	Fake     *falfake.Fake
	Redis    *redistest.Server
	Database string // DATABASE_URL
	Replicas []*replica
}

// replica is one falproxy process of a test fleet.
type replica struct {
	URL string // http://127.0.0.1:port
	env []string
	log string // path of its standard error

	proc   *os.Process // nil when not running
	exited chan struct{}
}

// fleetOptions configure startFleet.
type fleetOptions struct {
	Replicas int               // default 3
	Fake     falfake.Options   // the emulator's options
	Env      map[string]string // added to or replacing each replica's environment
}

// startFleet starts the emulator, Redis, a Postgres database and the
// replicas, and waits until every replica answers /health. Everything is
// stopped when the test ends; a failed test prints each replica's log.
func startFleet(t *testing.T, opt fleetOptions) *testFleet {
	t.Helper()
	if opt.Replicas == 0 {
		opt.Replicas = 3
	}
	fake, err := falfake.New(opt.Fake)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	f := &testFleet{t: t, Fake: fake, Redis: redistest.Start(t), Database: pgtest.URL(t)}
	env := fakeEnv(fake, map[string]string{
		"DATABASE_URL": f.Database,
		"REDIS_URL":    f.Redis.URL(),
		"ADMIN_KEY":    fleetAdminKey,
		"FAL_API_URL":  fake.APIURL(),
		"LOG_FORMAT":   "json",
	})
	maps.Copy(env, opt.Env)
	dir := t.TempDir() // no .env there: the environment is the whole configuration
	for i := range opt.Replicas {
		r := &replica{log: filepath.Join(dir, fmt.Sprintf("replica%d.log", i+1))}
		port := freePort(t)
		r.URL = "http://127.0.0.1:" + port
		r.env = []string{childEnv + "=1", "PORT=" + port, "PATH=" + os.Getenv("PATH"), "HOME=" + dir}
		for k, v := range env {
			r.env = append(r.env, k+"="+v)
		}
		f.Replicas = append(f.Replicas, r)
	}
	t.Cleanup(func() {
		for _, r := range f.Replicas {
			f.Kill(r)
		}
		if t.Failed() {
			for i, r := range f.Replicas {
				b, _ := os.ReadFile(r.log)
				t.Logf("replica %d log:\n%s", i+1, tail(string(b), 40))
			}
		}
	})
	for _, r := range f.Replicas {
		f.Start(r)
	}
	return f
}

// Start starts a replica's process (again) and waits until it is ready.
func (f *testFleet) Start(r *replica) {
	f.t.Helper()
	logFile, err := os.OpenFile(r.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		f.t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env, cmd.Dir, cmd.Stderr, cmd.Stdout = r.env, filepath.Dir(r.log), logFile, logFile
	if err := cmd.Start(); err != nil {
		f.t.Fatalf("starting a replica: %v", err)
	}
	r.proc, r.exited = cmd.Process, make(chan struct{})
	go func(exited chan struct{}) { _ = cmd.Wait(); close(exited) }(r.exited)
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		select {
		case <-r.exited:
			b, _ := os.ReadFile(r.log)
			f.t.Fatalf("a replica exited at start:\n%s", tail(string(b), 40))
		case <-time.After(50 * time.Millisecond):
		}
		if res, err := http.Get(r.URL + "/health"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
	}
	f.t.Fatalf("replica %s did not answer /health within 60 s", r.URL)
}

// Kill ends a replica with SIGKILL, as a crashed machine would: it
// finishes nothing and releases nothing.
func (f *testFleet) Kill(r *replica) { f.signal(r, syscall.SIGKILL) }

// Stop ends a replica with SIGTERM and waits for its graceful shutdown.
func (f *testFleet) Stop(r *replica) { f.signal(r, syscall.SIGTERM) }

func (f *testFleet) signal(r *replica, sig syscall.Signal) {
	if r.proc == nil {
		return
	}
	_ = r.proc.Signal(sig)
	<-r.exited
	r.proc = nil
}

// Admin sends an admin API request to the first replica and decodes the
// JSON answer into out (when not nil), failing the test unless it is 2xx.
func (f *testFleet) Admin(method, path, body string, out any) {
	f.t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, f.Replicas[0].URL+path, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+fleetAdminKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		b, _ := io.ReadAll(res.Body)
		f.t.Fatalf("%s %s: %s: %s", method, path, res.Status, b)
	}
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			f.t.Fatal(err)
		}
	}
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}
