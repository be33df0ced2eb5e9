package responses

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/falproxy/falproxy/internal/openai"
)

// chatMessage is a chat message as the bridge writes it: content is a
// string, a list of chat parts, or null (an assistant turn that only calls
// functions).
type chatMessage struct {
	Role       string            `json:"role"`
	Content    any               `json:"content"`
	ToolCalls  []openai.ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string            `json:"tool_call_id,omitempty"`
}

// chatTool is a function tool as chat declares it, nested under "function".
type chatTool struct {
	Type     string   `json:"type"`
	Function Function `json:"function"`
}

// chatRequest is the chat completion request the bridge builds: chat's
// fields as openai.ChatRequest has them, with the bridge's own messages
// (the shallower field wins the "messages" key) and the fields only the
// OpenAI-compatible backend reads.
type chatRequest struct {
	openai.ChatRequest
	Messages          []chatMessage   `json:"messages"`
	TopP              *float64        `json:"top_p,omitempty"`
	Tools             []chatTool      `json:"tools,omitempty"`
	ToolChoice        json.RawMessage `json:"tool_choice,omitempty"`
	ParallelToolCalls *bool           `json:"parallel_tool_calls,omitempty"`
	ResponseFormat    any             `json:"response_format,omitempty"`
	User              string          `json:"user,omitempty"`
}

// ChatBody is the chat completion request that answers req: history (the
// items of the previous responses, oldest first) and then req's input as
// messages, with the request's settings mapped onto chat's. A stream asks
// for usage, which the last event of a Responses stream carries. tools is
// how the backend takes function tools.
func ChatBody(req *Request, history []Item, tools ToolMode) ([]byte, *openai.Error) {
	c := chatRequest{
		ChatRequest: openai.ChatRequest{Model: req.Model, Stream: req.Stream, MaxTokens: req.MaxOutputTokens, Temperature: req.Temperature},
		TopP:        req.TopP, ParallelToolCalls: req.ParallelToolCalls, User: req.User,
	}
	if req.Stream {
		c.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
	}
	if req.Instructions != "" {
		c.Messages = append(c.Messages, chatMessage{Role: "system", Content: req.Instructions})
	}
	var e *openai.Error
	if c.Messages, e = appendItems(c.Messages, history, "previous_response_id"); e != nil {
		return nil, e
	}
	items := req.Input.Items
	if req.Input.Text != "" {
		items = []Item{{Role: "user", Content: ItemContent{Text: req.Input.Text}}}
	}
	if c.Messages, e = appendItems(c.Messages, items, "input"); e != nil {
		return nil, e
	}
	if c.Tools, e = chatTools(req.Tools); e != nil {
		return nil, e
	}
	if c.ToolChoice, e = chatToolChoice(req.ToolChoice); e != nil {
		return nil, e
	}
	if req.usesTextTools(tools) {
		c.Messages = slices.Insert(c.Messages, 0, chatMessage{Role: "system", Content: toolsPrompt(req.Tools, req.ToolChoice)})
	}
	if req.Reasoning != nil {
		c.ReasoningEffort = req.Reasoning.Effort
	}
	if req.Text != nil && req.Text.Format != nil {
		if c.ResponseFormat, e = chatResponseFormat(req.Text.Format); e != nil {
			return nil, e
		}
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, openai.ServerError("encoding the chat request failed")
	}
	return b, nil
}

// appendItems appends items as chat messages. Consecutive function_call
// items become one assistant message with tool_calls (joined to the
// assistant message just before them: the same turn); each
// function_call_output is a tool message; reasoning items are left out, as
// chat has no way to send them back. param names the items in errors.
func appendItems(msgs []chatMessage, items []Item, param string) ([]chatMessage, *openai.Error) {
	for i := range items {
		it := &items[i]
		where := fmt.Sprintf("%s[%d]", param, i)
		switch it.kind() {
		case "message":
			m, e := chatMessageOf(it, where)
			if e != nil {
				return nil, e
			}
			msgs = append(msgs, m)
		case "function_call":
			call := openai.ToolCall{ID: it.CallID, Type: "function", Function: openai.FunctionCall{Name: it.Name, Arguments: it.Arguments}}
			if n := len(msgs); n > 0 && msgs[n-1].Role == "assistant" {
				msgs[n-1].ToolCalls = append(msgs[n-1].ToolCalls, call)
				continue
			}
			msgs = append(msgs, chatMessage{Role: "assistant", ToolCalls: []openai.ToolCall{call}})
		case "function_call_output":
			msgs = append(msgs, chatMessage{Role: "tool", ToolCallID: it.CallID, Content: outputText(it.Output)})
		case "reasoning":
		default:
			return nil, openai.InvalidRequest(where+".type", "invalid_value",
				"Unsupported item type %q in %s: falproxy accepts message, function_call, function_call_output and reasoning items.", openai.Echo(it.Type), where)
		}
	}
	return msgs, nil
}

