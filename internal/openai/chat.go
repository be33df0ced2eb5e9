package openai

import (
	"bytes"
	"encoding/json"
	"errors"
)

// ChatRequest is the body of POST /v1/chat/completions, reduced to what the
// proxy reads. Its top-level fields are kept raw for the OpenAI-compatible
// passthrough backend, which forwards the OpenAI ones.
type ChatRequest struct {
	Model               string         `json:"model"`
	Messages            []Message      `json:"messages"`
	Stream              bool           `json:"stream,omitempty"`
	StreamOptions       *StreamOptions `json:"stream_options,omitempty"`
	Temperature         *float64       `json:"temperature,omitempty"`
	MaxTokens           *int           `json:"max_tokens,omitempty"`
	MaxCompletionTokens *int           `json:"max_completion_tokens,omitempty"`
	N                   *int           `json:"n,omitempty"`
	// Reasoning is the seed proxy's boolean switch; ReasoningEffort is
	// OpenAI's. Either one turns fal's reasoning on.
	Reasoning       *bool  `json:"reasoning,omitempty"`
	ReasoningEffort string `json:"reasoning_effort,omitempty"`

	// Fields are the body's top-level fields, raw, as DecodeChat read
	// them: the passthrough backend forwards them.
	Fields map[string]json.RawMessage `json:"-"`
}

// StreamOptions is chat's stream_options.
type StreamOptions struct {
	IncludeUsage bool `json:"include_usage,omitempty"`
}

// Message is one chat message of any role.
type Message struct {
	Role       string     `json:"role"`
	Content    Content    `json:"content"`
	Name       string     `json:"name,omitempty"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
}

// ToolCall is an assistant's call of a function tool.
type ToolCall struct {
	ID       string       `json:"id,omitempty"`
	Type     string       `json:"type,omitempty"`
	Function FunctionCall `json:"function"`
}

// FunctionCall names the function and carries its JSON arguments as text.
type FunctionCall struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments,omitempty"`
}

// Content is a message's content: a plain string, an array of parts, or
// null. Exactly one form is set after decoding.
type Content = TextOrParts[ContentPart]

// TextOrParts is content that OpenAI's APIs take as a plain string, an
// array of parts of type P, or null: chat messages, and the items of the
// Responses API with their own parts.
type TextOrParts[P any] struct {
	Text  string
	Parts []P
	// IsParts tells an empty parts array from an empty string.
	IsParts bool
}

// ContentPart is one element of array content.
type ContentPart struct {
	Type     string    `json:"type"`
	Text     string    `json:"text,omitempty"`
	ImageURL *ImageURL `json:"image_url,omitempty"`
}

// ImageURL is an image_url part. Some clients (and fal's own docs) send the
// URL as a bare string instead of an object; both are accepted.
type ImageURL struct {
	URL    string `json:"url"`
	Detail string `json:"detail,omitempty"`
}

// UnmarshalJSON accepts {"url":...} and a bare string.
func (u *ImageURL) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &u.URL)
	}
	type plain ImageURL
	return json.Unmarshal(b, (*plain)(u))
}

var errContentType = errors.New("content must be a string, an array of content parts, or null")

// UnmarshalJSON accepts a string, an array of parts, or null.
func (c *TextOrParts[P]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*c = TextOrParts[P]{}
		return nil
	case len(b) > 0 && b[0] == '"':
		*c = TextOrParts[P]{}
		if s, ok := PlainString(b); ok { // most content: no decoder needed
			c.Text = s
			return nil
		}
		return json.Unmarshal(b, &c.Text)
	case len(b) > 0 && b[0] == '[':
		*c = TextOrParts[P]{IsParts: true}
		return json.Unmarshal(b, &c.Parts)
	}
	return errContentType
}

// IsZero reports an empty string, so that omitzero leaves it out.
func (c TextOrParts[P]) IsZero() bool { return !c.IsParts && c.Text == "" }

// MarshalJSON writes the form that was decoded.
func (c TextOrParts[P]) MarshalJSON() ([]byte, error) {
	if c.IsParts {
		return json.Marshal(c.Parts)
	}
	return json.Marshal(c.Text)
}

// ChatCompletion is a non-streaming chat answer.
type ChatCompletion struct {
	ID      string       `json:"id"`
	Object  string       `json:"object"` // "chat.completion"
	Created int64        `json:"created"`
	Model   string       `json:"model"`
	Choices []ChatChoice `json:"choices"`
	Usage   *Usage       `json:"usage,omitempty"`
}

// ChatChoice is one choice of a ChatCompletion.
type ChatChoice struct {
	Index        int             `json:"index"`
	Message      ResponseMessage `json:"message"`
	Logprobs     *struct{}       `json:"logprobs"`      // always null
	FinishReason string          `json:"finish_reason"` // stop, length, ...
}

// ResponseMessage is the assistant message of a completion. Refusal is
// always present (null) because the SDKs' schema requires the key.
type ResponseMessage struct {
	Role             string  `json:"role"`
	Content          *string `json:"content"`
	Refusal          *string `json:"refusal"`
	ReasoningContent string  `json:"reasoning_content,omitempty"`
}

// Usage counts tokens.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// ChatChunk is one streaming event. It never has an "error" key: the Go
// SDK ends a stream on any chunk carrying one, even a null.
type ChatChunk struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"` // "chat.completion.chunk"
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []ChunkChoice `json:"choices"`
	Usage   *Usage        `json:"usage,omitempty"`
}

// ChunkChoice is one choice of a chunk; FinishReason is null until the end.
type ChunkChoice struct {
	Index        int       `json:"index"`
	Delta        Delta     `json:"delta"`
	Logprobs     *struct{} `json:"logprobs"`
	FinishReason *string   `json:"finish_reason"`
}

// Delta is the increment a chunk carries.
type Delta struct {
	Role             string  `json:"role,omitempty"`
	Content          *string `json:"content,omitempty"`
	ReasoningContent string  `json:"reasoning_content,omitempty"`
}
