package fal

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/falfake"
)

// foreignHost is a server that counts what reaches it.
func foreignHost(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// A submit answer naming status, result and cancel URLs on another host
// is not followed: the job is followed, read and cancelled on the queue
// URL, and the other host never sees the key.
func TestJobURLsOnForeignHostsAreNotFollowed(t *testing.T) {
	foreign, hits := foreignHost(t)
	f := newFake(t, falfake.Options{AnswerURLBase: foreign.URL, GenerationTime: 50 * time.Millisecond})
	c := newClient(t, f, "k:1")
	out, err := c.Run(context.Background(), "fal-ai/flux/dev", []byte(`{"prompt":"x"}`))
	if err != nil || len(out.Body) == 0 {
		t.Fatalf("run: %v", err)
	}
	j, err := c.Submit(context.Background(), "fal-ai/flux/dev", []byte(`{"prompt":"y"}`))
	if err != nil {
		t.Fatal(err)
	}
	if outcome, err, _ := c.cancelOnce(context.Background(), j); outcome != CancelConfirmed {
		t.Fatalf("cancel: %q, %v", outcome, err)
	}
	j.Release()
	if n := hits.Load(); n != 0 {
		t.Fatalf("the foreign host received %d requests", n)
	}
	if cnt := f.Counts(); cnt.StatusStreams != 1 || cnt.Results != 1 || cnt.Cancels != 1 {
		t.Fatalf("fal saw %+v", cnt)
	}
}

// An upload initiation naming an upload URL on another host is refused
// before any byte goes there.
func TestUploadToForeignHostIsRefused(t *testing.T) {
	foreign, hits := foreignHost(t)
	f := newFake(t, falfake.Options{AnswerURLBase: foreign.URL})
	c := newClientWith(t, Options{QueueURL: f.QueueURL(), RunURL: f.RunURL(), StorageURL: f.StorageURL(), Pool: NewPool([]string{"k:1"}, PoolOptions{})})
	_, err := c.Upload(context.Background(), []byte("png"), "image/png", "in.png")
	if !errors.Is(err, ErrUntrustedURL) {
		t.Fatalf("err = %v, want ErrUntrustedURL", err)
	}
	if n := hits.Load(); n != 0 || f.Counts().UploadPuts != 0 {
		t.Fatalf("the bytes went somewhere: %d foreign requests, %d puts", n, f.Counts().UploadPuts)
	}
}

func TestFollowable(t *testing.T) {
	c := New(Options{QueueURL: "http://127.0.0.1:9000/queue", RunURL: "https://gw.example.com/fal", StorageURL: "https://rest.fal.ai"})
	for raw, want := range map[string]bool{
		"http://127.0.0.1:9000/queue/fal-ai/flux/requests/1":  true,
		"http://127.0.0.1:9001/queue/fal-ai/flux/requests/1":  false,
		"https://127.0.0.1:9000/queue/fal-ai/flux/requests/1": false,
		"https://GW.example.com/other":                        true,
		"https://queue.fal.run/fal-ai/flux/requests/1":        true,
		"https://fal.run/x":                                   true,
		"https://v3.fal.media/files/x":                        true,
		"http://queue.fal.run/fal-ai/flux/requests/1":         false,
		"https://queue.fal.run:8443/x":                        false,
		"https://queue.fal.run.evil.example/x":                false,
		"https://evilfal.run/x":                               false,
		"https://user:pw@queue.fal.run/x":                     false,
		"/relative/path":                                      false,
		"http://127.0.0.1:9000.evil.example/x":                false,
		"http://127.0.0.1:9000@evil.example/x":                false,
		"http://127.0.0.1:90000/x":                            false,
		"http://127.0.0.1:9000/x%zz":                          false,
		"http://127.0.0.1:9000/x\x00":                         false,
		"http://127.0.0.1:9000/q/requests/a-1_b.c~d?logs=0&x": true,
	} {
		if got := c.followable(raw); got != want {
			t.Errorf("followable(%q) = %v, want %v", raw, got, want)
		}
	}
	// What onOrigin takes without parsing, url.Parse takes on the same host.
	for _, raw := range []string{"http://127.0.0.1:9000/queue/fal-ai/flux/requests/1/status", "http://127.0.0.1:9000/a?b=c&d=-._~"} {
		u, err := url.Parse(raw)
		if !c.onOrigin(raw) || err != nil || u.Host != "127.0.0.1:9000" || u.User != nil {
			t.Errorf("onOrigin(%q) = %v; url.Parse: %v, %v", raw, c.onOrigin(raw), u, err)
		}
	}
}

// TestOnOriginTakesOnlyWhatParses: an origin stored as url.Parse decodes
// it (an IPv6 zone) or without a scheme is left to parsing, which refuses
// such a URL written as stored.
func TestOnOriginTakesOnlyWhatParses(t *testing.T) {
	c := New(Options{QueueURL: "http://[fe80::1%25en0]:9000/queue", RunURL: "//gw.example.com/fal"})
	for _, raw := range []string{"http://[fe80::1%en0]:9000/x", "://gw.example.com/x"} {
		if c.onOrigin(raw) || c.followable(raw) {
			t.Errorf("%q taken: onOrigin %v, followable %v", raw, c.onOrigin(raw), c.followable(raw))
		}
	}
	if raw := "http://[fe80::1%25en0]:9000/queue/x"; !c.followable(raw) {
		t.Errorf("followable(%q) = false on the configured upstream", raw)
	}
}

func TestUploadable(t *testing.T) {
	c := New(Options{QueueURL: "https://queue.fal.run", StorageURL: "https://rest.fal.ai"})
	for raw, want := range map[string]bool{
		"https://v3.fal.media/files/upload/x":                         true,
		"https://storage.googleapis.com/falserverless/x?X-Goog-Sig=1": true,
		"http://storage.googleapis.com/falserverless/x":               false,
		"https://storage.googleapis.com/someone-elses-bucket/x":       false,
		"https://storage.googleapis.com.evil.example/x":               false,
		"https://uploads.example.com/x":                               false,
	} {
		if got := c.uploadable(raw); got != want {
			t.Errorf("uploadable(%q) = %v, want %v", raw, got, want)
		}
	}
}
