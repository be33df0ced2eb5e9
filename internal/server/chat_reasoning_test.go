package server_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/respjson"

	"github.com/falproxy/falproxy/internal/falfake"
)

// extraString decodes an extra (non-OpenAI) string field such as
// reasoning_content; ok is false when the field is absent or null. The SDK
// keeps such fields raw (Valid is always false for them, as it has no type
// to check them against).
func extraString(t *testing.T, f respjson.Field) (string, bool) {
	t.Helper()
	if f.Raw() == respjson.Omitted || f.Raw() == respjson.Null {
		return "", false
	}
	var s string
	if err := json.Unmarshal([]byte(f.Raw()), &s); err != nil {
		t.Fatalf("reasoning_content is not a string: %s", f.Raw())
	}
	return s, true
}

// TestChatReasoning checks both ways a client asks for reasoning (the seed's
// boolean and OpenAI's reasoning_effort) on the folded backends: fal gets
// reasoning: true, and the answer carries reasoning_content, whole and
// streamed. TestPassthroughReasoningFlag and TestPassthroughAnswerRewritten
// cover the passthrough.
func TestChatReasoning(t *testing.T) {
	tests := []struct {
		name   string
		effort oai.ReasoningEffort
		opts   []option.RequestOption
		want   bool
	}{
		{name: "seed reasoning true", opts: []option.RequestOption{option.WithJSONSet("reasoning", true)}, want: true},
		{name: "reasoning_effort high", effort: oai.ReasoningEffortHigh, want: true},
		{name: "reasoning_effort none", effort: oai.ReasoningEffortNone, want: false},
		{name: "seed reasoning false", opts: []option.RequestOption{option.WithJSONSet("reasoning", false)}, want: false},
	}
	for _, b := range foldedBackends() {
		for _, tt := range tests {
			t.Run(b.name+"/"+tt.name, func(t *testing.T) {
				h := newHarness(t, withBackend(b.name))
				ctx := context.Background()
				params := oai.ChatCompletionNewParams{
					Model:           "gpt-4o",
					Messages:        []oai.ChatCompletionMessageParamUnion{oai.UserMessage("why is the sea salty")},
					ReasoningEffort: tt.effort,
				}
				res, err := h.sdk.Chat.Completions.New(ctx, params, tt.opts...)
				if err != nil {
					t.Fatal(err)
				}
				msg := res.Choices[0].Message
				reasoning, ok := extraString(t, msg.JSON.ExtraFields["reasoning_content"])
				if ok != tt.want || tt.want && !strings.HasPrefix(reasoning, "The message has") {
					t.Fatalf("reasoning_content %q (present %v), want present %v: %s", reasoning, ok, tt.want, res.RawJSON())
				}

				stream := h.sdk.Chat.Completions.NewStreaming(ctx, params, tt.opts...)
				var content, streamed strings.Builder
				for stream.Next() {
					c := stream.Current()
					if len(c.Choices) == 0 {
						continue
					}
					content.WriteString(c.Choices[0].Delta.Content)
					if s, ok := extraString(t, c.Choices[0].Delta.JSON.ExtraFields["reasoning_content"]); ok {
						streamed.WriteString(s)
					}
				}
				if err := stream.Err(); err != nil {
					t.Fatal(err)
				}
				stream.Close()
				if streamed.String() != reasoning || content.String() != msg.Content {
					t.Errorf("stream gave reasoning %q and content %q; completion gave %q and %q",
						streamed.String(), content.String(), reasoning, msg.Content)
				}

				for _, op := range []falfake.Op{falfake.OpSubmit, falfake.OpLLMStream} {
					in := decodeJSON(t, h.onlyFalCall(op).Body)
					if v, sent := in["reasoning"]; sent != tt.want || sent && v != true {
						t.Errorf("fal %s input %v: reasoning sent %v, want %v", op, in, sent, tt.want)
					}
				}
			})
		}
	}
}
