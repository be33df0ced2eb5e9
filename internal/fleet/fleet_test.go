package fleet

import (
	"context"
	"errors"
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
	if err := f.Do(context.Background(), ping); err != nil || !f.Up() {
		t.Fatalf("with Redis running: err %v, up %v", err, f.Up())
	}
	r.Stop()
	if err := f.Do(context.Background(), ping); err == nil {
		t.Fatal("a command succeeded with Redis stopped")
	}
	if f.Up() {
		t.Fatal("still up after a failed command")
	}
	if err := f.Do(context.Background(), ping); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("while down, Do = %v, want ErrUnavailable at once", err)
	}
	if s := f.Status(); s.Up || s.LastError == "" || s.DownSince.IsZero() || s.Replicas != 3 {
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
	if s := f.Status(); !s.Up || s.LastError != "" {
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
