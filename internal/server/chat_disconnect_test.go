package server_test

import (
	"context"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	oai "github.com/openai/openai-go/v3"

	"github.com/falproxy/falproxy/internal/chat"
)

// goroutinesIn counts the goroutines that are running fn, a function name
// as stack traces print it (e.g. "falfake.chatRun.stream"). The emulator
// records requests when they arrive but not when they end, so whether fal
// still serves a stream is read from its handler's goroutine: the handler
// returns only once its client, falproxy, has closed the connection (or the
// answer is complete).
func goroutinesIn(fn string) int {
	count := 0
	for _, g := range goroutineStacks() {
		if strings.Contains(g, fn+"(") {
			count++
		}
	}
	return count
}

// goroutineStacks returns the stack trace of every goroutine.
func goroutineStacks() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Split(string(buf[:n]), "\n\n")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// slowStory is a prompt whose answer, with the emulator's "[slow]" trigger
// and a 50 ms token delay, takes about 25 s to stream: far longer than
// eventually waits, so a stream that ends within that bound was cut, not
// finished.
const slowStory = "[slow] tell me the whole story of the lighthouse keeper who counted every wave " +
	"that broke on the rocks below the tower through forty winters and never missed one night"

// TestChatClientDisconnectClosesStream cancels a streaming client after the
// first chunk: falproxy must close fal's stream (the emulator's handler
// ends) and its own relay goroutines, without a second fal call.
func TestChatClientDisconnectClosesStream(t *testing.T) {
	tests := []struct {
		backend  string
		upstream string // the emulator's stream handler
	}{
		{chat.Router.String(), "falfake.(*Fake).llmStream"},
		{chat.AnyLLM.String(), "falfake.(*Fake).llmStream"},
		{chat.Passthrough.String(), "falfake.chatRun.stream"},
	}
	for _, tt := range tests {
		t.Run(tt.backend, func(t *testing.T) {
			h := newHarness(t, withBackend(tt.backend), func(s *setup) { s.fake.TokenDelay = 50 * time.Millisecond })
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stream := h.sdk.Chat.Completions.NewStreaming(ctx, oai.ChatCompletionNewParams{
				Model:    "gpt-4o",
				Messages: []oai.ChatCompletionMessageParamUnion{oai.UserMessage(slowStory)},
			})
			defer stream.Close()
			if !stream.Next() {
				t.Fatalf("no first chunk: %v", stream.Err())
			}
			if n := goroutinesIn(tt.upstream); n != 1 {
				t.Fatalf("%d emulator streams running after the first chunk, want 1", n)
			}

			cancel()
			for stream.Next() {
			}
			if stream.Err() == nil {
				t.Fatal("a cancelled stream ended without an error")
			}
			eventually(t, "fal's stream is closed", func() bool { return goroutinesIn(tt.upstream) == 0 })
			eventually(t, "falproxy's relay ends", func() bool {
				return goroutinesIn("server.pumpEvents.func1") == 0 && goroutinesIn("server.(*Server).handleChat") == 0
			})
			if c := h.fake.Counts(); c.Streams+c.ChatCompletions != 1 || c.Submits != 0 {
				t.Errorf("fal calls %+v, want the one stream", c)
			}
		})
	}
}

// TestChatClientDisconnectBeforeAnswer cancels a non-streaming client while
// fal works: the folded backends run through the queue, so the job is
// cancelled; the passthrough's synchronous call is cut.
func TestChatClientDisconnectBeforeAnswer(t *testing.T) {
	for _, b := range chatBackends() {
		t.Run(b.name, func(t *testing.T) {
			h := newHarness(t, withBackend(b.name), func(s *setup) { s.fake.GenerationTime = 30 * time.Second })
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				defer close(done)
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.url+"/v1/chat/completions", strings.NewReader(userChat(false, "hi", "")))
				req.Header.Set("Authorization", "Bearer "+accessKey)
				if resp, err := h.client.Do(req); err == nil {
					resp.Body.Close()
				}
			}()
			if b.passthrough() {
				eventually(t, "fal has the call", func() bool { return goroutinesIn("falfake.(*Fake).chat") == 1 })
			} else {
				eventually(t, "fal has the job", func() bool { return len(h.fake.Jobs()) == 1 })
			}
			cancel()
			<-done
			if b.passthrough() {
				eventually(t, "fal's call is cut", func() bool { return goroutinesIn("falfake.(*Fake).chat") == 0 })
			} else {
				eventually(t, "the job is cancelled at fal", func() bool { return h.fake.Jobs()[0].Cancelled })
			}
		})
	}
}
