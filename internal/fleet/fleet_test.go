package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/falproxy/falproxy/internal/fleet/redistest"
)

func open(t *testing.T, url string, opt Options) *Fleet {
	t.Helper()
	opt.URL = url
	f, err := Open(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// eventually polls cond until it holds or 10 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("%s: still not true after 10 s", what)
}

// within polls cond until it holds, and fails the test unless it held
// at most most after since: a delay measured with timestamps, whatever
// the polling.
func within(t *testing.T, what string, since time.Time, most time.Duration, cond func() bool) {
	t.Helper()
	for deadline := since.Add(most + 10*time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			if d := time.Since(since); d > most {
				t.Errorf("%s after %v, want at most %v", what, d.Round(time.Millisecond), most)
			}
			return
		}
	}
	t.Fatalf("%s: still not true after %v", what, most+10*time.Second)
}

func TestFleetCountsReplicas(t *testing.T) {
	r := redistest.Start(t)
	a := open(t, r.URL(), Options{})
	b := open(t, r.URL(), Options{})
	eventually(t, "both replicas see two", func() bool { return a.Replicas() == 2 && b.Replicas() == 2 })
	if got := a.Share(30); got != 15 {
		t.Errorf("share of 30 over 2 replicas = %d, want 15", got)
	}
	if got := a.Share(1); got != 1 {
		t.Errorf("share of 1 = %d, want 1 (a small limit still serves)", got)
	}
	if got := a.Share(0); got != 0 {
		t.Errorf("share of no limit = %d, want 0", got)
	}
	_ = b.Close()
	if n := r.Client().ZCard(context.Background(), "falproxy:replicas").Val(); n != 1 {
		t.Errorf("after one replica closed the fleet set holds %d, want 1", n)
	}
}

func TestFleetOutageAndReturn(t *testing.T) {
	r := redistest.Start(t)
	f := open(t, r.URL(), Options{Replicas: 3})
	ping := func(ctx context.Context, c *redis.Client) error { return c.Ping(ctx).Err() }
	if err := f.do(context.Background(), ping); err != nil || !f.Up() {
		t.Fatalf("with Redis running: err %v, up %v", err, f.Up())
	}
	r.Stop()
	if err := f.do(context.Background(), ping); err == nil {
		t.Fatal("a command succeeded with Redis stopped")
	}
	if !f.Up() {
		t.Fatal("one failed command marked Redis unreachable; it should fall back alone")
	}
	if err := f.do(context.Background(), ping); err == nil {
		t.Fatal("a command succeeded with Redis stopped")
	}
	if f.Up() {
		t.Fatal("still up after two failed commands in a row")
	}
	if err := f.do(context.Background(), ping); !errors.Is(err, errUnavailable) {
		t.Fatalf("while down, Do = %v, want errUnavailable at once", err)
	}
	if s := f.Status(); s.Up || f.Errors() == 0 || s.DownSince.IsZero() || s.Replicas != 3 {
		t.Fatalf("status while down = %+v", s)
	}
	resumed := make(chan struct{}, 1)
	f.OnUp(func(context.Context) { resumed <- struct{}{} })
	r.Restart()
	eventually(t, "up after Redis restarted", f.Up)
	select {
	case <-resumed:
	default:
		t.Fatal("the OnUp function did not run before the fleet reported up")
	}
	if s := f.Status(); !s.Up || !s.DownSince.IsZero() {
		t.Fatalf("status after return = %+v", s)
	}
}

func TestFleetRequiredRefusesToStart(t *testing.T) {
	r := redistest.Start(t)
	url := r.URL()
	r.Stop()
	if _, err := Open(context.Background(), Options{URL: url, Required: true}); err == nil {
		t.Fatal("Open succeeded with Redis down and Required")
	}
	f := open(t, url, Options{})
	if f.Up() {
		t.Fatal("up with Redis down")
	}
}