// chatMessageOf turns a message item into a chat message: system and
// developer messages become system messages; parts become chat's text and
// image_url parts (assistant text is joined into one string).
func chatMessageOf(it *Item, where string) (chatMessage, *openai.Error) {
	role := it.Role
	switch role {
	case "system", "developer":
		role = "system"
	case "user", "assistant":
	default:
		return chatMessage{}, openai.InvalidRequest(where+".role", "invalid_value",
			"Invalid role %q in %s: expected user, assistant, system or developer.", openai.Echo(it.Role), where)
	}
	if !it.Content.IsParts {
		return chatMessage{Role: role, Content: it.Content.Text}, nil
	}
	if role != "user" {
		return chatMessage{Role: role, Content: joinText(it.Content.Parts)}, nil
	}
	parts := make([]openai.ContentPart, 0, len(it.Content.Parts))
	for j, p := range it.Content.Parts {
		switch p.Type {
		case "input_text", "output_text", "text":
			parts = append(parts, openai.ContentPart{Type: "text", Text: p.Text})
		case "input_image":
			if p.ImageURL == "" {
				return chatMessage{}, openai.InvalidRequest(fmt.Sprintf("%s.content[%d].image_url", where, j), "invalid_image_url",
					"%s.content[%d] needs an image_url (an http(s) or data: URL); file ids are not served.", where, j)
			}
			parts = append(parts, openai.ContentPart{Type: "image_url", ImageURL: &openai.ImageURL{URL: p.ImageURL, Detail: p.Detail}})
		default:
			return chatMessage{}, openai.InvalidRequest(fmt.Sprintf("%s.content[%d].type", where, j), "invalid_value",
				"Unsupported content type %q in %s.content[%d]: expected input_text or input_image.", openai.Echo(p.Type), where, j)
		}
	}
	return chatMessage{Role: role, Content: parts}, nil
}

// joinText joins the text of parts (output_text, input_text, refusal).
func joinText(parts []Part) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
		b.WriteString(p.Refusal)
	}
	return b.String()
}

// outputText is a function_call_output's output as text: a string as it
// is, a list of parts as their joined text, anything else as its JSON.
func outputText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []Part
	if json.Unmarshal(raw, &parts) == nil {
		return joinText(parts)
	}
	return string(raw)
}

// chatTools nests each function tool's fields under "function", as chat
// takes them. Other tool types (web search, file search, ...) have no chat
// counterpart and are refused by name.
func chatTools(tools []Tool) ([]chatTool, *openai.Error) {
	out := make([]chatTool, 0, len(tools))
	for i, t := range tools {
		if t.Type != "function" {
			return nil, openai.InvalidRequest(fmt.Sprintf("tools[%d].type", i), "unsupported_tool",
				"Tool type %q in tools[%d] is not supported: falproxy serves function tools only.", openai.Echo(t.Type), i)
		}
		if t.Name == "" {
			return nil, openai.InvalidRequest(fmt.Sprintf("tools[%d].name", i), "missing_required_parameter", "Missing required parameter: 'tools[%d].name'.", i)
		}
		out = append(out, chatTool{Type: "function", Function: t.Function})
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// chatToolChoice maps tool_choice: "none", "auto" and "required" are the
// same in chat; {"type":"function","name":...} nests the name under
// "function".
func chatToolChoice(raw json.RawMessage) (json.RawMessage, *openai.Error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var mode string
	if json.Unmarshal(raw, &mode) == nil {
		switch mode {
		case "none", "auto", "required":
			return raw, nil
		}
		return nil, openai.InvalidRequest("tool_choice", "invalid_value", "Invalid 'tool_choice': expected none, auto, required or a function.")
	}
	var fn struct {
		Type string `json:"type"`
		Name string `json:"name"`
	}
	if json.Unmarshal(raw, &fn) != nil || fn.Type != "function" || fn.Name == "" {
		return nil, openai.InvalidRequest("tool_choice", "invalid_value", "Invalid 'tool_choice': falproxy serves only function tools, chosen as {\"type\":\"function\",\"name\":...}.")
	}
	b, _ := json.Marshal(map[string]any{"type": "function", "function": map[string]string{"name": fn.Name}})
	return b, nil
}

// chatResponseFormat maps text.format onto chat's response_format: plain
// text needs none; json_schema nests its schema under "json_schema".
func chatResponseFormat(f *TextFormat) (any, *openai.Error) {
	switch f.Type {
	case "", "text":
		return nil, nil
	case "json_object":
		return map[string]string{"type": "json_object"}, nil
	case "json_schema":
		if f.Name == "" || len(f.Schema) == 0 {
			return nil, openai.InvalidRequest("text.format", "missing_required_parameter", "A json_schema text.format needs a name and a schema.")
		}
		schema := map[string]any{"name": f.Name, "schema": f.Schema}
		if f.Description != "" {
			schema["description"] = f.Description
		}
		if f.Strict != nil {
			schema["strict"] = *f.Strict
		}
		return map[string]any{"type": "json_schema", "json_schema": schema}, nil
	}
	return nil, openai.InvalidRequest("text.format.type", "invalid_value", "Invalid 'text.format.type': expected text, json_object or json_schema.")
}
