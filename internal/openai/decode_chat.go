package openai

import (
	"encoding/json"
	"errors"
)

// DecodeChat parses the body of POST /v1/chat/completions and checks the
// two required fields. The raw body stays with the caller for backends
// that forward it unchanged.
func DecodeChat(body []byte) (*ChatRequest, *Error) {
	fields, e := DecodeObject(body)
	if e != nil {
		return nil, e
	}
	req := &ChatRequest{}
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
	req.Fields = fields
	if req.Model == "" {
		return nil, InvalidRequest("model", "missing_required_parameter", "Missing required parameter: 'model'.")
	}
	if _, ok := fields["messages"]; !ok {
		return nil, InvalidRequest("messages", "missing_required_parameter", "Missing required parameter: 'messages'.")
	}
	if len(req.Messages) == 0 {
		return nil, InvalidRequest("messages", "empty_array", "'messages' must contain at least one message.")
	}
	return req, nil
}
