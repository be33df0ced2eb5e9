package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"
)

func TestBlobServer(t *testing.T) {
	body := bytes.Repeat([]byte{0, 1, 2, 255}, 1000)
	s, err := startBlob(body, "image/png")
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	resp, err := http.Get(s.url + "/files/any/name.png")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if !bytes.Equal(got, body) || resp.Header.Get("Content-Type") != "image/png" || resp.ContentLength != int64(len(body)) {
		t.Errorf("served %d bytes, type %q, length %d", len(got), resp.Header.Get("Content-Type"), resp.ContentLength)
	}
}

func TestBlackholeNeverAnswers(t *testing.T) {
	h, err := startBlackhole()
	if err != nil {
		t.Fatal(err)
	}
	defer h.close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.url()+"/openapi.json", nil)
	_, err = http.DefaultClient.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("request ended with %v, want the client's deadline", err)
	}
	if h.count() != 1 {
		t.Errorf("accepted %d connections, want 1", h.count())
	}
}
