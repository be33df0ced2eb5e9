package chat

import (
	"encoding/json"
	"testing"

	"github.com/falproxy/falproxy/internal/openai"
)

func TestPassthroughStreamEvents(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"model renamed, reasoning moved",
			`{"id":"c1","created":5,"model":"openai/gpt-4o","choices":[{"index":0,"delta":{"reasoning":"hmm"}}]}`,
			`{"choices":[{"delta":{"reasoning_content":"hmm"},"index":0}],"created":5,"id":"c1","model":"gpt-4o"}`},
		{"null reasoning left alone",
			`{"model":"x","choices":[{"delta":{"content":"hi","reasoning":null}}]}`,
			`{"choices":[{"delta":{"content":"hi","reasoning":null}}],"model":"gpt-4o"}`},
		{"reasoning_content wins",
			`{"model":"x","choices":[{"delta":{"reasoning":"a","reasoning_content":"b"}}]}`,
			`{"choices":[{"delta":{"reasoning":"a","reasoning_content":"b"}}],"model":"gpt-4o"}`},
		{"zero usage estimated",
			`{"model":"x","choices":[],"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}}`,
			`{"choices":[],"model":"gpt-4o","usage":{"prompt_tokens":3,"completion_tokens":0,"total_tokens":3}}`},
		{"not an object", `"odd"`, `"odd"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPassthroughStream("gpt-4o", true, 10)
			if got := string(event(p.Event([]byte(tt.in)))); got != "data: "+tt.want+"\n\n" {
				t.Errorf("got  %s\nwant data: %s", got, tt.want)
			}
		})
	}
}

func TestPassthroughStreamAddsUsageChunk(t *testing.T) {
	p := NewPassthroughStream("gpt-4o", true, 9)
	p.Event([]byte(`{"id":"c1","created":5,"model":"x","choices":[{"delta":{"content":"héllo"}}]}`))
	want := `data: {"id":"c1","object":"chat.completion.chunk","created":5,"model":"gpt-4o","choices":[],` +
		`"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}` + "\n\n" + DoneEvent
	if got := string(ended(p.End())); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	p = NewPassthroughStream("gpt-4o", true, 9)
	p.Event([]byte(`{"model":"x","choices":[],"usage":{"prompt_tokens":4,"completion_tokens":1}}`))
	if got := string(ended(p.End())); got != DoneEvent {
		t.Errorf("a second usage chunk after fal's: %s", got)
	}
}

func TestPassthroughBodyKeepsOnlyOpenAIFields(t *testing.T) {
	var fields map[string]json.RawMessage
	_ = json.Unmarshal([]byte(`{"model":"a","messages":[],"models":["b"],"provider":{},"reasoning":true}`), &fields)
	body, dropped, err := PassthroughBody(fields, "org/a")
	if err != nil {
		t.Fatal(err)
	}
	if string(body) != `{"messages":[],"model":"org/a","reasoning_effort":"medium"}` || len(dropped) != 3 ||
		dropped[0] != "models" || dropped[1] != "provider" || dropped[2] != "reasoning" {
		t.Errorf("body %s, dropped %v", body, dropped)
	}
}

// TestPassthroughStreamStreamed estimates the usage of a stream left
// midway from the prompt and the content and reasoning sent; whether fal's
// usage was charged instead is the server's to know.
func TestPassthroughStreamStreamed(t *testing.T) {
	p := NewPassthroughStream("gpt-4o", false, 9)
	p.Event([]byte(`{"model":"x","choices":[{"delta":{"reasoning":"hmm","content":"héllo"}}]}`))
	p.Event([]byte(`{"model":"x","choices":[],"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}}`))
	if u := p.Streamed(); u == nil || *u != (openai.Usage{PromptTokens: 3, CompletionTokens: 2, TotalTokens: 5}) {
		t.Errorf("streamed %+v, want 3 prompt and 2 completion tokens", u)
	}
}
