package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/falfake"
)

// withResponsesPassthrough serves /v1/responses by fal's own responses
// route (RESPONSES_MODE=passthrough on the OpenAI-compatible backend).
func withResponsesPassthrough(s *setup) {
	s.server.ChatBackend = chat.Passthrough
	s.server.ResponsesPassthrough = true
}

// TestResponsesPassthroughRoundTrip runs a function call round trip with
// openai-go through fal's responses route: fal receives the allowed fields
// with its model id (not OpenRouter's routing fields, not store), the
// answer names the client's model, a streamed first turn carries the call
// (text of the deltas joined equals the arguments), and the second turn,
// by previous_response_id, reaches fal as the whole conversation, since
// fal's route keeps nothing.
func TestResponsesPassthroughRoundTrip(t *testing.T) {
	h := newHarness(t, withResponsesPassthrough)
	ctx := context.Background()
	stream := h.sdk.Responses.NewStreaming(ctx, responses.ResponseNewParams{
		Model: "gpt-4o", Tools: []responses.ToolUnionParam{weatherTool}, Store: oai.Bool(true),
		Input: responses.ResponseNewParamsInputUnion{OfString: oai.String(weatherQuestion)},
	}, option.WithJSONSet("provider", map[string]any{"order": []string{"x"}}))
	got := readResponseStream(t, stream)
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	first := got.final
	call := onlyFunctionCall(t, &first)
	if first.Model != "gpt-4o" || call.Arguments != `{"city":"Paris"}` || got.args != call.Arguments {
		t.Fatalf("first turn: model %s, call %+v, deltas %q", first.Model, call, got.args)
	}
	in := decodeJSON(t, h.onlyFalCall(falfake.OpResponses).Body)
	if in["model"] != "openai/gpt-4o" || in["provider"] != nil || in["store"] != nil || in["stream"] != true || in["tools"] == nil {
		t.Errorf("fal received %v", in)
	}

	h.fake.Reset()
	second, err := h.sdk.Responses.New(ctx, responses.ResponseNewParams{
		Model: "gpt-4o", Tools: []responses.ToolUnionParam{weatherTool}, PreviousResponseID: oai.String(first.ID),
		Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{toolOutput(call.CallID)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if second.Model != "gpt-4o" || !strings.Contains(second.OutputText(), "sunny and 21C") {
		t.Errorf("second turn: model %s, text %q", second.Model, second.OutputText())
	}
	in = decodeJSON(t, h.onlyFalCall(falfake.OpResponses).Body)
	input, _ := json.Marshal(in["input"])
	want := `[{"content":"please call get_weather for Paris","role":"user","type":"message"},` +
		`{"arguments":"{\"city\":\"Paris\"}","call_id":"` + call.CallID + `","name":"get_weather","type":"function_call"},` +
		`{"call_id":"` + call.CallID + `","output":"sunny and 21C","type":"function_call_output"}]`
	if string(input) != want || in["previous_response_id"] != nil {
		t.Errorf("fal received input\n%s\nwant\n%s\n(previous_response_id %v)", input, want, in["previous_response_id"])
	}
	stored, err := h.sdk.Responses.Get(ctx, second.ID, responses.ResponseGetParams{})
	if err != nil || stored.OutputText() != second.OutputText() {
		t.Errorf("GET of the passed-through response: %v %q", err, stored.OutputText())
	}
}

// TestResponsesPassthroughRefusesHostedTools: the passthrough refuses the
// tools only OpenAI runs (web search, file search, MCP servers) as the
// bridge does, with a 400 unsupported_tool naming the tool and no retry
// advice, and fal receives nothing.
func TestResponsesPassthroughRefusesHostedTools(t *testing.T) {
	h := newHarness(t, withResponsesPassthrough)
	for _, tool := range []string{`{"type":"web_search_preview"}`, `{"type":"file_search","vector_store_ids":["vs_1"]}`,
		`{"type":"mcp","server_label":"x","server_url":"https://mcp.example"}`} {
		body := `{"model":"gpt-4o","input":"hi","tools":[{"type":"function","name":"f"},` + tool + `]}`
		code, hdr, out := h.post(context.Background(), "/v1/responses", body)
		e := decodeError(t, out)
		if code != http.StatusBadRequest || deref(e.Code) != "unsupported_tool" || deref(e.Param) != "tools[1].type" ||
			hdr.Get("X-Should-Retry") != "false" {
			t.Errorf("%s: %d %s %s", tool, code, hdr.Get("X-Should-Retry"), out)
		}
	}
	if n := len(h.fake.Received()); n != 0 {
		t.Errorf("fal received %d calls", n)
	}
}
