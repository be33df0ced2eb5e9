package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/ssestream"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/falfake"
)

// userChat is a chat request body with one user message.
func userChat(stream bool, text string, extra string) string {
	return fmt.Sprintf(`{"model":"gpt-4o","stream":%v,"messages":[{"role":"user","content":%q}]%s}`, stream, text, extra)
}

// TestChatMidStreamFailure makes fal fail after a few tokens ("[fail]" in
// the prompt). The Go SDK must end the stream with an error, not a short
// answer, and the raw stream must end with the error event, without [DONE].
func TestChatMidStreamFailure(t *testing.T) {
	const prompt = "tell me a long story [fail] please"
	for _, b := range chatBackends() {
		t.Run(b.name, func(t *testing.T) {
			h := newHarness(t, withBackend(b.name))
			ctx := context.Background()

			stream := h.sdk.Chat.Completions.NewStreaming(ctx, oai.ChatCompletionNewParams{
				Model:    "gpt-4o",
				Messages: []oai.ChatCompletionMessageParamUnion{oai.UserMessage(prompt)},
			})
			var got strings.Builder
			for stream.Next() {
				if c := stream.Current(); len(c.Choices) > 0 {
					got.WriteString(c.Choices[0].Delta.Content)
				}
			}
			var se *ssestream.StreamError
			if err := stream.Err(); !errors.As(err, &se) || !strings.Contains(se.Message, "Runner disconnected") {
				t.Fatalf("stream error %v (%T), want a stream error naming fal's failure; content %q", err, err, got.String())
			}
			stream.Close()
			if !strings.HasPrefix(got.String(), "Hello ") {
				t.Errorf("the tokens before the failure were lost: %q", got.String())
			}

			code, hdr, body := h.post(ctx, "/v1/chat/completions", userChat(true, prompt, ""))
			if code != http.StatusOK || hdr.Get("Content-Type") != "text/event-stream" {
				t.Fatalf("status %d, type %q: %s", code, hdr.Get("Content-Type"), body)
			}
			data := sseData(t, body)
			last := data[len(data)-1]
			if e := decodeError(t, []byte(last)); !strings.Contains(e.Message, "Runner disconnected") {
				t.Errorf("error event %s does not say what failed", last)
			}
			for i, d := range data[:len(data)-1] {
				if d == "[DONE]" || strings.Contains(d, `"error"`) {
					t.Fatalf("event %d before the error event: %s", i, d)
				}
			}
			if c := h.fake.Counts(); c.Streams+c.ChatCompletions != 2 {
				t.Errorf("fal calls %+v: a failed stream must not be retried", c)
			}
		})
	}
}

// TestChatFailureBeforeStream checks failures that happen before the first
// byte: they are ordinary OpenAI error responses, not event streams.
func TestChatFailureBeforeStream(t *testing.T) {
	const anything = "*" // any code or param
	tooHot := `{"detail":[{"loc":["body","temperature"],"msg":"Input should be less than or equal to 2","type":"less_than_equal"}]}`
	tests := []struct {
		name, backend string
		fault         *falfake.Fault
		body          string
		status        int
		code, param   string
		noRetry       bool
	}{
		{"keys rejected", chat.Router.String(), &falfake.Fault{Status: http.StatusUnauthorized}, userChat(true, "hi", ""), http.StatusBadGateway, "fal_auth_failed", "", true},
		{"keys rejected", chat.AnyLLM.String(), &falfake.Fault{Status: http.StatusForbidden}, userChat(false, "hi", ""), http.StatusBadGateway, "fal_auth_failed", "", true},
		{"keys rejected", chat.Passthrough.String(), &falfake.Fault{Status: http.StatusUnauthorized}, userChat(true, "hi", ""), http.StatusBadGateway, "fal_auth_failed", "", true},
		{"keys rate limited", chat.Router.String(), &falfake.Fault{Status: http.StatusTooManyRequests, RetryAfter: "3"}, userChat(true, "hi", ""), http.StatusServiceUnavailable, "fal_rate_limited", "", false},
		{"invalid temperature", chat.Router.String(), nil, userChat(true, "hi", `,"temperature":5`), http.StatusBadRequest, "invalid_value", "temperature", true},
		{"invalid temperature", chat.AnyLLM.String(), nil, userChat(false, "hi", `,"temperature":5`), http.StatusBadRequest, "invalid_value", "temperature", true},
		{"invalid temperature", chat.Passthrough.String(), &falfake.Fault{Op: falfake.OpChat, Status: http.StatusUnprocessableEntity, Body: tooHot}, userChat(true, "hi", `,"temperature":5`), http.StatusBadRequest, anything, "temperature", true},
		{"flagged prompt", chat.Router.String(), nil, userChat(true, "hi [nsfw]", ""), http.StatusBadRequest, "content_policy_violation", "messages", true},
		{"flagged prompt", chat.AnyLLM.String(), nil, userChat(false, "hi [nsfw]", ""), http.StatusBadRequest, "content_policy_violation", "messages", true},
		{"flagged prompt", chat.Passthrough.String(), nil, userChat(true, "hi [nsfw]", ""), http.StatusBadRequest, anything, anything, true},
		{"job failed", chat.Router.String(), nil, userChat(false, "hi [fail]", ""), http.StatusBadGateway, "runner_disconnected", "", false},
		{"job failed", chat.Passthrough.String(), nil, userChat(false, "hi [fail]", ""), http.StatusBadGateway, anything, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+tt.backend, func(t *testing.T) {
			h := newHarness(t, withBackend(tt.backend))
			if tt.fault != nil {
				h.fake.Inject(*tt.fault)
			}
			code, hdr, body := h.post(context.Background(), "/v1/chat/completions", tt.body)
			if code != tt.status || hdr.Get("Content-Type") != "application/json" {
				t.Fatalf("status %d, type %q, want %d JSON: %s", code, hdr.Get("Content-Type"), tt.status, body)
			}
			e := decodeError(t, body)
			if tt.code != anything && deref(e.Code) != tt.code || tt.param != anything && deref(e.Param) != tt.param {
				t.Errorf("code %q, param %q; want %q, %q: %s", deref(e.Code), deref(e.Param), tt.code, tt.param, body)
			}
			if e.Type == "image_generation_user_error" {
				t.Errorf("image error type on the chat route: %s", body)
			}
			if got := hdr.Get("X-Should-Retry") == "false"; got != tt.noRetry {
				t.Errorf("x-should-retry %q, want no-retry %v", hdr.Get("X-Should-Retry"), tt.noRetry)
			}
		})
	}
}

