package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/falfake"
	"github.com/falproxy/falproxy/internal/responses"
)

// TestPassthroughForwardsOnlyOpenAIFields sends OpenRouter's routing
// extensions (a fallback list of other models, provider routing) next to
// OpenAI fields: fal must get the OpenAI fields with the configured model
// id and nothing else, so no model outside CHAT_MODELS can be reached.
func TestPassthroughForwardsOnlyOpenAIFields(t *testing.T) {
	h := newHarness(t, withBackend(chat.Passthrough.String()))
	code, _, out := h.post(context.Background(), "/v1/chat/completions", `{"model":"gpt-4o",`+
		`"messages":[{"role":"user","content":"hi"}],"temperature":0.5,"n":2,"seed":7,"max_tokens":50,`+
		`"models":["other/model","anthropic/claude-opus-4"],"provider":{"order":["Together"],"allow_fallbacks":true},`+
		`"route":"fallback","transforms":["middle-out"],"plugins":[{"id":"web"}]}`)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, out)
	}
	got := decodeJSON(t, h.onlyFalCall(falfake.OpChat).Body)
	want := decodeJSON(t, []byte(`{"model":"openai/gpt-4o","messages":[{"role":"user","content":"hi"}],`+
		`"temperature":0.5,"n":2,"seed":7,"max_tokens":50}`))
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("fal received %v\nwant %v", got, want)
	}
	if res := decodeJSON(t, out); res["model"] != "gpt-4o" {
		t.Errorf("answer names model %v, want gpt-4o", res["model"])
	}
	if logs := h.logs.String(); !strings.Contains(logs, "request fields not forwarded to fal") ||
		!strings.Contains(logs, "fields=\"[models plugins provider route transforms]\"") {
		t.Errorf("the dropped fields are not logged at debug level:\n%s", logs)
	}
}

// TestPassthroughReasoningFlag checks that the seed's "reasoning": true
// reaches the OpenAI-compatible route as an effort it understands, and
// that an effort the client named wins.
func TestPassthroughReasoningFlag(t *testing.T) {
	h := newHarness(t, withBackend(chat.Passthrough.String()))
	for _, tt := range []struct{ extra, want string }{
		{`,"reasoning":true`, "medium"},
		{`,"reasoning":true,"reasoning_effort":"low"`, "low"},
	} {
		h.fake.Reset()
		if code, _, out := h.post(context.Background(), "/v1/chat/completions", userChat(false, "hi", tt.extra)); code != http.StatusOK {
			t.Fatalf("status %d: %s", code, out)
		}
		in := decodeJSON(t, h.onlyFalCall(falfake.OpChat).Body)
		if _, sent := in["reasoning"]; sent || in["reasoning_effort"] != tt.want {
			t.Errorf("%s: fal received %v, want reasoning_effort %q and no reasoning", tt.extra, in, tt.want)
		}
	}
}

// TestPassthroughAnswerRewritten checks what the client reads of fal's
// OpenAI-compatible answer, whole and streamed: the model it asked for
// (fal names its own id), reasoning as reasoning_content (fal sends it as
// "reasoning"), and usage: fal's when it gives one, else the estimate.
func TestPassthroughAnswerRewritten(t *testing.T) {
	const question = "why is the sea salty"
	for _, tt := range []struct {
		name, prompt string
		falUsage     bool
	}{
		{"fal reports usage", question, true},
		{"fal reports none", question + " [no-usage]", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, withBackend(chat.Passthrough.String()))
			ctx := context.Background()
			extra := `,"reasoning_effort":"high"`
			code, _, out := h.post(ctx, "/v1/chat/completions", userChat(false, tt.prompt, extra))
			if code != http.StatusOK {
				t.Fatalf("status %d: %s", code, out)
			}
			var res struct {
				Model   string `json:"model"`
				Choices []struct {
					Message map[string]any `json:"message"`
				} `json:"choices"`
				Usage wireUsage `json:"usage"`
			}
			if err := json.Unmarshal(out, &res); err != nil || len(res.Choices) != 1 {
				t.Fatalf("not a completion (%v): %s", err, out)
			}
			msg := res.Choices[0].Message
			reasoning, _ := msg["reasoning_content"].(string)
			content, _ := msg["content"].(string)
			if res.Model != "gpt-4o" || !strings.HasPrefix(reasoning, "The message has") || msg["reasoning"] != nil {
				t.Fatalf("model %q, message %v; want gpt-4o and reasoning as reasoning_content", res.Model, msg)
			}
			want := estimate(tt.prompt, reasoning+content)
			if tt.falUsage {
				want = falUsageOf(t, h)
			}
			if res.Usage != want {
				t.Errorf("usage %+v, want %+v", res.Usage, want)
			}

			h.fake.Reset()
			code, _, out = h.post(ctx, "/v1/chat/completions", userChat(true, tt.prompt,
				extra+`,"stream_options":{"include_usage":true}`))
			if code != http.StatusOK {
				t.Fatalf("stream status %d: %s", code, out)
			}
			chunks := streamChunks(t, out)
			var streamed, text strings.Builder
			for _, c := range chunks {
				if c.Model != "gpt-4o" {
					t.Fatalf("chunk names model %q, want gpt-4o", c.Model)
				}
				if len(c.Choices) == 0 {
					continue
				}
				if _, ok := c.Choices[0].Delta["reasoning"]; ok {
					t.Fatalf("a delta carries reasoning, not reasoning_content: %+v", c)
				}
				s, _ := c.Choices[0].Delta["reasoning_content"].(string)
				streamed.WriteString(s)
				s, _ = c.Choices[0].Delta["content"].(string)
				text.WriteString(s)
			}
			if streamed.String() != reasoning || text.String() != content {
				t.Errorf("streamed reasoning %q and content %q; the whole answer had %q and %q", streamed.String(), text.String(), reasoning, content)
			}
			last := chunks[len(chunks)-1]
			if len(last.Choices) != 0 || last.Usage == nil || last.ID != chunks[0].ID || last.Created != chunks[0].Created {
				t.Fatalf("last chunk is not the usage chunk of this stream: %+v", last)
			}
			if tt.falUsage {
				want = falUsageOf(t, h)
			}
			if *last.Usage != want {
				t.Errorf("streamed usage %+v, want %+v", *last.Usage, want)
			}
		})
	}
}

