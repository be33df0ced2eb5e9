package server_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSlowBodyHoldsNoSlot: with a single admission slot, a client that
// trickles its body must not lock the others out, and is cut off with a
// 408 once BODY_READ_TIMEOUT has passed.
func TestSlowBodyHoldsNoSlot(t *testing.T) {
	h := newHarness(t, func(s *setup) {
		s.server.MaxInflight = 1
		s.server.BodyReadTimeout = 500 * time.Millisecond
	})
	body, feed := io.Pipe()
	defer feed.Close()
	req, _ := http.NewRequest(http.MethodPost, h.url+"/v1/images/generations", body)
	req.ContentLength = int64(len(genBody))
	req.Header.Set("Authorization", "Bearer "+accessKey)
	req.Header.Set("Content-Type", "application/json")
	type answer struct {
		status int
		body   []byte
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := h.client.Do(req)
		if err != nil {
			answered <- answer{}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		answered <- answer{resp.StatusCode, b}
	}()
	if _, err := feed.Write([]byte(genBody[:5])); err != nil {
		t.Fatal(err)
	}
	eventually(t, "falproxy waits for the rest of the body", func() bool {
		return goroutinesIn("net/http.(*body).Read") > 0
	})

	code, _, b := h.post(context.Background(), "/v1/images/generations", genBody)
	if code != http.StatusOK {
		t.Fatalf("a client with a whole body got %d while another trickled: %s", code, b)
	}
	slow := <-answered
	if slow.status != http.StatusRequestTimeout {
		t.Fatalf("the trickling client got %d: %s", slow.status, slow.body)
	}
	e := decodeError(t, slow.body)
	if deref(e.Code) != "request_timeout" || !strings.Contains(e.Message, "BODY_READ_TIMEOUT") {
		t.Fatalf("error %+v", e)
	}
	if n := len(h.fake.Jobs()); n != 1 {
		t.Fatalf("%d jobs reached fal, want only the whole request's", n)
	}
}
