package server_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/falfake"
)

// TestNodeResponses runs test/node/responses.mjs: the openai npm package's
// responses.create, responses.stream(...).finalResponse(), a function call
// round trip by previous_response_id, and embeddings in the package's
// default base64, on the OpenAI-compatible backend through the bridge.
func TestNodeResponses(t *testing.T) {
	h := newHarness(t, withBackend(chat.Passthrough.String()), withEmbeddings)
	out := runNode(t, "responses.mjs", []string{"openai"},
		"FALPROXY_URL="+h.url+"/v1", "FALPROXY_KEY="+accessKey,
		"CHAT_MODEL=gpt-4o", "EMBEDDING_MODEL=text-embedding-3-small")
	t.Logf("responses.mjs: %s", out)
	if got := h.lastChatMessages(); !strings.Contains(got, `"role":"tool","tool_call_id":"call_`) || !strings.Contains(got, `"tool_calls":[`) {
		t.Errorf("the round trip's second turn reached fal as %s", got)
	}
	embed := decodeJSON(t, h.onlyFalCall(falfake.OpEmbed).Body)
	if embed["model"] != "openai/text-embedding-3-small" || embed["encoding_format"] != "base64" {
		t.Errorf("fal received the embeddings request %v", embed)
	}
}

// TestNodeAgentsSDK runs test/node/agents.mjs: one agent of the OpenAI
// Agents SDK with one function tool, over the Responses API, on the
// OpenAI-compatible backend through the bridge. fal must receive the tool
// in chat's shape, then the call and its output as an assistant message
// with tool_calls and a tool message.
func TestNodeAgentsSDK(t *testing.T) {
	h := newHarness(t, withBackend(chat.Passthrough.String()))
	out := runNode(t, "agents.mjs", []string{"@openai/agents"},
		"OPENAI_BASE_URL="+h.url+"/v1", "OPENAI_API_KEY="+accessKey, "CHAT_MODEL=gpt-4o")
	t.Logf("agents.mjs: %s", out)
	calls := h.falCalls(falfake.OpChat)
	if len(calls) != 2 {
		t.Fatalf("fal received %d chat requests, want 2 (the call, then the answer)", len(calls))
	}
	var first struct {
		Tools []struct {
			Type     string `json:"type"`
			Function struct {
				Name string `json:"name"`
			} `json:"function"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(calls[0].Body, &first); err != nil || len(first.Tools) != 1 ||
		first.Tools[0].Type != "function" || first.Tools[0].Function.Name != "get_weather" {
		t.Errorf("fal received tools %s", calls[0].Body)
	}
	if got := h.lastChatMessages(); !strings.Contains(got, `"content":"sunny and 21C in Paris","role":"tool"`) {
		t.Errorf("the tool's output reached fal as %s", got)
	}
}
