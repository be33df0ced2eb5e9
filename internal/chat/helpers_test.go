package chat

import (
	"encoding/json"

	"github.com/falproxy/falproxy/internal/openai"
)

// msg is a message with string content.
func msg(role, text string) openai.Message {
	return openai.Message{Role: role, Content: openai.Content{Text: text}}
}

// partsMsg is a message with array content.
func partsMsg(role string, parts ...openai.ContentPart) openai.Message {
	return openai.Message{Role: role, Content: openai.Content{Parts: parts, IsParts: true}}
}

func textPart(s string) openai.ContentPart {
	return openai.ContentPart{Type: "text", Text: s}
}

func imagePart(url string) openai.ContentPart {
	return openai.ContentPart{Type: "image_url", ImageURL: &openai.ImageURL{URL: url}}
}

// call is an assistant tool call.
func call(id, name, args string) openai.ToolCall {
	return openai.ToolCall{ID: id, Type: "function", Function: openai.FunctionCall{Name: name, Arguments: args}}
}

// toolResult is a tool message answering call id.
func toolResult(id, text string) openai.Message {
	m := msg("tool", text)
	m.ToolCallID = id
	return m
}

// assistantCalls is an assistant message with null content and tool calls.
func assistantCalls(calls ...openai.ToolCall) openai.Message {
	return openai.Message{Role: "assistant", ToolCalls: calls}
}

// DoneEvent is the event that ends every chat stream on the wire.
const DoneEvent = "data: [DONE]\n\n"

// event frames a chunk as the server sends it, one data event; nil (no
// chunk) stays nil.
func event(payload []byte) []byte {
	if payload == nil {
		return nil
	}
	return append(append([]byte("data: "), payload...), "\n\n"...)
}

// ended frames a stream's last chunks as the server sends them, then the
// [DONE] that follows them.
func ended(payloads ...[]byte) []byte {
	var b []byte
	for _, p := range payloads {
		b = append(b, event(p)...)
	}
	return append(b, DoneEvent...)
}

// errorEvent frames a failure as the server sends it in a chat stream.
func errorEvent(e *openai.Error) []byte {
	b, err := json.Marshal(e)
	if err != nil {
		panic(err)
	}
	return event(b)
}