// TestFleetNoticesRedisLostItsData: a Redis that loses its data while
// every command succeeds (a failover to an empty replica, a restart
// between two commands, after which the client drops its dead
// connections quietly) fails no command, yet the leases of the requests
// still running must be written back, as after an outage. FLUSHALL loses
// the data without a window in which a command could fail, which a
// restart has: a heartbeat or a renewal falling into it would take the
// outage's path instead, whatever the test waited for.
func TestFleetNoticesRedisLostItsData(t *testing.T) {
	r := redistest.Start(t)
	f := open(t, r.URL(), Options{})
	slots := NewKeySlots(f)
	release, ok := tryAcquire(t, slots, 5)
	if !ok {
		t.Fatal("no slot")
	}
	defer release()
	hooks := make(chan struct{}, 10)
	f.OnUp(func(context.Context) { hooks <- struct{}{} })
	rdb := r.Client()
	ctx := context.Background()
	if err := rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	// The OnUp functions run in the order registered: once this one ran,
	// the leases' write-back, registered at Open, is done.
	select {
	case <-hooks:
	case <-time.After(10 * time.Second):
		t.Fatal("the OnUp functions did not run within 10 s")
	}
	if n := rdb.ZCard(ctx, "falproxy:keyslots:k1").Val(); n != 1 {
		t.Errorf("%d leases in Redis after the write-back, want 1", n)
	}
	if n := f.errors.Load(); n != 0 {
		t.Fatalf("%d commands failed: the loss of data was seen as an outage", n)
	}
	if !f.Up() {
		t.Error("a loss of data marked Redis unreachable")
	}
}

