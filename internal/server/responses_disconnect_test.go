package server_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestResponsesClientDisconnect cancels a Responses client while fal
// works, whole and streamed, through the bridge: the fal job is cancelled
// as for chat, and falproxy writes nothing to the gone client (no handler
// panic on an answer that never started).
func TestResponsesClientDisconnect(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "whole", true: "streamed"}[stream], func(t *testing.T) {
			h := newHarness(t, func(s *setup) {
				s.fake.GenerationTime = 30 * time.Second
				s.fake.TokenDelay = 50 * time.Millisecond
			})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			body := `{"model":"gpt-4o","input":"` + slowStory + `","stream":` + map[bool]string{false: "false", true: "true"}[stream] + `}`
			go func() {
				defer close(done)
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.url+"/v1/responses", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+accessKey)
				if resp, err := h.client.Do(req); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body) // until the request is cancelled
					resp.Body.Close()
				}
			}()
			if stream {
				eventually(t, "fal streams", func() bool { return goroutinesIn("falfake.(*Fake).llmStream") == 1 })
			} else {
				eventually(t, "fal has the job", func() bool { return len(h.fake.Jobs()) == 1 })
			}
			cancel()
			<-done
			if stream {
				eventually(t, "fal's stream is closed", func() bool { return goroutinesIn("falfake.(*Fake).llmStream") == 0 })
			} else {
				eventually(t, "the job is cancelled at fal", func() bool { return h.fake.Jobs()[0].Cancelled })
			}
			eventually(t, "the request is logged", func() bool { return strings.Contains(h.logText(), "path=/v1/responses") })
			if logs := h.logText(); strings.Contains(logs, "handler panic") {
				t.Errorf("the handler panicked:\n%s", logs)
			}
		})
	}
}
