package server

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/falproxy/falproxy/internal/openai"
	"github.com/falproxy/falproxy/internal/responses"
)

// TestResponsesWriterStream delivers a streamed chat answer to the
// bridge's sink as serveChat does: keep-alive comments pass on as
// comments, the deltas become Responses events, the end the final ones,
// and the completed response is the one to keep.
func TestResponsesWriterStream(t *testing.T) {
	rec := httptest.NewRecorder()
	rw := &responsesWriter{w: rec, req: &responses.Request{Model: "m"}, created: 1}
	out, err := rw.start(streamStart{model: "m"})
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []func() error{
		out.keepAlive,
		func() error { return rw.text("Hel", "") },
		out.keepAlive,
		func() error { return rw.text("lo", "") },
		func() error {
			return rw.end("stop", &openai.Usage{PromptTokens: 1, CompletionTokens: 2, TotalTokens: 3})
		},
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	resp, ok := rw.finished()
	body := rec.Body.String()
	if !ok || resp.Status != "completed" || resp.Output[0].Content[0].Text != "Hello" || resp.Usage.TotalTokens != 3 {
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

// TestResponsesWriterFailure ends a started stream that fails with
// response.failed carrying the error, and keeps nothing.
func TestResponsesWriterFailure(t *testing.T) {
	rec := httptest.NewRecorder()
	rw := &responsesWriter{w: rec, req: &responses.Request{Model: "m"}, created: 1}
	out, _ := rw.start(streamStart{model: "m"})
	_ = rw.text("Hel", "")
	_ = out.failWith([]byte(`{"error":{"message":"fal broke","code":"model_error"}}`))
	body := rec.Body.String()
	if !strings.Contains(body, "event: response.failed\n") || !strings.Contains(body, `"code":"model_error","message":"fal broke"`) {
		t.Errorf("stream:\n%s", body)
	}
	if _, ok := rw.finished(); ok {
		t.Error("a failed response was kept")
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{time.Hour: "1h", 90 * time.Minute: "1h30m", 30 * time.Minute: "30m", 45 * time.Second: "45s", 90 * time.Second: "1m30s"} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
