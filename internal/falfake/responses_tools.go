package falfake

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/falproxy/falproxy/internal/openai"
)

// toolCall is a function call the OpenAI-compatible chat route answers
// with, as OpenAI's models do when a request declares tools.
type toolCall struct {
	id, name, arguments string
}

// declaredTool is a function a request offers: its name and the names of
// its parameters.
type declaredTool struct {
	name   string
	params []string
}

// plannedToolCall decides whether a chat request is answered with a tool
// call: when it declares a function tool and the newest message is the
// user's asking to "call <name>" (see callFor).
func plannedToolCall(body []byte, msgs []openai.Message) (toolCall, bool) {
	if len(msgs) == 0 || msgs[len(msgs)-1].Role != "user" {
		return toolCall{}, false
	}
	var d struct {
		Tools []struct {
			Function struct {
				Name       string `json:"name"`
				Parameters struct {
					Properties map[string]json.RawMessage `json:"properties"`
				} `json:"parameters"`
			} `json:"function"`
		} `json:"tools"`
	}
	if json.Unmarshal(body, &d) != nil {
		return toolCall{}, false
	}
	var tools []declaredTool
	for _, t := range d.Tools {
		tools = append(tools, declaredTool{name: t.Function.Name, params: slices.Sorted(maps.Keys(t.Function.Parameters.Properties))})
	}
	return callFor(contentText(msgs[len(msgs)-1].Content), tools)
}

// callFor is the call a user's text asks for with "call <name>" of a
// declared tool. The arguments set each of the function's parameters, in
// name order, to the text's last word, so that a test can see them travel.
func callFor(text string, tools []declaredTool) (toolCall, bool) {
	words := strings.Fields(text)
	for _, t := range tools {
		if t.name == "" || !strings.Contains(text, "call "+t.name) {
			continue
		}
		value := strings.Trim(words[len(words)-1], ".?!")
		args := map[string]string{}
		for _, p := range t.params {
			args[p] = value
		}
		return toolCall{id: "call_" + randomID(24), name: t.name, arguments: string(mustJSON(args))}, true
	}
	return toolCall{}, false
}

// toolResult is the output of the tool call a conversation ends with: the
// model answers it using the tool's output.
func toolResult(msgs []openai.Message) (string, bool) {
	if len(msgs) == 0 || msgs[len(msgs)-1].Role != "tool" {
		return "", false
	}
	return "the tool answered " + contentText(msgs[len(msgs)-1].Content), true
}

// toolCallJSON is a tool call as chat messages and deltas carry it.
type toolCallJSON struct {
	Index    *int             `json:"index,omitempty"`
	ID       string           `json:"id,omitempty"`
	Type     string           `json:"type,omitempty"`
	Function toolFunctionJSON `json:"function"`
}

type toolFunctionJSON struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

// toolCompletion is the non-streaming answer that calls the tool.
func (ch chatRun) toolCompletion() map[string]any {
	return map[string]any{
		"id": ch.id, "object": "chat.completion", "created": ch.created, "model": ch.model, "usage": ch.usage(),
		"choices": []any{map[string]any{
			"index": 0, "finish_reason": "tool_calls", "logprobs": nil,
			"message": map[string]any{"role": "assistant", "content": nil, "tool_calls": []toolCallJSON{{
				ID: ch.toolCall.id, Type: "function", Function: toolFunctionJSON{Name: ch.toolCall.name, Arguments: ch.toolCall.arguments},
			}}},
		}},
	}
}

// streamToolCall streams the tool call as OpenAI does: the id and name
// with empty arguments, the arguments in two halves, the finish chunk
// ("tool_calls"), the usage chunk when asked for, and [DONE].
func (ch chatRun) streamToolCall(w http.ResponseWriter, c *call, delay time.Duration, includeUsage bool) {
	s := startSSE(w, c.rid)
	index := 0
	chunk := func(delta map[string]any, finish *string) []byte {
		return mustJSON(map[string]any{"id": ch.id, "object": "chat.completion.chunk", "created": ch.created, "model": ch.model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish}}})
	}
	args := ch.toolCall.arguments
	events := [][]byte{
		chunk(map[string]any{"role": "assistant", "content": nil, "tool_calls": []toolCallJSON{{Index: &index, ID: ch.toolCall.id, Type: "function",
			Function: toolFunctionJSON{Name: ch.toolCall.name}}}}, nil),
		chunk(map[string]any{"tool_calls": []toolCallJSON{{Index: &index, Function: toolFunctionJSON{Arguments: args[:len(args)/2]}}}}, nil),
		chunk(map[string]any{"tool_calls": []toolCallJSON{{Index: &index, Function: toolFunctionJSON{Arguments: args[len(args)/2:]}}}}, nil),
		chunk(map[string]any{}, new("tool_calls")),
	}
	if includeUsage {
		events = append(events, mustJSON(map[string]any{"id": ch.id, "object": "chat.completion.chunk", "created": ch.created,
			"model": ch.model, "choices": []any{}, "usage": ch.usage()}))
	}
	pace := newPacer(delay)
	for _, ev := range append(events, []byte("[DONE]")) {
		if !pace.next(c.r.Context()) || s.data(ev) != nil {
			return
		}
	}
}
