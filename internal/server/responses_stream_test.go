package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/responses"
)

// TestResponsesRelayFrames writes a chat stream to the relay in pieces
// that cut events and lines: keep-alive comments pass on as comments, the
// chunks become Responses events, [DONE] the final ones, and the relay
// keeps the completed response.
func TestResponsesRelayFrames(t *testing.T) {
	rec := httptest.NewRecorder()
	rr := newResponsesRelay(rec, responses.NewStream(&responses.Request{Model: "m"}, 1, responses.NativeTools))
	rr.Header().Set("Content-Type", "text/event-stream")
	rr.WriteHeader(http.StatusOK)
	chat := ": keep-alive\n\n" +
		`data: {"choices":[{"delta":{"content":"Hel"}}]}` + "\n\n" +
		": keep-alive\n\n" +
		`data: {"choices":[{"delta":{"content":"lo"},"finish_reason":"stop"}]}` + "\n\n" +
		"data: [DONE]\n\n"
	for len(chat) > 0 {
		n := min(7, len(chat))
		if _, err := rr.Write([]byte(chat[:n])); err != nil {
			t.Fatal(err)
		}
		chat = chat[n:]
	}
	resp, ok := rr.end(context.Background())
	body := rec.Body.String()
	if !ok || resp.Status != "completed" || resp.Output[0].Content[0].Text != "Hello" {
		t.Fatalf("response %+v (kept %v)", resp, ok)
	}
	if strings.Count(body, ": keep-alive\n\n") != 2 || strings.Contains(body, "[DONE]") ||
		!strings.HasSuffix(body, "\n\n") || !strings.Contains(body, "event: response.completed\n") {
		t.Errorf("stream:\n%s", body)
	}
	if rec.Header().Get("Content-Type") != "text/event-stream" {
		t.Errorf("content type %q", rec.Header().Get("Content-Type"))
	}
}

// TestResponsesRelayError passes an error written before the stream on
// whole, with its retry advice and the param renamed to the Responses
// field.
func TestResponsesRelayError(t *testing.T) {
	rec := httptest.NewRecorder()
	rr := newResponsesRelay(rec, responses.NewStream(&responses.Request{Model: "m"}, 1, responses.NativeTools))
	rr.Header().Set("Content-Type", "application/json")
	rr.Header().Set("Retry-After", "3")
	rr.WriteHeader(http.StatusBadRequest)
	_, _ = rr.Write([]byte(`{"error":{"message":"too long","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}`))
	if _, ok := rr.end(context.Background()); ok {
		t.Error("an error was kept as a response")
	}
	if rec.Code != http.StatusBadRequest || rec.Header().Get("Retry-After") != "3" || !strings.Contains(rec.Body.String(), `"param":"input"`) {
		t.Errorf("%d %v %s", rec.Code, rec.Header(), rec.Body.String())
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{time.Hour: "1h", 90 * time.Minute: "1h30m", 30 * time.Minute: "30m", 45 * time.Second: "45s", 90 * time.Second: "1m30s"} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
