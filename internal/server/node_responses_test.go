package server_test

import (
	"encoding/json"
	"os"
	"path/filepath"
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
	runNodeScript(t, h, "responses.mjs", "CHAT_MODEL=gpt-4o", "EMBEDDING_MODEL=text-embedding-3-small")
	if got := h.lastChatMessages(); !strings.Contains(got, `"role":"tool","tool_call_id":"call_`) || !strings.Contains(got, `"tool_calls":[`) {
		t.Errorf("the round trip's second turn reached fal as %s", got)
	}
	embed := decodeJSON(t, h.onlyFalCall(falfake.OpEmbed).Body)
	if embed["model"] != "openai/text-embedding-3-small" || embed["encoding_format"] != "base64" {
		t.Errorf("fal received the embeddings request %v", embed)
	}
}

// TestNodeAgentsSDK runs test/node/agents.mjs: one agent of the OpenAI
// Agents SDK with one function tool, over the Responses API, through the
// bridge on the default backend (tools declared in the prompt) and on the
// OpenAI-compatible one. fal must receive the tool, then the call and its
// output.
func TestNodeAgentsSDK(t *testing.T) {
	for _, b := range backendsNamed(chat.Router, chat.Passthrough) {
		t.Run(b.name, func(t *testing.T) {
			h := newHarness(t, withBackend(b.name))
			runNode(t, []string{"@openai/agents"}, []string{"OPENAI_BASE_URL=" + h.url + "/v1", "OPENAI_API_KEY=" + accessKey,
				"CHAT_MODEL=gpt-4o"}, "agents.mjs")
			in := h.lastFalInput(b, false)
			if b.passthrough() {
				if msgs, _ := json.Marshal(in["messages"]); !strings.Contains(string(msgs), `"content":"sunny and 21C in Paris","role":"tool"`) {
					t.Errorf("the tool's output reached fal as %s", msgs)
				}
			} else if p, _ := in["prompt"].(string); !strings.Contains(p, "): sunny and 21C in Paris") {
				t.Errorf("the tool's output is not in fal's prompt:\n%s", p)
			}
			if n := len(h.falCalls(falChatOp(b, false))); n != 2 {
				t.Errorf("fal received %d chat calls, want 2 (the call, then the answer)", n)
			}
		})
	}
}

// TestCodexCLI runs the Codex CLI (@openai/codex) non-interactively with a
// model provider whose base_url is falproxy and whose wire API is
// Responses, in a CODEX_HOME of its own (no login: the access key comes
// from the environment), against the emulator on the default chat
// backend: one turn must complete with the model's answer, and fal must
// receive Codex's tools declared in the system prompt and the task at the
// end of the prompt.
func TestCodexCLI(t *testing.T) {
	h := newHarness(t)
	home := t.TempDir()
	// Codex also declares a web search and a namespace of sub-agent tools,
	// which the bridge does not serve (a 400 naming the tool type); the
	// configuration turns both off, as the README tells Codex users.
	config := `model = "gpt-4o"
model_provider = "falproxy"
web_search = "disabled"

[agents]
enabled = false

[model_providers.falproxy]
name = "falproxy"
base_url = "` + h.url + `/v1"
env_key = "FALPROXY_KEY"
wire_api = "responses"
`
	if err := os.WriteFile(filepath.Join(home, "config.toml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	const task = "Reply with a greeting for the acceptance test."
	out := runNode(t, []string{"@openai/codex", codexPlatformPackage()}, []string{"CODEX_HOME=" + home, "FALPROXY_KEY=" + accessKey, "RUST_LOG=error"},
		"node_modules/@openai/codex/bin/codex.js", "exec", "--skip-git-repo-check", "--sandbox", "read-only",
		"--color", "never", "--cd", home, task)
	if !strings.Contains(out, "Hello from openai/gpt-4o on the fal emulator") {
		t.Errorf("codex did not print the model's answer:\n%s", out)
	}
	in := decodeJSON(t, h.onlyFalCall(falfake.OpLLMStream).Body)
	// Codex's tools are declared first; its long instructions follow, as
	// much of them as SYSTEM_PROMPT_LIMIT leaves room for.
	if sys, _ := in["system_prompt"].(string); !strings.HasPrefix(sys, "System: You can call functions.") || !strings.Contains(sys, "\n- exec_command: ") {
		t.Errorf("Codex's tools are not declared in fal's system prompt: %.300q", sys)
	}
	if p, _ := in["prompt"].(string); !strings.HasSuffix(strings.TrimSpace(p), "Human: "+task) {
		t.Errorf("the task does not end fal's prompt: ...%q", p[max(0, len(p)-200):])
	}
}
