package openai

import (
	"encoding/json"
	"errors"

	"github.com/falproxy/falproxy/internal/jsonscan"
)

// maxChoices bounds n: each choice is a whole generation, billed at fal.
const maxChoices = 8

// MaxTokens bounds max_tokens and max_completion_tokens (and the Responses
// API's max_output_tokens), far above what any model produces, so that
// nonsense values are refused here.
const MaxTokens = 1_000_000

// DecodeChat parses the body of POST /v1/chat/completions and checks the
// two required fields and the bounds of n and the token limits. Fields
// keeps every field as sent, for the passthrough to choose what it
// forwards.
func DecodeChat(body []byte) (*ChatRequest, *Error) {
	req := &ChatRequest{}
	if req.Fields = checkedFields(body, req); req.Fields == nil {
		*req = ChatRequest{}
		var e *Error
		if req.Fields, e = decodeChatFields(body, req); e != nil {
			return nil, e
		}
	}
	if e := checkChat(req); e != nil {
		return nil, e
	}
	return req, nil
}

// checkedFields decodes body into req and returns its top-level fields,
// or nil when body is not an object json.Unmarshal takes into req. The
// fields are read without checking body again (json.Unmarshal did), and
// their values are body's own bytes. A body it refuses goes to
// decodeChatFields, whose errors name its first fault.
func checkedFields(body []byte, req *ChatRequest) map[string]json.RawMessage {
	if json.Unmarshal(body, req) != nil {
		return nil
	}
	fields := map[string]json.RawMessage{}
	if ok, err := jsonscan.EachMember(body, func(name, value []byte) error {
		fields[string(name)] = value
		return nil
	}); !ok || err != nil {
		return nil
	}
	return fields
}

// decodeChatFields decodes body into req and returns its top-level
// fields, or the error for the client: that of DecodeObject first, then
// that of the chat completion's types.
func decodeChatFields(body []byte, req *ChatRequest) (map[string]json.RawMessage, *Error) {
	fields, e := DecodeObject(body)
	if e != nil {
		return nil, e
	}
	if err := json.Unmarshal(body, req); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field != "" {
			return nil, InvalidRequest(Echo(ute.Field), "invalid_type", "Invalid type for '%s': expected %s.", Echo(ute.Field), jsonKind(ute.Type))
		}
		if errors.Is(err, errContentType) {
			return nil, InvalidRequest("messages", "invalid_type", "Invalid message content: %v.", errContentType)
		}
		return nil, InvalidRequest("", "invalid_json", "The request body does not match the chat completion schema.")
	}
	return fields, nil
}

// checkChat checks a decoded request: the two required fields, and the
// bounds of n and the token limits (see checkChatBounds).
func checkChat(req *ChatRequest) *Error {
	if req.Model == "" {
		return InvalidRequest("model", "missing_required_parameter", "Missing required parameter: 'model'.")
	}
	if _, ok := req.Fields["messages"]; !ok {
		return InvalidRequest("messages", "missing_required_parameter", "Missing required parameter: 'messages'.")
	}
	if len(req.Messages) == 0 {
		return InvalidRequest("messages", "empty_array", "'messages' must contain at least one message.")
	}
	return checkChatBounds(req)
}

// checkChatBounds refuses counts that could only run up a bill: more than
// maxChoices choices, or a token limit that is not positive or is above
// MaxTokens.
func checkChatBounds(req *ChatRequest) *Error {
	if req.N != nil && (*req.N < 1 || *req.N > maxChoices) {
		return InvalidRequest("n", "invalid_value", "'n' must be between 1 and %d.", maxChoices)
	}
	for _, f := range []struct {
		name  string
		value *int
	}{{"max_tokens", req.MaxTokens}, {"max_completion_tokens", req.MaxCompletionTokens}} {
		if f.value != nil && (*f.value < 1 || *f.value > MaxTokens) {
			return InvalidRequest(f.name, "invalid_value", "'%s' must be between 1 and %d.", f.name, MaxTokens)
		}
	}
	return nil
}
