package chat

import (
	"encoding/json"
	"reflect"
	"testing"

	sdk "github.com/openai/openai-go/v3"

	"github.com/falproxy/falproxy/internal/openai"
)

func TestErrorMessage(t *testing.T) {
	tests := []struct {
		body string
		want string
	}{
		{`{"output":"x"}`, ""},
		{`{"output":"x","error":null}`, ""},
		{`{"output":"x","error":""}`, ""},
		{`{"output":"x","error":false}`, ""},
		{`{"output":"","error":"model overloaded"}`, "model overloaded"},
		{`{"output":"","error":{"message":"bad key","code":401}}`, "bad key"},
		{`{"output":"","error":{"detail":"not allowed"}}`, "not allowed"},
		{`{"output":"","error":{"code":500}}`, `{"code":500}`},
		{`{"output":"","error":[{"msg":"field required"}]}`, `[{"msg":"field required"}]`},
		{`{"output":"","error":true}`, "true"},
	}
	for _, tt := range tests {
		var out FalOutput
		if err := json.Unmarshal([]byte(tt.body), &out); err != nil {
			t.Fatalf("decoding %s: %v", tt.body, err)
		}
		if got := out.ErrorMessage(); got != tt.want {
			t.Errorf("ErrorMessage of %s = %q, want %q", tt.body, got, tt.want)
		}
	}
}

func TestFalUsageDecoding(t *testing.T) {
	tests := []struct {
		body string
		want *FalUsage
	}{
		{`{"output":"x"}`, nil},
		{`{"output":"x","usage":{"total_tokens":267,"cost":0.0005795,"prompt_tokens":40,"completion_tokens":227}}`,
			&FalUsage{PromptTokens: 40, CompletionTokens: 227, TotalTokens: 267, Cost: 0.0005795}},
		{`{"output":"x","usage":{"input_tokens":12,"output_tokens":30,"ttft_ms":120}}`,
			&FalUsage{PromptTokens: 12, CompletionTokens: 30, TotalTokens: 42}},
		{`{"output":"x","usage":{"prompt_tokens":5.0,"completion_tokens":7}}`,
			&FalUsage{PromptTokens: 5, CompletionTokens: 7, TotalTokens: 12}},
		{`{"output":"x","usage":{"prompt_tokens":5,"input_tokens":9,"total_tokens":20}}`,
			&FalUsage{PromptTokens: 5, TotalTokens: 20}},
	}
	for _, tt := range tests {
		var out FalOutput
		if err := json.Unmarshal([]byte(tt.body), &out); err != nil {
			t.Fatalf("decoding %s: %v", tt.body, err)
		}
		if !reflect.DeepEqual(out.Usage, tt.want) {
			t.Errorf("usage of %s = %+v, want %+v", tt.body, out.Usage, tt.want)
		}
	}
	var out FalOutput
	if err := json.Unmarshal([]byte(`{"output":"x","usage":{"prompt_tokens":"many"}}`), &out); err == nil {
		t.Errorf("a string token count decoded without error")
	}
}

func TestFalUsageOpenAI(t *testing.T) {
	var none *FalUsage
	if none.OpenAI() != nil {
		t.Errorf("nil usage did not map to nil")
	}
	u := &FalUsage{PromptTokens: 1, CompletionTokens: 2, TotalTokens: 3, Cost: 1}
	if got, want := u.OpenAI(), (&openai.Usage{PromptTokens: 1, CompletionTokens: 2, TotalTokens: 3}); !reflect.DeepEqual(got, want) {
		t.Errorf("OpenAI() = %+v, want %+v", got, want)
	}
}

func TestCompletionWire(t *testing.T) {
	tests := []struct {
		name string
		out  FalOutput
		want string
	}{
		{
			name: "plain output",
			out:  FalOutput{Output: "Hello!"},
			want: `{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"m","choices":[` +
				`{"index":0,"message":{"role":"assistant","content":"Hello!","refusal":null},"logprobs":null,"finish_reason":"stop"}]}`,
		},
		{
			name: "empty output is an empty string, not null",
			out:  FalOutput{},
			want: `{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"m","choices":[` +
				`{"index":0,"message":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":"stop"}]}`,
		},
		{
			name: "reasoning and usage",
			out:  FalOutput{Output: "42", Reasoning: "think", Usage: &FalUsage{PromptTokens: 3, CompletionTokens: 4, TotalTokens: 7, Cost: 0.1}},
			want: `{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"m","choices":[` +
				`{"index":0,"message":{"role":"assistant","content":"42","refusal":null,"reasoning_content":"think"},"logprobs":null,"finish_reason":"stop"}],` +
				`"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(Completion("chatcmpl-1", "m", 1700000000, tt.out))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("wire:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestCompletionSDK decodes a completion with the official Go SDK's type.
func TestCompletionSDK(t *testing.T) {
	out := FalOutput{Output: "Bonjour", Reasoning: "French", Usage: &FalUsage{PromptTokens: 2, CompletionTokens: 3, TotalTokens: 5}}
	body, err := json.Marshal(Completion("chatcmpl-x", "google/gemini-2.5-flash", 1700000001, out))
	if err != nil {
		t.Fatal(err)
	}
	var c sdk.ChatCompletion
	if err := json.Unmarshal(body, &c); err != nil {
		t.Fatalf("SDK decode: %v", err)
	}
	if c.ID != "chatcmpl-x" || c.Model != "google/gemini-2.5-flash" || c.Created != 1700000001 || len(c.Choices) != 1 {
		t.Fatalf("SDK completion = %+v", c)
	}
	ch := c.Choices[0]
	if ch.Message.Content != "Bonjour" || ch.FinishReason != "stop" || string(ch.Message.Role) != "assistant" {
		t.Errorf("SDK choice = %+v", ch)
	}
	if ch.Message.JSON.Refusal.Raw() != "null" {
		t.Errorf("refusal is not present as null: %q", ch.Message.JSON.Refusal.Raw())
	}
	if got := ch.Message.JSON.ExtraFields["reasoning_content"].Raw(); got != `"French"` {
		t.Errorf("reasoning_content = %s", got)
	}
	if c.Usage.TotalTokens != 5 || c.Usage.PromptTokens != 2 || c.Usage.CompletionTokens != 3 {
		t.Errorf("usage = %+v", c.Usage)
	}
}
