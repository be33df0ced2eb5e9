package fal

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// A result URL pointing into falproxy's own network (here loopback) is
// refused unless private media is allowed, and the refusal can be told
// apart from an unreachable host.
func TestDownloaderRefusesPrivateAddresses(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte("internal"))
	}))
	defer srv.Close()

	_, err := NewDownloader(DownloaderOptions{}).Open(context.Background(), srv.URL+"/metrics")
	if !errors.Is(err, ErrForbiddenTarget) || hits.Load() != 0 {
		t.Fatalf("err = %v after %d requests, want ErrForbiddenTarget and none", err, hits.Load())
	}

	d := NewDownloader(DownloaderOptions{AllowPrivate: true})
	dl, err := d.Open(context.Background(), srv.URL+"/image.png")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(dl.Body)
	dl.Body.Close()
	d.hc.CloseIdleConnections()
	if err != nil || string(b) != "internal" || hits.Load() != 1 {
		t.Fatalf("allowed download: %q, %v", b, err)
	}
}
