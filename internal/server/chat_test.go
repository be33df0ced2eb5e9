package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"

	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/falfake"
)

// chatBackend is one way falproxy can serve chat, with what fal does for it.
type chatBackend struct {
	name string // the endpoint id of server.Options.ChatBackend
	// endpoint is the fal endpoint id the folded backends call; "" for the
	// passthrough, which calls fal's OpenAI-compatible route.
	endpoint string
	usage    bool // fal reports token usage
}

func (b chatBackend) passthrough() bool { return b.endpoint == "" }

// chatBackends lists the three chat backends.
func chatBackends() []chatBackend {
	return []chatBackend{
		{name: chat.Router.String(), endpoint: "openrouter/router", usage: true},
		{name: chat.AnyLLM.String(), endpoint: "fal-ai/any-llm"},
		{name: chat.Passthrough.String(), usage: true},
	}
}

// backendsNamed picks the chatBackends of the given backends.
func backendsNamed(want ...chat.Backend) []chatBackend {
	var out []chatBackend
	for _, b := range chatBackends() {
		for _, w := range want {
			if b.name == w.String() {
				out = append(out, b)
			}
		}
	}
	return out
}

// foldedBackends lists the backends that fold messages into a prompt.
func foldedBackends() []chatBackend {
	var out []chatBackend
	for _, b := range chatBackends() {
		if !b.passthrough() {
			out = append(out, b)
		}
	}
	return out
}

// withBackend serves chat with the backend of that endpoint id.
func withBackend(name string) func(*setup) {
	backend, err := chat.ParseBackend(name)
	if err != nil {
		panic(err)
	}
	return func(s *setup) { s.server.ChatBackend = backend }
}

// falCalls returns the calls fal received for one operation.
func (h *harness) falCalls(op falfake.Op) []falfake.Call {
	var out []falfake.Call
	for _, c := range h.fake.Received() {
		if c.Op == op {
			out = append(out, c)
		}
	}
	return out
}

// onlyFalCall returns the single call fal received for op, failing the test
// when there is not exactly one.
func (h *harness) onlyFalCall(op falfake.Op) falfake.Call {
	h.t.Helper()
	calls := h.falCalls(op)
	if len(calls) != 1 {
		h.t.Fatalf("fal received %d %s calls, want 1 (all calls: %+v)", len(calls), op, h.fake.Counts())
	}
	return calls[0]
}

// decodeJSON decodes a JSON object keeping numbers exact, so that two bodies
// can be compared value by value.
func decodeJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("not a JSON object (%v): %s", err, b)
	}
	return m
}

// bodyRecorder keeps the request bodies the SDK sends, through an SDK
// middleware, so that tests can compare them with what fal received.
type bodyRecorder struct {
	mu     sync.Mutex
	bodies [][]byte
}

func (r *bodyRecorder) option() option.RequestOption {
	return option.WithMiddleware(func(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
		if req.Body != nil {
			b, err := io.ReadAll(req.Body)
			if err != nil {
				return nil, err
			}
			req.Body = io.NopCloser(bytes.NewReader(b))
			r.mu.Lock()
			r.bodies = append(r.bodies, b)
			r.mu.Unlock()
		}
		return next(req)
	})
}

func (r *bodyRecorder) all() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.bodies...)
}

// sdkChatParams is a conversation with a system message, a function tool
// and a response format: the folded backends must drop what fal cannot take,
// the passthrough must forward all of it untouched.
func sdkChatParams() oai.ChatCompletionNewParams {
	return oai.ChatCompletionNewParams{
		Model: "gpt-4o",
		Messages: []oai.ChatCompletionMessageParamUnion{
			oai.SystemMessage("Answer briefly."),
			oai.UserMessage("What colour is the sky <at> noon & dusk?"),
		},
		Tools: []oai.ChatCompletionToolUnionParam{oai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
			Name:        "get_weather",
			Description: oai.String("Current weather of a city."),
			Parameters: shared.FunctionParameters{
				"type":       "object",
				"properties": map[string]any{"city": map[string]any{"type": "string"}},
				"required":   []string{"city"},
			},
		})},
		ResponseFormat: oai.ChatCompletionNewParamsResponseFormatUnion{OfJSONObject: &shared.ResponseFormatJSONObjectParam{}},
	}
}

