package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/falfake"
	"github.com/falproxy/falproxy/internal/server"
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

// TestResponsesPassthroughRelaysWhatFalSends sends answers of the shapes
// fal's route relays from providers through the passthrough, whole: a
// response with instructions as a list of items and a fractional
// created_at, which falproxy's own types do not read, is relayed under
// the client's model name (not a 502) and not kept; one without usage
// gets an estimate and is kept.
func TestResponsesPassthroughRelaysWhatFalSends(t *testing.T) {
	h := newHarness(t, withResponsesPassthrough)
	ctx := context.Background()
	code, _, body := h.post(ctx, "/v1/responses", `{"model":"gpt-4o","input":"hello [loose]"}`)
	got := decodeJSON(t, body)
	if code != http.StatusOK || got["model"] != "gpt-4o" || got["created_at"] == nil || got["instructions"] == nil {
		t.Fatalf("%d %s", code, body)
	}
	if in := decodeJSON(t, h.onlyFalCall(falfake.OpResponses).Body); in["model"] != "openai/gpt-4o" {
		t.Errorf("fal received %v", in)
	}
	code, _, body = h.post(ctx, "/v1/responses", `{"model":"gpt-4o","previous_response_id":"`+got["id"].(string)+`","input":"more"}`)
	if e := decodeError(t, body); code != http.StatusBadRequest || deref(e.Code) != "previous_response_not_found" {
		t.Errorf("a response that cannot be read was kept: %d %s", code, body)
	}

	resp, err := h.sdk.Responses.New(ctx, responses.ResponseNewParams{Model: "gpt-4o",
		Input: responses.ResponseNewParamsInputUnion{OfString: oai.String("hello there [no-usage]")}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Usage.InputTokens != 6 || resp.Usage.OutputTokens == 0 || resp.Usage.TotalTokens != resp.Usage.InputTokens+resp.Usage.OutputTokens {
		t.Errorf("usage %+v, want an estimate (22 characters of input: 6)", resp.Usage)
	}
	if _, err := h.sdk.Responses.Get(ctx, resp.ID, responses.ResponseGetParams{}); err != nil {
		t.Errorf("the completed response was not kept: %v", err)
	}
}

// TestResponsesPassthroughStreamVariants streams the event shapes fal's
// route relays through openai-go: reasoning as summary events, events
// without sequence_number, and no usage. Every event reaches the client
// under the client's model name; a stream without usage gets an estimate
// in its final event, and a failed one (fal's error event, with a number
// as its code) ends with response.failed numbered after the events
// relayed.
func TestResponsesPassthroughStreamVariants(t *testing.T) {
	h := newHarness(t, withResponsesPassthrough)
	stream := h.sdk.Responses.NewStreaming(context.Background(), responses.ResponseNewParams{Model: "gpt-4o",
		Input: responses.ResponseNewParamsInputUnion{OfString: oai.String("think about it [summary] [no-usage]")}})
	got := readResponseStream(t, stream)
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if got.final.Model != "gpt-4o" || got.final.Usage.TotalTokens == 0 || !strings.Contains(strings.Join(got.names, " "), "response.reasoning_summary_text.delta") {
		t.Errorf("events %v, final model %s usage %+v", got.names, got.final.Model, got.final.Usage)
	}
	if rs := got.final.Output[0]; rs.Type != "reasoning" || len(rs.Summary) != 1 || rs.Summary[0].Text == "" {
		t.Errorf("reasoning %+v", rs)
	}

	code, _, body := h.post(context.Background(), "/v1/responses", `{"model":"gpt-4o","stream":true,"input":"a long story [noseq] [fail]"}`)
	names, data := responsesEvents(t, body)
	last := len(names) - 1
	if code != http.StatusOK || names[last] != "response.failed" {
		t.Fatalf("%d events %v", code, names)
	}
	for i, d := range data[:last] {
		if r, ok := d["response"].(map[string]any); ok && r["model"] != "gpt-4o" {
			t.Errorf("event %d names the model %v", i, r["model"])
		}
	}
	resp := data[last]["response"].(map[string]any)
	e, _ := resp["error"].(map[string]any)
	if data[last]["sequence_number"] != json.Number(strconv.Itoa(last)) || resp["model"] != "gpt-4o" || e["code"] != "502" {
		t.Errorf("response.failed %v, want sequence_number %d", data[last], last)
	}
}

// TestResponsesPassthroughShutdown cuts a passed-through stream by a
// shutdown: the client's stream ends with response.failed carrying the
// shutdown error, which advises a retry.
func TestResponsesPassthroughShutdown(t *testing.T) {
	base, shutdown := context.WithCancelCause(context.Background())
	defer shutdown(nil)
	h := newHarness(t, withResponsesPassthrough, func(s *setup) {
		s.base = base
		s.fake.TokenDelay = 50 * time.Millisecond
	})
	answer := h.startRequest("/v1/responses", `{"model":"gpt-4o","stream":true,"input":"`+slowStory+`"}`, true)
	eventually(t, "fal streams", func() bool { return goroutinesIn("falfake.(*Fake).responses") == 1 })
	shutdown(server.ErrShuttingDown)
	a := <-answer
	names, data := responsesEvents(t, []byte(a.body))
	last := len(names) - 1
	if names[last] != "response.failed" {
		t.Fatalf("stream ends with %v", names)
	}
	resp := data[last]["response"].(map[string]any)
	if e, _ := resp["error"].(map[string]any); e["code"] != "server_shutting_down" || resp["model"] != "gpt-4o" {
		t.Errorf("response.failed %v", resp)
	}
}
