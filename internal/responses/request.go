package responses

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/falproxy/falproxy/internal/openai"
)

// Request is the body of POST /v1/responses, reduced to what falproxy reads.
type Request struct {
	Model              string          `json:"model"`
	Input              Input           `json:"input"`
	Instructions       string          `json:"instructions,omitempty"`
	Stream             bool            `json:"stream,omitempty"`
	MaxOutputTokens    *int            `json:"max_output_tokens,omitempty"`
	Temperature        *float64        `json:"temperature,omitempty"`
	TopP               *float64        `json:"top_p,omitempty"`
	Tools              []Tool          `json:"tools,omitempty"`
	ToolChoice         json.RawMessage `json:"tool_choice,omitempty"`
	ParallelToolCalls  *bool           `json:"parallel_tool_calls,omitempty"`
	Reasoning          *Reasoning      `json:"reasoning,omitempty"`
	Text               *TextConfig     `json:"text,omitempty"`
	Store              *bool           `json:"store,omitempty"`
	Metadata           json.RawMessage `json:"metadata,omitempty"`
	User               string          `json:"user,omitempty"`
	PreviousResponseID string          `json:"previous_response_id,omitempty"`

	// Fields are the body's top-level fields as sent, for the passthrough
	// to choose what it forwards.
	Fields map[string]json.RawMessage `json:"-"`
}

// ToolMode is how the chat backend a request is bridged to takes function
// tools.
type ToolMode int

const (
	// NativeTools: the backend takes chat's tools and answers tool_calls.
	NativeTools ToolMode = iota
	// TextTools: the backend takes a prompt only (it folds the
	// conversation): the tools are declared in the prompt and the calls
	// read from the answer's text.
	TextTools
)

// Stored reports whether the response is to be kept: store defaults to
// true, as at OpenAI.
func (r *Request) Stored() bool { return r.Store == nil || *r.Store }

// Reasoning is the request's reasoning configuration.
type Reasoning struct {
	Effort  string `json:"effort,omitempty"`
	Summary string `json:"summary,omitempty"`
}

// TextConfig is the request's text configuration; only format is read.
type TextConfig struct {
	Format *TextFormat `json:"format,omitempty"`
}

// TextFormat is text.format: "text", "json_object", or "json_schema"
// with its schema flattened into the object.
type TextFormat struct {
	Type        string          `json:"type"`
	Name        string          `json:"name,omitempty"`
	Description string          `json:"description,omitempty"`
	Schema      json.RawMessage `json:"schema,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

// Tool is one entry of tools. Only function tools are served; the
// function's fields sit at the top level, not under "function" as in chat.
type Tool struct {
	Type string `json:"type"`
	Function
}

// Function is a function tool's definition.
type Function struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

// Input is input: a string (one user message) or a list of items.
type Input struct {
	Text  string
	Items []Item
}

// UnmarshalJSON accepts a string or an array of items.
func (in *Input) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*in = Input{}
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &in.Text)
	}
	if len(b) > 0 && b[0] == '[' {
		return json.Unmarshal(b, &in.Items)
	}
	return errInputType
}

var errInputType = errors.New("input must be a string or an array of input items")

// Item is one input or output item: a message (type "message", or no type
// with a role), a function_call, a function_call_output or a reasoning item.
type Item struct {
	Type      string          `json:"type,omitempty"`
	ID        string          `json:"id,omitempty"`
	Role      string          `json:"role,omitempty"`
	Content   ItemContent     `json:"content,omitzero"`
	CallID    string          `json:"call_id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Arguments string          `json:"arguments,omitempty"`
	Output    json.RawMessage `json:"output,omitempty"`
	Status    string          `json:"status,omitempty"`
}

// kind is the item's type, "message" for an item with a role and no type.
func (it *Item) kind() string {
	if it.Type == "" && it.Role != "" {
		return "message"
	}
	return it.Type
}

// ItemContent is a message item's content: a string or a list of parts.
type ItemContent = openai.TextOrParts[Part]

// Part is one content part: input_text, output_text, refusal or
// input_image.
type Part struct {
	Type     string `json:"type"`
	Text     string `json:"text,omitempty"`
	Refusal  string `json:"refusal,omitempty"`
	ImageURL string `json:"image_url,omitempty"`
	Detail   string `json:"detail,omitempty"`
}

// Decode parses the body of POST /v1/responses and checks model, input,
// the bound of max_output_tokens and that every tool is a function tool.
func Decode(body []byte) (*Request, *openai.Error) {
	fields, e := openai.DecodeObject(body)
	if e != nil {
		return nil, e
	}
	req := &Request{}
	if err := json.Unmarshal(body, req); err != nil {
		var ute *json.UnmarshalTypeError
		switch {
		case errors.As(err, &ute) && ute.Field != "":
			return nil, openai.InvalidRequest(openai.Echo(ute.Field), "invalid_type", "Invalid type for '%s'.", openai.Echo(ute.Field))
		case errors.Is(err, errInputType):
			return nil, openai.InvalidRequest("input", "invalid_type", "Invalid 'input': %v.", errInputType)
		}
		// What is left are the message contents that are neither a
		// string nor a list of parts.
		return nil, openai.InvalidRequest("input", "invalid_type", "Invalid message content in 'input': content must be a string or an array of content parts.")
	}
	req.Fields = fields
	if req.Model == "" {
		return nil, openai.InvalidRequest("model", "missing_required_parameter", "Missing required parameter: 'model'.")
	}
	if _, ok := fields["input"]; !ok && req.PreviousResponseID == "" {
		return nil, openai.InvalidRequest("input", "missing_required_parameter", "Missing required parameter: 'input'.")
	}
	if m := req.MaxOutputTokens; m != nil && (*m < 1 || *m > openai.MaxTokens) {
		return nil, openai.InvalidRequest("max_output_tokens", "invalid_value", "'max_output_tokens' must be between 1 and %d.", openai.MaxTokens)
	}
	// Hosted tools are refused in every mode: fal's responses route would
	// forward them to a provider that runs them out of falproxy's sight.
	if _, e := chatTools(req.Tools); e != nil {
		return nil, e
	}
	return req, nil
}