// TestChatSDKRoundTrip sends the same conversation through each backend,
// once whole and once streamed with the SDK's accumulator, and checks both
// what the client got and what fal received.
func TestChatSDKRoundTrip(t *testing.T) {
	const question = "What colour is the sky <at> noon & dusk?"
	for _, b := range chatBackends() {
		t.Run(b.name, func(t *testing.T) {
			h := newHarness(t, withBackend(b.name))
			ctx := context.Background()
			rec := &bodyRecorder{}

			res, err := h.sdk.Chat.Completions.New(ctx, sdkChatParams(), rec.option())
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Choices) != 1 {
				t.Fatalf("%d choices: %s", len(res.Choices), res.RawJSON())
			}
			choice := res.Choices[0]
			if choice.Message.Role != "assistant" || choice.FinishReason != "stop" || res.Object != "chat.completion" || res.ID == "" || res.Created == 0 {
				t.Fatalf("unexpected completion: %s", res.RawJSON())
			}
			content := choice.Message.Content
			if !strings.HasPrefix(content, "Hello from openai/gpt-4o") || !strings.HasSuffix(content, question) {
				t.Fatalf("content %q: not the emulator's answer to the question from the fal model", content)
			}
			if res.Model != "gpt-4o" {
				t.Errorf("model %q, want the name the client asked for", res.Model)
			}

			params := sdkChatParams()
			params.StreamOptions.IncludeUsage = oai.Bool(true)
			stream := h.sdk.Chat.Completions.NewStreaming(ctx, params, rec.option())
			var acc oai.ChatCompletionAccumulator
			chunks := 0
			for stream.Next() {
				chunks++
				if !acc.AddChunk(stream.Current()) {
					t.Fatalf("accumulator refused chunk %d: %s", chunks, stream.Current().RawJSON())
				}
			}
			if err := stream.Err(); err != nil {
				t.Fatalf("stream: %v", err)
			}
			if err := stream.Close(); err != nil {
				t.Fatal(err)
			}
			if len(acc.Choices) != 1 || chunks < 4 {
				t.Fatalf("%d chunks, %d choices", chunks, len(acc.Choices))
			}
			if got := acc.Choices[0].Message.Content; got != content {
				t.Errorf("streamed content %q differs from the completion %q", got, content)
			}
			if acc.Choices[0].FinishReason != "stop" {
				t.Errorf("streamed finish_reason %q", acc.Choices[0].FinishReason)
			}
			if acc.Model != "gpt-4o" {
				t.Errorf("streamed model %q, want the name the client asked for", acc.Model)
			}

			if b.usage {
				if res.Usage.TotalTokens == 0 || res.Usage.TotalTokens != res.Usage.PromptTokens+res.Usage.CompletionTokens {
					t.Errorf("completion usage %+v", res.Usage)
				}
				if acc.Usage.TotalTokens != res.Usage.TotalTokens || acc.Usage.PromptTokens != res.Usage.PromptTokens {
					t.Errorf("streamed usage %+v, completion usage %+v", acc.Usage, res.Usage)
				}
			} else {
				// fal reports none: a quarter of the characters of the
				// folded prompt and of the answer, rounded up.
				prompt := len("Human: "+question) + len("System: Answer briefly.")
				want := oai.CompletionUsage{PromptTokens: int64(prompt+3) / 4, CompletionTokens: int64(len(content)+3) / 4}
				want.TotalTokens = want.PromptTokens + want.CompletionTokens
				for _, got := range []oai.CompletionUsage{res.Usage, acc.Usage} {
					if got.PromptTokens != want.PromptTokens || got.CompletionTokens != want.CompletionTokens || got.TotalTokens != want.TotalTokens {
						t.Errorf("usage %d/%d/%d, want the estimate %d/%d/%d", got.PromptTokens, got.CompletionTokens, got.TotalTokens,
							want.PromptTokens, want.CompletionTokens, want.TotalTokens)
					}
				}
			}

			if b.passthrough() {
				checkForwarded(t, h, rec.all())
			} else {
				checkFolded(t, h, b)
			}
		})
	}
}

// checkFolded checks that fal got the conversation folded into prompt and
// system_prompt, with the fal model id and nothing else (fal rejects unknown
// fields), once through the queue and once on the stream route.
func checkFolded(t *testing.T, h *harness, b chatBackend) {
	t.Helper()
	want := map[string]any{
		"model":         "openai/gpt-4o",
		"prompt":        "Human: What colour is the sky <at> noon & dusk?",
		"system_prompt": "System: Answer briefly.",
	}
	submit := h.onlyFalCall(falfake.OpSubmit)
	streamed := h.onlyFalCall(falfake.OpLLMStream)
	if submit.Endpoint != b.endpoint || streamed.Path != "/run/"+b.endpoint+"/stream" {
		t.Errorf("fal endpoints: submit %q, stream %q", submit.Endpoint, streamed.Path)
	}
	for _, c := range []falfake.Call{submit, streamed} {
		if got := decodeJSON(t, c.Body); !reflect.DeepEqual(got, want) {
			t.Errorf("fal %s input %v, want %v", c.Op, got, want)
		}
	}
}

// checkForwarded checks that each body the client sent reached fal's
// OpenAI-compatible route unchanged but for the model id.
func checkForwarded(t *testing.T, h *harness, sent [][]byte) {
	t.Helper()
	got := h.falCalls(falfake.OpChat)
	if len(got) != len(sent) || len(sent) != 2 {
		t.Fatalf("client sent %d bodies, fal received %d chat calls", len(sent), len(got))
	}
	for i := range sent {
		in, out := decodeJSON(t, sent[i]), decodeJSON(t, got[i].Body)
		if in["model"] != "gpt-4o" || out["model"] != "openai/gpt-4o" {
			t.Errorf("model %v reached fal as %v, want openai/gpt-4o", in["model"], out["model"])
		}
		if out["tools"] == nil || out["response_format"] == nil {
			t.Errorf("tools or response_format lost: %s", got[i].Body)
		}
		delete(in, "model")
		delete(out, "model")
		if !reflect.DeepEqual(in, out) {
			t.Errorf("body changed on the way to fal:\nsent %s\nfal  %s", sent[i], got[i].Body)
		}
	}
}
