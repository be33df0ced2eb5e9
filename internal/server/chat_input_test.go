package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"reflect"
	"strings"
	"testing"

	oai "github.com/openai/openai-go/v3"

	"github.com/falproxy/falproxy/internal/falfake"
)

// pngDataURI is a small real PNG as a data: URI.
func pngDataURI(t *testing.T) string {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.NRGBA{R: 200, A: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())
}

// TestChatVision sends a developer message and a user message with an
// image part through the SDK: the folded backends call fal's /vision
// endpoints with image_urls and count the developer message as system; the
// passthrough forwards the parts as they are.
func TestChatVision(t *testing.T) {
	uri := pngDataURI(t)
	params := oai.ChatCompletionNewParams{
		Model: "gpt-4o",
		Messages: []oai.ChatCompletionMessageParamUnion{
			oai.DeveloperMessage("You describe pictures."),
			oai.UserMessage([]oai.ChatCompletionContentPartUnionParam{
				oai.TextContentPart("what is in this picture"),
				oai.ImageContentPart(oai.ChatCompletionContentPartImageImageURLParam{URL: uri}),
			}),
		},
	}
	for _, b := range chatBackends() {
		t.Run(b.name, func(t *testing.T) {
			h := newHarness(t, withBackend(b.name))
			ctx := context.Background()
			res, err := h.sdk.Chat.Completions.New(ctx, params)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(res.Choices[0].Message.Content, "what is in this picture") {
				t.Errorf("answer %q ignores the question", res.Choices[0].Message.Content)
			}
			stream := h.sdk.Chat.Completions.NewStreaming(ctx, params)
			for stream.Next() {
			}
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			stream.Close()

			if b.passthrough() {
				calls := h.falCalls(falfake.OpChat)
				if len(calls) != 2 {
					t.Fatalf("fal received %d chat calls, want 2", len(calls))
				}
				for _, c := range calls {
					msgs := decodeJSON(t, c.Body)["messages"].([]any)
					parts := msgs[1].(map[string]any)["content"].([]any)
					if msgs[0].(map[string]any)["role"] != "developer" || parts[1].(map[string]any)["image_url"].(map[string]any)["url"] != uri {
						t.Errorf("messages changed on the way to fal: %s", c.Body)
					}
				}
				return
			}
			want := map[string]any{
				"model":         "openai/gpt-4o",
				"prompt":        "Human: what is in this picture\n[image]",
				"system_prompt": "System: You describe pictures.",
				"image_urls":    []any{uri},
			}
			submit, streamed := h.onlyFalCall(falfake.OpSubmit), h.onlyFalCall(falfake.OpLLMStream)
			if submit.Endpoint != b.endpoint+"/vision" || streamed.Path != "/run/"+b.endpoint+"/vision/stream" {
				t.Errorf("fal endpoints: submit %q, stream %q; want the vision ones", submit.Endpoint, streamed.Path)
			}
			for _, c := range []falfake.Call{submit, streamed} {
				if got := decodeJSON(t, c.Body); !reflect.DeepEqual(got, want) {
					t.Errorf("fal %s input %v, want %v", c.Op, got, want)
				}
			}
		})
	}
}

// TestChatToolConversation checks how a conversation with a tool call and
// its result is folded for fal, which has no tool messages: the call and the
// result become lines of the transcript, in order.
func TestChatToolConversation(t *testing.T) {
	const body = `{"model":"gpt-4o","messages":[
		{"role":"system","content":"Be brief."},
		{"role":"user","content":"weather in Paris?"},
		{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
		{"role":"tool","tool_call_id":"call_1","content":"18C and sunny"},
		{"role":"user","content":"and tomorrow?"}]}`
	for _, b := range foldedBackends() {
		t.Run(b.name, func(t *testing.T) {
			h := newHarness(t, withBackend(b.name))
			if code, _, out := h.post(context.Background(), "/v1/chat/completions", body); code != http.StatusOK {
				t.Fatalf("status %d: %s", code, out)
			}
			in := decodeJSON(t, h.onlyFalCall(falfake.OpSubmit).Body)
			wantPrompt := "Human: weather in Paris?\n\n" +
				`Assistant called get_weather({"city":"Paris"}) (call_1)` + "\n\n" +
				"Tool (call_1): 18C and sunny\n\n" +
				"Human: and tomorrow?"
			if in["prompt"] != wantPrompt || in["system_prompt"] != "System: Be brief." {
				t.Errorf("fal got prompt %q and system_prompt %q, want prompt %q", in["prompt"], in["system_prompt"], wantPrompt)
			}
		})
	}
}

