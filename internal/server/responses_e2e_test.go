package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"

	"github.com/falproxy/falproxy/internal/falfake"
)

// TestResponsesReasoning streams a response with reasoning.effort through
// openai-go on every chat backend, and through the passthrough of fal's
// responses route: the SDK's accumulator takes every event, the reasoning
// comes first as a reasoning item with the model's reasoning text, the
// answer after it, and fal was asked to reason.
func TestResponsesReasoning(t *testing.T) {
	for name, mode := range responsesModes() {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, mode)
			stream := h.sdk.Responses.NewStreaming(context.Background(), responses.ResponseNewParams{
				Model:     "gpt-4o",
				Input:     responses.ResponseNewParamsInputUnion{OfString: oai.String("why do cats purr")},
				Reasoning: shared.ReasoningParam{Effort: shared.ReasoningEffortHigh},
			})
			got := readResponseStream(t, stream)
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			out := got.final.Output
			if len(out) != 2 || out[0].Type != "reasoning" || len(out[0].Content) != 1 || !strings.Contains(out[0].Content[0].Text, "words") ||
				out[1].Type != "message" || !strings.Contains(got.final.OutputText(), "why do cats purr") {
				t.Fatalf("output %s", got.final.RawJSON())
			}
			if !strings.Contains(strings.Join(got.names, " "), "response.reasoning_text.delta") || got.accumulated != got.text {
				t.Errorf("events %v, accumulated %q", got.names, got.accumulated)
			}
			for _, c := range h.fake.Received() {
				in := decodeJSON(t, c.Body)
				if c.Op == falfake.OpStatus || c.Op == falfake.OpStream || c.Op == falfake.OpSchema {
					continue
				}
				r, _ := json.Marshal(in["reasoning"])
				if in["reasoning"] != true && in["reasoning_effort"] != "high" && !strings.Contains(string(r), `"effort":"high"`) {
					t.Errorf("fal was not asked to reason: %s", c.Body)
				}
			}
		})
	}
}

// TestResponsesInputImage sends an input_image through openai-go on every
// chat backend: the folding backends call fal's vision endpoints with the
// image, the chat passthrough forwards it as an image_url part, and the
// passthrough of fal's responses route forwards the input_image as it is.
func TestResponsesInputImage(t *testing.T) {
	uri := pngDataURI(t)
	params := responses.ResponseNewParams{Model: "gpt-4o", Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
		responses.ResponseInputItemParamOfMessage(responses.ResponseInputMessageContentListParam{
			responses.ResponseInputContentParamOfInputText("what is in this picture"),
			{OfInputImage: &responses.ResponseInputImageParam{ImageURL: oai.String(uri), Detail: responses.ResponseInputImageDetailLow}},
		}, responses.EasyInputMessageRoleUser),
	}}}
	for name, mode := range responsesModes() {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, mode)
			resp, err := h.sdk.Responses.New(context.Background(), params)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(resp.OutputText(), "what is in this picture") {
				t.Errorf("answer %q ignores the question", resp.OutputText())
			}
			calls := h.fake.Received()
			var sent string
			for _, c := range calls {
				switch c.Op {
				case falfake.OpSubmit:
					if !strings.HasSuffix(c.Endpoint, "/vision") {
						t.Errorf("fal's endpoint %q, want the vision one", c.Endpoint)
					}
					urls, _ := json.Marshal(decodeJSON(t, c.Body)["image_urls"])
					sent = string(urls)
				case falfake.OpChat, falfake.OpResponses:
					msgs, _ := json.Marshal(decodeJSON(t, c.Body))
					sent = string(msgs)
				}
			}
			want := map[string]string{"passthrough of fal's responses": `"detail":"low","image_url":"` + uri + `","type":"input_image"`,
				"bridge on openrouter/router/openai/v1": `"image_url":{"detail":"low","url":"` + uri + `"},"type":"image_url"`}[name]
			if want == "" {
				want = `["` + uri + `"]`
			}
			if !strings.Contains(sent, want) {
				t.Errorf("fal received %s\nwant it to hold %s", sent, want)
			}
		})
	}
}

// TestResponsesKeepAlive streams a response while fal is slow between
// events, with a short keep-alive interval, through the bridge and through
// the passthrough of fal's responses route: the client receives keep-alive
// comments between the events, and the stream still completes.
func TestResponsesKeepAlive(t *testing.T) {
	modes := map[string]func(*setup){"passthrough of fal's responses": withResponsesPassthrough, "bridge": func(*setup) {}}
	for name, mode := range modes {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, mode, func(s *setup) {
				s.fake.TokenDelay = 40 * time.Millisecond
				s.server.KeepAliveEvery = 2 * time.Millisecond
			})
			code, _, body := h.post(context.Background(), "/v1/responses", `{"model":"gpt-4o","stream":true,"input":"hello there"}`)
			names, _ := responsesEvents(t, body)
			if code != http.StatusOK || names[len(names)-1] != "response.completed" {
				t.Fatalf("%d events %v", code, names)
			}
			first, last := strings.Index(string(body), ": keep-alive\n\n"), strings.LastIndex(string(body), "event: response.completed")
			if first < 0 || first > last {
				t.Errorf("no keep-alive comment before the end:\n%s", body)
			}
		})
	}
}
