package fal

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/falfake"
)

// lastCall is the latest call fal received for op.
func lastCall(t *testing.T, f *falfake.Fake, op falfake.Op) falfake.Call {
	t.Helper()
	calls := f.Received()
	for i := len(calls) - 1; i >= 0; i-- {
		if calls[i].Op == op {
			return calls[i]
		}
	}
	t.Fatalf("fal received no %s call", op)
	return falfake.Call{}
}

// Every call that starts work (a submit, a synchronous or streaming run)
// carries the time left of the caller's deadline (so that fal drops a job
// that could not start in time), the media lifetime and the queue
// priority.
func TestHeadersFalHonours(t *testing.T) {
	f := newFake(t, falfake.Options{})
	c := newClientWith(t, Options{QueueURL: f.QueueURL(), RunURL: f.RunURL(), Pool: NewPool([]string{"k:1"}, PoolOptions{}),
		MediaTTL: 90 * time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	if _, err := c.Run(WithQueuePriority(ctx, PriorityLow), "fal-ai/flux/dev", []byte(`{"prompt":"x"}`)); err != nil {
		t.Fatal(err)
	}
	h := lastCall(t, f, falfake.OpSubmit).Header
	if secs, err := strconv.Atoi(h.Get("X-Fal-Request-Timeout")); err != nil || secs < 1 || secs > 120 {
		t.Errorf("X-Fal-Request-Timeout = %q, want the seconds left of 120", h.Get("X-Fal-Request-Timeout"))
	}
	if got := h.Get("X-Fal-Object-Lifecycle-Preference"); got != `{"expiration_duration_seconds": 5400}` {
		t.Errorf("X-Fal-Object-Lifecycle-Preference = %q", got)
	}
	if got := h.Get("X-Fal-Queue-Priority"); got != "low" {
		t.Errorf("X-Fal-Queue-Priority = %q", got)
	}

	// No deadline, no priority: neither header.
	if _, err := c.Run(context.Background(), "fal-ai/flux/dev", []byte(`{"prompt":"x"}`)); err != nil {
		t.Fatal(err)
	}
	h = lastCall(t, f, falfake.OpSubmit).Header
	if h.Get("X-Fal-Request-Timeout") != "" || h.Get("X-Fal-Queue-Priority") != "" {
		t.Errorf("submit without deadline or priority sent %v", h)
	}

	resp, err := c.Post(WithQueuePriority(ctx, PriorityLow), "fal-ai/flux/dev", []byte(`{"prompt":"x"}`), "")
	if err != nil {
		t.Fatal(err)
	}
	resp.Close()
	h = lastCall(t, f, falfake.OpRun).Header
	if got := h.Get("X-Fal-Object-Lifecycle-Preference"); got != `{"expiration_duration_seconds": 5400}` {
		t.Errorf("sync run: X-Fal-Object-Lifecycle-Preference = %q", got)
	}
	if h.Get("X-Fal-Queue-Priority") != "low" || h.Get("X-Fal-Request-Timeout") == "" {
		t.Errorf("sync run: priority %q, request timeout %q; want low and the seconds left",
			h.Get("X-Fal-Queue-Priority"), h.Get("X-Fal-Request-Timeout"))
	}
}