// TestChatRequestErrors checks the requests falproxy refuses itself: each
// gets an OpenAI error naming the field, and fal is not called.
func TestChatRequestErrors(t *testing.T) {
	giant := strings.Repeat("word ", 1000) // 5000 characters, over the 4800 prompt limit
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
		code, param string
		foldedOnly  bool // the passthrough forwards it for fal to judge
	}{
		{"unknown model", "", `{"model":"gpt-9","messages":[{"role":"user","content":"hi"}]}`, http.StatusNotFound, "model_not_found", "model", false},
		{"missing model", "", `{"messages":[{"role":"user","content":"hi"}]}`, http.StatusBadRequest, "missing_required_parameter", "model", false},
		{"missing messages", "", `{"model":"gpt-4o"}`, http.StatusBadRequest, "missing_required_parameter", "messages", false},
		{"empty messages", "", `{"model":"gpt-4o","messages":[]}`, http.StatusBadRequest, "empty_array", "messages", false},
		{"messages not a list", "", `{"model":"gpt-4o","messages":"hi"}`, http.StatusBadRequest, "invalid_type", "messages", false},
		{"not an object", "", `[{"model":"gpt-4o"}]`, http.StatusBadRequest, "invalid_json", "", false},
		{"form body", "application/x-www-form-urlencoded", `model=gpt-4o&messages=hi`, http.StatusBadRequest, "invalid_json", "", false},
		{"multipart body", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\ngpt-4o\r\n--x--\r\n", http.StatusBadRequest, "invalid_json", "", false},
		{"giant last message", "", `{"model":"gpt-4o","messages":[{"role":"user","content":"` + giant + `"}]}`, http.StatusBadRequest, "context_length_exceeded", "messages", true},
		{"unknown role", "", `{"model":"gpt-4o","messages":[{"role":"wizard","content":"hi"}]}`, http.StatusBadRequest, "invalid_value", "messages[0].role", true},
		{"n too large", "", userChat(false, "hi", `,"n":128`), http.StatusBadRequest, "invalid_value", "n", false},
		{"n zero", "", userChat(false, "hi", `,"n":0`), http.StatusBadRequest, "invalid_value", "n", false},
		{"max_tokens huge", "", userChat(false, "hi", `,"max_tokens":100000000`), http.StatusBadRequest, "invalid_value", "max_tokens", false},
		{"max_completion_tokens zero", "", userChat(false, "hi", `,"max_completion_tokens":0`), http.StatusBadRequest, "invalid_value", "max_completion_tokens", false},
		{"bad image url", "", `{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://x/y.png"}}]}]}`, http.StatusBadRequest, "invalid_image_url", "messages[0].content[0].image_url", true},
	}
	for _, b := range chatBackends() {
		h := newHarness(t, withBackend(b.name))
		for _, tt := range tests {
			if tt.foldedOnly && b.passthrough() {
				continue
			}
			t.Run(b.name+"/"+tt.name, func(t *testing.T) {
				h.fake.Reset()
				req, err := http.NewRequest(http.MethodPost, h.url+"/v1/chat/completions", strings.NewReader(tt.body))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Authorization", "Bearer "+accessKey)
				req.Header.Set("Content-Type", "application/json")
				if tt.contentType != "" {
					req.Header.Set("Content-Type", tt.contentType)
				}
				code, hdr, out := h.do(req)
				if code != tt.status || hdr.Get("Content-Type") != "application/json" {
					t.Fatalf("status %d, type %q; want %d JSON: %s", code, hdr.Get("Content-Type"), tt.status, out)
				}
				e := decodeError(t, out)
				if deref(e.Code) != tt.code || deref(e.Param) != tt.param || e.Type != "invalid_request_error" {
					t.Errorf("type %q, code %q, param %q; want invalid_request_error, %q, %q", e.Type, deref(e.Code), deref(e.Param), tt.code, tt.param)
				}
				if hdr.Get("X-Should-Retry") != "false" {
					t.Errorf("a request that cannot succeed lacks x-should-retry: false")
				}
				if calls := h.fake.Received(); len(calls) != 0 {
					t.Errorf("fal was called for a refused request: %+v", calls[0])
				}
			})
		}
	}
}

// TestChatAcceptsJSONWhateverItsLabel checks that a JSON body is read even
// when labelled otherwise: curl -d sends application/x-www-form-urlencoded
// unless told, and refusing it would only get in the way.
func TestChatAcceptsJSONWhateverItsLabel(t *testing.T) {
	h := newHarness(t)
	req, _ := http.NewRequest(http.MethodPost, h.url+"/v1/chat/completions", strings.NewReader(userChat(false, "hi", "")))
	req.Header.Set("Authorization", "Bearer "+accessKey)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if code, _, out := h.do(req); code != http.StatusOK {
		t.Fatalf("status %d: %s", code, out)
	}
}
