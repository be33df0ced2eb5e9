package fal

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/falfake"
)

// cancelLog records how cancels of abandoned jobs ended.
type cancelLog struct {
	noObserver
	mu       sync.Mutex
	outcomes []string
	retries  []int
}

func (l *cancelLog) CancelSettled(outcome string, retries int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.outcomes = append(l.outcomes, outcome)
	l.retries = append(l.retries, retries)
}

// abandonOne starts a job and abandons it (its caller goes away) once fal
// has it; it returns Run's error.
func abandonOne(t *testing.T, f *falfake.Fake, c *Client) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// Stops polling when Run returns (ctx is cancelled by the defer).
		for len(f.Jobs()) == 0 && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	_, err := c.Run(ctx, "fal-ai/flux/dev", []byte(`{"prompt":"x"}`))
	return err
}

func TestAbandonedJobCancelIsRetried(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault falfake.Fault
	}{
		{"dropped connections", falfake.Fault{Op: falfake.OpCancel, Drop: true, Times: 2}},
		{"fal unavailable", falfake.Fault{Op: falfake.OpCancel, Status: http.StatusServiceUnavailable, Times: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, falfake.Options{GenerationTime: time.Minute})
			f.Inject(tc.fault)
			log := &cancelLog{}
			c := newClientWith(t, Options{QueueURL: f.QueueURL(), RunURL: f.RunURL(), Pool: NewPool([]string{"k:1"}, PoolOptions{}), Observer: log})
			if err := abandonOne(t, f, c); !errors.Is(err, context.Canceled) {
				t.Fatalf("run: %v", err)
			}
			if err := c.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if jobs := f.Jobs(); len(jobs) != 1 || !jobs[0].Cancelled {
				t.Fatal("the abandoned job was not cancelled at fal")
			}
			if n := f.Counts().Cancels; n != 3 {
				t.Fatalf("fal received %d cancels, want 3 (two failed tries, then the one that worked)", n)
			}
			if len(log.outcomes) != 1 || log.outcomes[0] != CancelConfirmed || log.retries[0] != 2 {
				t.Fatalf("reported %v after %v retries", log.outcomes, log.retries)
			}
		})
	}
}

// A cancel that fal keeps failing is given up after CancelRetryFor, and a
// job that completed meanwhile needs no cancel.
func TestCancelRetriesEnd(t *testing.T) {
	t.Run("gave up", func(t *testing.T) {
		f := newFake(t, falfake.Options{GenerationTime: time.Minute})
		f.Inject(falfake.Fault{Op: falfake.OpCancel, Status: http.StatusBadGateway})
		log := &cancelLog{}
		c := newClientWith(t, Options{QueueURL: f.QueueURL(), RunURL: f.RunURL(), Pool: NewPool([]string{"k:1"}, PoolOptions{}),
			Observer: log, CancelRetryFor: 300 * time.Millisecond})
		abandonOne(t, f, c)
		if err := c.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if len(log.outcomes) != 1 || log.outcomes[0] != CancelGaveUp || f.Counts().Cancels < 2 {
			t.Fatalf("reported %v; fal saw %d cancels", log.outcomes, f.Counts().Cancels)
		}
	})
	t.Run("already finished", func(t *testing.T) {
		f := newFake(t, falfake.Options{})
		log := &cancelLog{}
		c := newClientWith(t, Options{QueueURL: f.QueueURL(), RunURL: f.RunURL(), Pool: NewPool([]string{"k:1"}, PoolOptions{}), Observer: log})
		j, err := c.Submit(context.Background(), "fal-ai/flux/dev", []byte(`{"prompt":"x"}`))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Wait(context.Background(), j); err != nil {
			t.Fatal(err)
		}
		c.abandon(j, errors.New("test"))
		j.Release()
		if err := c.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if len(log.outcomes) != 1 || log.outcomes[0] != CancelAlreadyFinished || log.retries[0] != 0 {
			t.Fatalf("reported %v after %v retries", log.outcomes, log.retries)
		}
	})
}

// TestCancelOfUnknownJob: fal answering 404 to a cancel knows no such job;
// nothing runs under its id, so the cancel is settled, not given up.
func TestCancelOfUnknownJob(t *testing.T) {
	f := newFake(t, falfake.Options{GenerationTime: time.Minute})
	c := newClientWith(t, Options{QueueURL: f.QueueURL(), RunURL: f.RunURL(), Pool: NewPool([]string{"k:1"}, PoolOptions{})})
	j, err := c.Submit(context.Background(), "fal-ai/flux/dev", []byte(`{"prompt":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Release()
	f.Inject(falfake.Fault{Op: falfake.OpCancel, Status: http.StatusNotFound})
	if outcome, err, retry := c.cancelOnce(context.Background(), j); outcome != CancelUnknownJob || err != nil || retry {
		t.Fatalf("cancel answered 404: outcome %q, err %v, retry %v", outcome, err, retry)
	}
}