// TestChatSDKSeesFailureBeforeStream checks that the Go SDK reports an error
// before the stream as a typed API error with fal's cause.
func TestChatSDKSeesFailureBeforeStream(t *testing.T) {
	h := newHarness(t)
	h.fake.Inject(falfake.Fault{Status: http.StatusUnauthorized})
	stream := h.sdk.Chat.Completions.NewStreaming(context.Background(), oai.ChatCompletionNewParams{
		Model:    "gpt-4o",
		Messages: []oai.ChatCompletionMessageParamUnion{oai.UserMessage("hi")},
	})
	defer stream.Close()
	if stream.Next() {
		t.Fatalf("got a chunk: %s", stream.Current().RawJSON())
	}
	var apiErr *oai.Error
	if !errors.As(stream.Err(), &apiErr) || apiErr.StatusCode != http.StatusBadGateway || apiErr.Code != "fal_auth_failed" {
		t.Fatalf("stream error %v, want a 502 fal_auth_failed API error", stream.Err())
	}
	if n := h.fake.Counts().Rejected; n != 2 {
		t.Errorf("fal rejected %d calls, want one per key", n)
	}
}

// TestChatStreamTimeout lets the request timeout expire in the middle of a
// stream. The client is still there, so the stream must end with an error
// event, not stop short as if the answer were complete.
func TestChatStreamTimeout(t *testing.T) {
	for _, b := range chatBackends() {
		t.Run(b.name, func(t *testing.T) {
			h := newHarness(t, withBackend(b.name), func(s *setup) {
				s.fake.TokenDelay = 50 * time.Millisecond
				s.server.RequestTimeout = 300 * time.Millisecond
			})
			code, _, body := h.post(context.Background(), "/v1/chat/completions", userChat(true, slowStory, ""))
			if code != http.StatusOK {
				t.Fatalf("status %d: %s", code, body)
			}
			data := sseData(t, body)
			e := decodeError(t, []byte(data[len(data)-1]))
			if deref(e.Code) != "timeout" {
				t.Errorf("stream ended with %s, want a timeout error event", data[len(data)-1])
			}
			eventually(t, "fal's stream is closed", func() bool {
				return goroutinesIn("falfake.(*Fake).llmStream")+goroutinesIn("falfake.chatRun.stream") == 0
			})
		})
	}
}

// TestChatTimeoutBeforeAnswer lets the request timeout expire before fal
// answers at all: the client gets a 504, whichever way it asked.
func TestChatTimeoutBeforeAnswer(t *testing.T) {
	for _, b := range chatBackends() {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/stream=%v", b.name, stream), func(t *testing.T) {
				h := newHarness(t, withBackend(b.name), func(s *setup) {
					s.fake.GenerationTime = 30 * time.Second
					s.server.RequestTimeout = 300 * time.Millisecond
				})
				if stream {
					// fal holds back the stream's headers.
					h.fake.Inject(falfake.Fault{Op: falfake.OpLLMStream, Delay: 30 * time.Second})
					h.fake.Inject(falfake.Fault{Op: falfake.OpChat, Delay: 30 * time.Second})
				}
				code, hdr, body := h.post(context.Background(), "/v1/chat/completions", userChat(stream, "hi", ""))
				if code != http.StatusGatewayTimeout || hdr.Get("Content-Type") != "application/json" {
					t.Fatalf("status %d, type %q: %s", code, hdr.Get("Content-Type"), body)
				}
				if e := decodeError(t, body); deref(e.Code) != "timeout" || e.Type != "timeout_error" {
					t.Errorf("error %+v, want a timeout", e)
				}
			})
		}
	}
}

// TestChatSyncFailureIsNotRepeated: a synchronous fal call that fails with
// a 5xx may have run the model, so it is reported, not sent again.
func TestChatSyncFailureIsNotRepeated(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.server.ChatBackend = chat.Passthrough })
	code, _, body := h.post(context.Background(), "/v1/chat/completions",
		`{"model":"gpt-4o","messages":[{"role":"user","content":"[fail] hi"}]}`)
	if code < 500 {
		t.Fatalf("status %d: %s", code, body)
	}
	decodeError(t, body)
	if n := h.fake.Counts().ChatCompletions; n != 1 {
		t.Fatalf("%d calls to fal for one failed synchronous request", n)
	}
}
