package chat

import (
	"bytes"
	"encoding/json"

	"github.com/falproxy/falproxy/internal/openai"
)

// FalOutput is the result of a fal LLM call and each event of its stream.
// In a stream Output and Reasoning are cumulative: every event carries the
// whole text so far, and Partial is false on the last one.
type FalOutput struct {
	Output    string `json:"output"`
	Reasoning string `json:"reasoning,omitempty"`
	Partial   bool   `json:"partial"`
	// Error is a string, an object or null; see ErrorMessage.
	Error json.RawMessage `json:"error,omitempty"`
	Usage *FalUsage       `json:"usage,omitempty"`
}

// ErrorMessage returns the error fal reported, or "" when there is none
// (error absent, null, false or ""). A string is returned as is; an object
// gives its "message" or "detail" string when it has one, else its JSON
// text, as does any other value.
func (o FalOutput) ErrorMessage() string {
	raw := bytes.TrimSpace(o.Error)
	switch string(raw) {
	case "", "null", "false", `""`:
		return ""
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	case '{':
		var obj struct {
			Message json.RawMessage `json:"message"`
			Detail  json.RawMessage `json:"detail"`
		}
		if json.Unmarshal(raw, &obj) == nil {
			for _, field := range [...]json.RawMessage{obj.Message, obj.Detail} {
				var s string
				if json.Unmarshal(field, &s) == nil && s != "" {
					return s
				}
			}
		}
	}
	return string(raw)
}

// FalUsage is the token usage openrouter/router reports (any-llm reports
// none). Newer fal types name the counts input_tokens and output_tokens;
// UnmarshalJSON reads both spellings.
type FalUsage struct {
	PromptTokens     int     `json:"prompt_tokens"`
	CompletionTokens int     `json:"completion_tokens"`
	TotalTokens      int     `json:"total_tokens"`
	Cost             float64 `json:"cost,omitempty"` // in USD
}

// UnmarshalJSON reads prompt_tokens or input_tokens, completion_tokens or
// output_tokens, and total_tokens (their sum when absent). Counts written
// as JSON floats are accepted and truncated.
func (u *FalUsage) UnmarshalJSON(b []byte) error {
	var w usageCounts
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*u = w.usage()
	return nil
}

// usageCounts are the members of a usage object that FalUsage reads, as
// encoding/json decodes them (nil when absent or null).
type usageCounts struct {
	PromptTokens     *float64 `json:"prompt_tokens"`
	InputTokens      *float64 `json:"input_tokens"`
	CompletionTokens *float64 `json:"completion_tokens"`
	OutputTokens     *float64 `json:"output_tokens"`
	TotalTokens      *float64 `json:"total_tokens"`
	Cost             float64  `json:"cost"`
}

// usage is the FalUsage of the counts.
func (w *usageCounts) usage() FalUsage {
	u := FalUsage{
		PromptTokens:     firstCount(w.PromptTokens, w.InputTokens),
		CompletionTokens: firstCount(w.CompletionTokens, w.OutputTokens),
		Cost:             w.Cost,
	}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	if w.TotalTokens != nil {
		u.TotalTokens = int(*w.TotalTokens)
	}
	return u
}

// firstCount returns the first present count, or 0.
func firstCount(counts ...*float64) int {
	for _, c := range counts {
		if c != nil {
			return int(*c)
		}
	}
	return 0
}

// OpenAI returns u as OpenAI usage; nil for a nil u.
func (u *FalUsage) OpenAI() *openai.Usage {
	if u == nil {
		return nil
	}
	return &openai.Usage{
		PromptTokens:     u.PromptTokens,
		CompletionTokens: u.CompletionTokens,
		TotalTokens:      u.TotalTokens,
	}
}

// Completion turns a finished fal output into a chat completion: one
// assistant choice with the output as content, fal's reasoning as
// reasoning_content, finish_reason "stop", null refusal and logprobs, and
// usage when fal reported it. The caller checks out.ErrorMessage first.
func Completion(id, model string, created int64, out FalOutput) openai.ChatCompletion {
	content := out.Output
	return openai.ChatCompletion{
		ID:      id,
		Object:  "chat.completion",
		Created: created,
		Model:   model,
		Choices: []openai.ChatChoice{{
			Message: openai.ResponseMessage{
				Role:             "assistant",
				Content:          &content,
				ReasoningContent: out.Reasoning,
			},
			FinishReason: "stop",
		}},
		Usage: out.Usage.OpenAI(),
	}
}