// wireUsage is the usage object as it travels.
type wireUsage = struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// estimate is the usage falproxy reports when fal gives none: a quarter of
// the characters of the prompt and of the answer, rounded up.
func estimate(prompt, answer string) wireUsage {
	p, c := (utf8.RuneCountInString(prompt)+3)/4, (utf8.RuneCountInString(answer)+3)/4
	return wireUsage{PromptTokens: p, CompletionTokens: c, TotalTokens: p + c}
}

// falUsageOf asks the emulator directly for the usage it reports for the
// chat call falproxy made, so that the test compares with fal's own figures.
func falUsageOf(t *testing.T, h *harness) wireUsage {
	t.Helper()
	call := h.onlyFalCall(falfake.OpChat)
	var in map[string]json.RawMessage
	if err := json.Unmarshal(call.Body, &in); err != nil {
		t.Fatal(err)
	}
	delete(in, "stream")
	delete(in, "stream_options")
	body, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, h.fake.RunURL()+"/"+"openrouter/router/openai/v1/chat/completions", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Key fal-key-1:secret1")
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.falHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res struct {
		Usage wireUsage `json:"usage"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || res.Usage.TotalTokens == 0 {
		t.Fatalf("fal's own answer has no usage (%v)", err)
	}
	return res.Usage
}

// TestReadmeListsPassthroughFields keeps both READMEs' lists of forwarded
// fields in step with the code.
func TestReadmeListsPassthroughFields(t *testing.T) {
	for name, headings := range map[string][2]string{
		"README.md":       {"\n### Chat\n", "\n### Responses and embeddings\n"},
		"README.zh-CN.md": {"\n### 对话\n", "\n### Responses 与 embeddings\n"},
	} {
		readme, err := os.ReadFile("../../" + name)
		if err != nil {
			t.Fatal(err)
		}
		for i, fields := range [][]string{chat.PassthroughFields(), responses.PassthroughFields()} {
			section := readmeSection(string(readme), headings[i])
			for _, f := range fields {
				if !strings.Contains(section, "`"+f+"`") {
					t.Errorf("%s does not list the forwarded field %q under %q", name, f, strings.TrimSpace(headings[i]))
				}
			}
		}
	}
}

// readmeSection is the text after heading up to the next heading of the
// same or a higher level ("## " or "### ").
func readmeSection(readme, heading string) string {
	_, section, _ := strings.Cut(readme, heading)
	for _, next := range []string{"\n## ", "\n### "} {
		section, _, _ = strings.Cut(section, next)
	}
	return section
}

// TestPassthroughErrorInWords: a 400 from fal's OpenAI-compatible route
// keeps its status, but the client reads fal's words without the URLs in
// them; the whole answer is in the log under the request id.
func TestPassthroughErrorInWords(t *testing.T) {
	h := newHarness(t, withBackend(chat.Passthrough.String()))
	h.fake.Inject(falfake.Fault{Op: falfake.OpChat, Status: http.StatusBadRequest,
		Body: `{"detail":"bad tool schema, see https://internal.example/debug?token=abc"}`})
	code, _, out := h.post(context.Background(), "/v1/chat/completions", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`)
	if code != http.StatusBadRequest {
		t.Fatalf("status %d: %s", code, out)
	}
	if strings.Contains(string(out), "internal.example") || !strings.Contains(string(out), "bad tool schema") ||
		deref(decodeError(t, out).Code) != "invalid_value" {
		t.Errorf("error body %s: want fal's words without its URL", out)
	}
	if logs := h.logs.String(); !strings.Contains(logs, "fal call failed") || !strings.Contains(logs, "internal.example") {
		t.Errorf("the failure is not logged in full:\n%s", logs)
	}
}
