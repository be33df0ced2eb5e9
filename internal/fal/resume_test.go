package fal

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/falfake"
)

// TestResumeFollowsAndCancels: a job submitted by one client is found by
// another from its endpoint, request id and key tag, followed with its
// logs, and cancelled, holding no key slot.
func TestResumeFollowsAndCancels(t *testing.T) {
	f := newFake(t, falfake.Options{GenerationTime: time.Hour})
	first := newClient(t, f, "a:1", "b:2")
	j, err := first.Submit(context.Background(), "fal-ai/sora-2/text-to-video", []byte(`{"prompt":"a fox"}`))
	if err != nil {
		t.Fatal(err)
	}
	j.Release()
	tag := j.Key().Tag()

	// A restart: the same keys in another order, a new pool.
	second := newClient(t, f, "b:2", "a:1")
	var k *Key
	for _, candidate := range second.Pool().Keys() {
		if bytes.Equal(candidate.Tag(), tag) {
			k = candidate
		}
	}
	if k == nil || k.secret != j.Key().secret {
		t.Fatalf("key by tag: %v", k)
	}
	again := second.Resume(j.Endpoint, j.RequestID, k)
	st, err := second.Progress(context.Background(), again, true)
	if err != nil || st.Status.Status != "IN_PROGRESS" || len(st.Logs) == 0 || !strings.Contains(st.Logs[len(st.Logs)-1].Message, "%") {
		t.Fatalf("progress: %v %+v", err, st)
	}
	if k.Inflight() != 0 {
		t.Errorf("a resumed job holds a key slot")
	}
	second.Cancel(again)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := second.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if jobs := f.Jobs(); len(jobs) != 1 || !jobs[0].Cancelled {
		t.Errorf("the job was not cancelled: %+v", jobs)
	}
}

// TestStreamPassesRangesAndIdles: Stream hands over 206 answers with their
// headers, keeps the address guard, and ends a body that falls silent.
func TestStreamPassesRangesAndIdles(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 100)
	stall := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stall" {
			w.Write([]byte("first bytes"))
			w.(http.Flusher).Flush()
			select {
			case <-stall:
			case <-r.Context().Done():
			}
			return
		}
		http.ServeContent(w, r, "v.mp4", time.Time{}, bytes.NewReader(data))
	}))
	defer srv.Close()
	defer close(stall)
	ctx := context.Background()

	if _, err := NewDownloader(DownloaderOptions{}).Stream(ctx, srv.URL+"/v", ""); !errors.Is(err, ErrForbiddenTarget) {
		t.Fatalf("loopback allowed: %v", err)
	}
	d := NewDownloader(DownloaderOptions{AllowPrivate: true, MaxBytes: 10, Timeout: 200 * time.Millisecond})
	defer d.hc.CloseIdleConnections()
	resp, err := d.Stream(ctx, srv.URL+"/v", "bytes=10-19")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || string(got) != "0123456789" || resp.Header.Get("Content-Range") != "bytes 10-19/1000" {
		t.Errorf("range: %d %q %v", resp.StatusCode, got, resp.Header)
	}
	resp, err = d.Stream(ctx, srv.URL+"/v", "")
	if err != nil {
		t.Fatal(err)
	}
	got, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || len(got) != len(data) {
		t.Errorf("a whole file past MaxBytes: %d bytes, %v", len(got), err)
	}
	resp, err = d.Stream(ctx, srv.URL+"/stall", "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil {
		t.Error("a silent download did not end")
	}
}

// TestStreamOutlivesAPausedReader: the idle timeout counts only the time a
// Read waits for the CDN; a reader that pauses longer between Reads (a
// client that stops reading for a while) still gets every byte.
func TestStreamOutlivesAPausedReader(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 100_000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "v.mp4", time.Time{}, bytes.NewReader(data))
	}))
	defer srv.Close()
	idle := 50 * time.Millisecond
	d := NewDownloader(DownloaderOptions{AllowPrivate: true, Timeout: idle})
	defer d.hc.CloseIdleConnections()
	resp, err := d.Stream(context.Background(), srv.URL+"/v", "")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make([]byte, 1000)
	if _, err := io.ReadFull(resp.Body, first); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * idle) // the client stops reading for a while
	rest, err := io.ReadAll(resp.Body)
	if err != nil || len(first)+len(rest) != len(data) {
		t.Errorf("after a pause: %d of %d bytes, %v", len(first)+len(rest), len(data), err)
	}
}
