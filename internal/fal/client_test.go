package fal

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/falproxy/falproxy/internal/falfake"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newFake(t *testing.T, opt falfake.Options) *falfake.Fake {
	t.Helper()
	f, err := falfake.New(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func newClient(t *testing.T, f *falfake.Fake, keys ...string) *Client {
	t.Helper()
	return newClientWith(t, Options{QueueURL: f.QueueURL(), RunURL: f.RunURL(), Pool: NewPool(keys, PoolOptions{})})
}

// newClientWith builds a Client whose background cancels are waited for
// (while the emulator still runs) when the test ends.
func newClientWith(t *testing.T, opt Options) *Client {
	t.Helper()
	hc := NewHTTPClient()
	t.Cleanup(hc.CloseIdleConnections)
	opt.HTTP = hc
	c := New(opt)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return c
}

func TestRunFollowsStatusStream(t *testing.T) {
	f := newFake(t, falfake.Options{GenerationTime: 200 * time.Millisecond})
	c := newClient(t, f, "k:1")
	out, err := c.Run(context.Background(), "fal-ai/flux/dev", []byte(`{"prompt":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out.Body), `"images"`) || out.RequestID == "" || out.KeyID != "key1" {
		t.Fatalf("outcome %+v", out)
	}
	if cnt := f.Counts(); cnt.Submits != 1 || cnt.StatusStreams != 1 || cnt.Status != 0 || cnt.Results != 1 {
		t.Fatalf("counts %+v", cnt)
	}
}

func TestRunReportsJobFailure(t *testing.T) {
	f := newFake(t, falfake.Options{})
	c := newClient(t, f, "k:1")
	_, err := c.Run(context.Background(), "fal-ai/flux/dev", []byte(`{"prompt":"[fail] x"}`))
	var fe *Error
	if !errors.As(err, &fe) || !fe.JobFailed || fe.ErrorType != "runner_disconnected" {
		t.Fatalf("err = %#v", err)
	}
	_, err = c.Run(context.Background(), "fal-ai/flux/dev", []byte(`{"prompt":"x","num_images":99}`))
	if !errors.As(err, &fe) || fe.Status != http.StatusUnprocessableEntity || fe.Validation[0].Field() != "num_images" {
		t.Fatalf("err = %#v", err)
	}
	if n := f.Counts().Submits; n != 2 {
		t.Fatalf("submits %d", n)
	}
}

func TestRecheckReinstatesKey(t *testing.T) {
	f := newFake(t, falfake.Options{})
	c := newClient(t, f, "bad:1", "good:1")
	f.Inject(falfake.Fault{Key: "bad:1", Status: http.StatusUnauthorized})
	if _, err := c.Run(context.Background(), "fal-ai/flux/dev", []byte(`{"prompt":"x"}`)); err != nil {
		t.Fatal(err)
	}
	if q := c.opt.Pool.quarantined(); len(q) != 1 || q[0].secret != "bad:1" {
		t.Fatalf("quarantined %v", q)
	}
	c.recheckOnce(context.Background()) // still refused
	if len(c.opt.Pool.quarantined()) != 1 {
		t.Fatal("a refused key was reinstated")
	}
	f.ClearFaults()
	c.recheckOnce(context.Background())
	if len(c.opt.Pool.quarantined()) != 0 {
		t.Fatal("an accepted key stayed in quarantine")
	}
}

func TestDownloaderGuards(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			w.Write([]byte(strings.Repeat("x", 100)))
		case "/redirect-file":
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		default:
			w.Write([]byte("ok"))
		}
	}))
	defer srv.Close()
	ctx := context.Background()

	strict := NewDownloader(DownloaderOptions{})
	if _, err := strict.Open(ctx, srv.URL+"/img"); !errors.Is(err, ErrForbiddenTarget) {
		t.Fatalf("loopback allowed: %v", err)
	}
	if _, err := strict.Open(ctx, "file:///etc/passwd"); !errors.Is(err, ErrForbiddenTarget) {
		t.Fatalf("file scheme allowed: %v", err)
	}

	loose := NewDownloader(DownloaderOptions{AllowPrivate: true, MaxBytes: 10})
	if _, err := loose.Open(ctx, srv.URL+"/redirect-file"); !errors.Is(err, ErrForbiddenTarget) {
		t.Fatalf("redirect to file followed: %v", err)
	}
	dl, err := loose.Open(ctx, srv.URL+"/big")
	if err == nil {
		buf := make([]byte, 200)
		var readErr error
		for readErr == nil {
			_, readErr = dl.Body.Read(buf)
		}
		dl.Body.Close()
		err = readErr
	}
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversize download: %v", err)
	}
	dl, err = loose.Open(ctx, srv.URL+"/img")
	if err != nil {
		t.Fatal(err)
	}
	dl.Body.Close()
	strict.hc.CloseIdleConnections()
	loose.hc.CloseIdleConnections()
}

func TestStalledStatusStreamFallsBackToPolling(t *testing.T) {
	f := newFake(t, falfake.Options{GenerationTime: 100 * time.Millisecond})
	c := newClientWith(t, Options{QueueURL: f.QueueURL(), RunURL: f.RunURL(), Pool: NewPool([]string{"k:1"}, PoolOptions{}),
		StreamIdle: 200 * time.Millisecond})
	// The status stream never answers: its headers are held back for longer
	// than the whole test may take.
	f.Inject(falfake.Fault{Op: falfake.OpStream, Delay: time.Hour})
	if _, err := c.Run(context.Background(), "fal-ai/flux/dev", []byte(`{"prompt":"x"}`)); err != nil {
		t.Fatal(err)
	}
	if cnt := f.Counts(); cnt.StatusStreams != 1 || cnt.Status < 1 || cnt.Results != 1 {
		t.Fatalf("counts %+v; want the stalled stream abandoned for polling", cnt)
	}
}