// TestFleetCloseLogsNoOutage: a call that comes after Close (a request
// ending during shutdown, a renewal) meets a closed client; that is no
// outage to warn of.
func TestFleetCloseLogsNoOutage(t *testing.T) {
	r := redistest.Start(t)
	var logs strings.Builder
	var mu sync.Mutex
	f := open(t, r.URL(), Options{Logger: slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))})
	slots := NewKeySlots(f)
	release, ok := tryAcquire(t, slots, 1)
	if !ok {
		t.Fatal("no slot")
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	release()
	release2, _, _ := slots.TryAcquire("k1", 1)
	if release2 != nil {
		release2()
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Contains(logs.String(), "unreachable") {
		t.Errorf("closing logged an outage:\n%s", logs.String())
	}
	if f.Up() {
		t.Error("up after Close")
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestFleetMalformedURLKeepsItsPassword(t *testing.T) {
	_, err := Open(context.Background(), Options{URL: "redis://user:s3cretpw@host:badport/0"})
	if err == nil {
		t.Fatal("Open accepted a malformed URL")
	}
	if strings.Contains(err.Error(), "s3cretpw") || strings.Contains(err.Error(), "badport") {
		t.Errorf("the error quotes the URL: %v", err)
	}
}

// TestPing: Ping answers whether Redis does within its timeout, and its
// error for a malformed URL does not quote it.
func TestPing(t *testing.T) {
	r := redistest.Start(t)
	ctx := context.Background()
	if err := Ping(ctx, r.URL(), 5*time.Second); err != nil {
		t.Fatalf("Ping of a running Redis: %v", err)
	}
	if err := Ping(ctx, r.URL(), time.Nanosecond); err == nil {
		t.Error("Ping with a timeout already over succeeded")
	}
	r.Stop()
	if err := Ping(ctx, r.URL(), 5*time.Second); err == nil {
		t.Error("Ping of a stopped Redis succeeded")
	}
	err := Ping(ctx, "redis://user:s3cretpw@host:badport/0", 5*time.Second)
	if err == nil || strings.Contains(err.Error(), "s3cretpw") || strings.Contains(err.Error(), "badport") {
		t.Errorf("Ping of a malformed URL = %v, want an error that does not quote it", err)
	}
}

// TestFleetReplicasIsAFloor: REPLICAS is the fewest replicas assumed; a
// replica that has seen more through Redis divides by those.
func TestFleetReplicasIsAFloor(t *testing.T) {
	r := redistest.Start(t)
	url := r.URL()
	a := open(t, url, Options{Replicas: 2})
	open(t, url, Options{Replicas: 2})
	open(t, url, Options{Replicas: 2})
	eventually(t, "a counts three", func() bool { return a.Replicas() == 3 })
	r.Stop()
	down := open(t, url, Options{Replicas: 2}) // never reached Redis
	if got := down.Share(10); got != 5 {
		t.Errorf("a replica that never reached Redis takes %d of 10, want its share 5 of REPLICAS=2", got)
	}
	if got := a.Share(9); got != 3 {
		t.Errorf("share of 9 after seeing three replicas = %d, want 3", got)
	}
}

// TestFleetFailuresThatSayNothingOfRedis: a pool with no free connection
// and an error Redis answered (a script's) fall back alone, however many
// in a row: Redis answers.
func TestFleetFailuresThatSayNothingOfRedis(t *testing.T) {
	r := redistest.Start(t)
	f := open(t, r.URL(), Options{})
	ctx := context.Background()
	busy := func(context.Context, *redis.Client) error { return redis.ErrPoolTimeout }
	scriptError := func(ctx context.Context, c *redis.Client) error {
		return c.Eval(ctx, "return redis.error_reply('bad')", nil).Err()
	}
	for range 3 * failuresDown {
		if err := f.do(ctx, busy); !errors.Is(err, redis.ErrPoolTimeout) {
			t.Fatalf("do = %v, want the pool's error", err)
		}
	}
	for range 3 * failuresDown {
		if err := f.do(ctx, scriptError); err == nil {
			t.Fatal("a failing script succeeded")
		}
	}
	if !f.Up() {
		t.Error("a busy pool or a script's error marked Redis unreachable")
	}
	if n := f.Errors(); n != 6*failuresDown {
		t.Errorf("%d errors counted, want the %d pool timeouts and script errors", n, 6*failuresDown)
	}
	missing := func(ctx context.Context, c *redis.Client) error { return c.Get(ctx, "falproxy:missing").Err() }
	if err := f.do(ctx, missing); !errors.Is(err, redis.Nil) || f.Errors() != 6*failuresDown {
		t.Errorf("a missing key (%v) counted as an error", err)
	}
}

// TestFleetLogsOnlyThroughItsLogger: while Redis is down, the go-redis
// client's own complaints (failed dials) reach the fleet's logger as
// debug records in its format, not stderr as plain lines, and the outage
// is one warning.
func TestFleetLogsOnlyThroughItsLogger(t *testing.T) {
	_, text := fleetLoggingWithoutRedis(t)

	warnings := 0
	for line := range strings.Lines(text()) {
		var record struct{ Level string }
		if err := json.Unmarshal([]byte(line), &record); err != nil {
			t.Fatalf("a log line is not JSON: %q", line)
		}
		if record.Level == "WARN" {
			warnings++
		}
	}
	if warnings != 1 {
		t.Errorf("%d warnings, want 1:\n%s", warnings, text())
	}
}

// fleetLoggingWithoutRedis opens a fleet on a stopped Redis with a JSON
// logger of every level, and waits for the client's first failed dial in
// it; text is what the logger has written so far.
func fleetLoggingWithoutRedis(t *testing.T) (r *redistest.Server, text func() string) {
	t.Helper()
	r = redistest.Start(t)
	r.Stop()
	var logs strings.Builder
	var mu sync.Mutex
	handler := slog.NewJSONHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug})
	open(t, r.URL(), Options{Logger: slog.New(handler)})
	text = func() string {
		mu.Lock()
		defer mu.Unlock()
		return logs.String()
	}
	eventually(t, "the client's failed dial in the fleet's log", func() bool { return strings.Contains(text(), "failed to dial") })
	return r, text
}

// TestPingLeavesTheFleetsLogs: a check of a Redis (as the checks of the
// process's links make) leaves go-redis's logger to the fleet: the
// client's complaints still reach the fleet's logger afterwards.
func TestPingLeavesTheFleetsLogs(t *testing.T) {
	r, text := fleetLoggingWithoutRedis(t)
	if err := Ping(context.Background(), r.URL(), time.Second); err == nil {
		t.Fatal("Ping of a stopped Redis succeeded")
	}
	before := len(text())
	eventually(t, "a failed dial in the fleet's log after Ping", func() bool { return strings.Contains(text()[before:], "failed to dial") })
}

// printfLines records go-redis's log lines, as its default logger would
// print them to stderr.
type printfLines struct {
	mu    sync.Mutex
	lines []string
}

func (p *printfLines) Printf(_ context.Context, format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lines = append(p.lines, fmt.Sprintf(format, args...))
}

// TestPingAloneDropsTheClientsLogs: a process with no fleet (falproxy
// check) reports a failed ping in its own words, without go-redis's own
// lines on stderr.
func TestPingAloneDropsTheClientsLogs(t *testing.T) {
	defer fleetLogs.Store(fleetLogs.Load())
	fleetLogs.Store(false)
	stderr := &printfLines{}
	redis.SetLogger(stderr)
	defer redis.SetLogger(clientLog{slog.New(slog.DiscardHandler)})
	if err := Ping(context.Background(), "redis://127.0.0.1:1/0", time.Second); err == nil {
		t.Fatal("Ping of a closed port succeeded")
	}
	stderr.mu.Lock()
	defer stderr.mu.Unlock()
	if len(stderr.lines) != 0 {
		t.Errorf("go-redis logged %q", stderr.lines)
	}
}
