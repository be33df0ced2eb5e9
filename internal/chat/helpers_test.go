package chat

import "github.com/falproxy/falproxy/internal/openai"

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
