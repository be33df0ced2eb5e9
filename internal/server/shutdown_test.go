package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/falfake"
	"github.com/falproxy/falproxy/internal/server"
)

// shutdownAnswer is what a client in flight at a shutdown received.
type shutdownAnswer struct {
	code int
	hdr  http.Header
	body string
}

// startRequest sends a request on a goroutine. For a stream it returns
// once the answer has begun (its headers arrived), else at once; the whole
// answer arrives on the channel.
func (h *harness) startRequest(path, body string, stream bool) <-chan shutdownAnswer {
	h.t.Helper()
	done := make(chan shutdownAnswer, 1)
	began := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, h.url+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+accessKey)
		resp, err := h.client.Do(req)
		began <- err
		if err != nil {
			done <- shutdownAnswer{}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		done <- shutdownAnswer{resp.StatusCode, resp.Header, string(b)}
	}()
	if stream {
		if err := <-began; err != nil {
			h.t.Fatal(err)
		}
	}
	return done
}

// lastEventData is the data of a stream's last event.
func lastEventData(body string) string {
	i := strings.LastIndex(body, "data: ")
	if i < 0 {
		return ""
	}
	data, _, _ := strings.Cut(body[i+len("data: "):], "\n")
	return data
}

// TestShutdownAnswersClientsInFlight cancels the server's base context as
// serve does when SHUTDOWN_GRACE is over, with requests of every kind in
// flight: those not yet answered get a 503 that advises a retry, streams
// that already started end with an error event, and fal's jobs are
// cancelled and its streams closed.
func TestShutdownAnswersClientsInFlight(t *testing.T) {
	base, shutdown := context.WithCancelCause(context.Background())
	defer shutdown(nil)
	h := newHarness(t, func(s *setup) {
		s.base = base
		s.fake.GenerationTime = time.Minute
		s.fake.TokenDelay = 50 * time.Millisecond
	})
	image := h.startRequest("/v1/images/generations", `{"model":"flux-dev","prompt":"a slow cat"}`, false)
	chat := h.startRequest("/v1/chat/completions", userChat(false, "hi", ""), false)
	imageStream := h.startRequest("/v1/images/generations", `{"model":"flux-dev","prompt":"a slow dog","stream":true}`, true)
	chatStream := h.startRequest("/v1/chat/completions", userChat(true, slowStory, ""), true)
	eventually(t, "fal has the three jobs", func() bool { return len(h.fake.Jobs()) == 3 })

	shutdown(server.ErrShuttingDown)

	for _, ch := range []<-chan shutdownAnswer{image, chat} {
		a := <-ch
		if a.code != http.StatusServiceUnavailable || a.hdr.Get("X-Should-Retry") != "true" || a.hdr.Get("Retry-After") != "2" {
			t.Errorf("status %d, x-should-retry %q, retry-after %q: %s", a.code, a.hdr.Get("X-Should-Retry"), a.hdr.Get("Retry-After"), a.body)
			continue
		}
		if e := decodeError(t, []byte(a.body)); deref(e.Code) != "server_shutting_down" || e.Type != "server_error" {
			t.Errorf("error %+v, want server_error server_shutting_down", e)
		}
	}
	for _, ch := range []<-chan shutdownAnswer{imageStream, chatStream} {
		a := <-ch
		var ev struct {
			Error apiError `json:"error"`
		}
		last := lastEventData(a.body)
		if a.code != http.StatusOK || json.Unmarshal([]byte(last), &ev) != nil || deref(ev.Error.Code) != "server_shutting_down" {
			t.Errorf("stream (status %d) does not end with the shutdown error event: %q", a.code, last)
		}
	}
	// Cancels of abandoned jobs go out in the background.
	eventually(t, "every job is cancelled at fal", func() bool {
		for _, j := range h.fake.Jobs() {
			if !j.Cancelled {
				return false
			}
		}
		return true
	})
	eventually(t, "fal's chat stream is closed", func() bool { return goroutinesIn("falfake.(*Fake).llmStream") == 0 })
}

// TestShutdownDuringSchemaFetch: a request still waiting for a model's
// schema when the grace period ends is told to retry (503), not that fal
// timed out.
func TestShutdownDuringSchemaFetch(t *testing.T) {
	base, shutdown := context.WithCancelCause(context.Background())
	defer shutdown(nil)
	h := newHarness(t, func(s *setup) { s.base = base })
	h.fake.Inject(falfake.Fault{Op: falfake.OpSchema, Delay: time.Minute})
	answer := h.startRequest("/v1/images/generations", `{"model":"flux-dev","prompt":"a cat"}`, false)
	eventually(t, "the schema is being fetched", func() bool { return len(h.fake.Received()) > 0 })
	shutdown(server.ErrShuttingDown)
	a := <-answer
	if e := decodeError(t, []byte(a.body)); a.code != http.StatusServiceUnavailable || deref(e.Code) != "server_shutting_down" {
		t.Fatalf("got %d %s, want 503 server_shutting_down", a.code, a.body)
	}
}
