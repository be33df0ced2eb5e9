package main

import (
	"context"
	"net/http"
	"testing"

	"github.com/falproxy/falproxy/internal/falfake"
)

// TestServeChatEndpoint checks that CHAT_ENDPOINT, in any letter case,
// reaches the server as the backend that serves chat: fal receives the
// chat call at that app.
func TestServeChatEndpoint(t *testing.T) {
	tests := []struct {
		value    string
		op       falfake.Op
		endpoint string
	}{
		{"OpenRouter/Router", falfake.OpSubmit, "openrouter/router"},
		{"fal-ai/any-llm", falfake.OpSubmit, "fal-ai/any-llm"},
		{"openrouter/router/openai/V1", falfake.OpChat, ""},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			fake, err := falfake.New(falfake.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer fake.Close()
			r := startRun(t, []string{"serve"}, fakeEnv(fake, map[string]string{"CHAT_ENDPOINT": tt.value}))
			if code, body, err := r.chat(context.Background(), "sk-access-key-one"); err != nil || code != http.StatusOK {
				t.Fatalf("chat: %d %s %v", code, body, err)
			}
			var calls []falfake.Call
			for _, c := range fake.Received() {
				if c.Op == falfake.OpSubmit || c.Op == falfake.OpChat {
					calls = append(calls, c)
				}
			}
			if len(calls) != 1 || calls[0].Op != tt.op || tt.endpoint != "" && calls[0].Endpoint != tt.endpoint {
				t.Fatalf("fal received %+v, want one %s call at %q", calls, tt.op, tt.endpoint)
			}
		})
	}
}
