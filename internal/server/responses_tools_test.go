package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/responses"

	"github.com/falproxy/falproxy/internal/falfake"
)

// weatherTool is the one function tool of the round-trip tests.
var weatherTool = responses.ToolUnionParam{OfFunction: &responses.FunctionToolParam{
	Name: "get_weather", Description: oai.String("Current weather of a city."), Strict: oai.Bool(false),
	Parameters: map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}},
}}

const weatherQuestion = "please call get_weather for Paris"

// toolOutput answers the call the first turn made.
func toolOutput(callID string) responses.ResponseInputItemUnionParam {
	item := responses.ResponseInputItemParamOfFunctionCallOutput("sunny and 21C")
	item.OfFunctionCallOutput.CallID = oai.String(callID)
	return item
}

// onlyFunctionCall returns the one function call of a response's output.
func onlyFunctionCall(t *testing.T, resp *responses.Response) responses.ResponseFunctionToolCall {
	t.Helper()
	var calls []responses.ResponseFunctionToolCall
	for _, o := range resp.Output {
		if o.Type == "function_call" {
			calls = append(calls, o.AsFunctionCall())
		}
	}
	if len(calls) != 1 {
		t.Fatalf("output has %d function calls, want 1: %s", len(calls), resp.RawJSON())
	}
	return calls[0]
}

// lastChatMessages returns the messages of the newest chat request fal
// received, as JSON.
func (h *harness) lastChatMessages() string {
	h.t.Helper()
	calls := h.falCalls(falfake.OpChat)
	if len(calls) == 0 {
		h.t.Fatal("fal received no chat request")
	}
	b, _ := json.Marshal(decodeJSON(h.t, calls[len(calls)-1].Body)["messages"])
	return string(b)
}

// lastFalInput is the body of the newest chat call fal received on backend
// b: the forwarded chat request, or the folded prompt's input.
func (h *harness) lastFalInput(b chatBackend, stream bool) map[string]any {
	h.t.Helper()
	op := falChatOp(b, stream)
	calls := h.falCalls(op)
	if len(calls) == 0 {
		h.t.Fatalf("fal received no %s call", op)
	}
	return decodeJSON(h.t, calls[len(calls)-1].Body)
}

// falChatOp is the operation by which a chat call reaches fal on backend b.
func falChatOp(b chatBackend, stream bool) falfake.Op {
	switch {
	case b.passthrough():
		return falfake.OpChat
	case stream:
		return falfake.OpLLMStream
	}
	return falfake.OpSubmit
}

// checkToolsDeclared checks how fal received the weather tool: in chat's
// nested shape on the OpenAI-compatible backend, in the system prompt on
// the folding ones (which take no tools).
func checkToolsDeclared(t *testing.T, b chatBackend, in map[string]any) {
	t.Helper()
	if !b.passthrough() {
		const want = `- get_weather: Current weather of a city. Parameters (JSON Schema): {"properties":{"city":{"type":"string"}},"type":"object"}`
		if sys, _ := in["system_prompt"].(string); !strings.Contains(sys, want) || !strings.Contains(sys, "<tool_call>") {
			t.Errorf("fal's system prompt does not declare the tool:\n%s", sys)
		}
		return
	}
	tools, _ := json.Marshal(in["tools"])
	if want := `[{"function":{"description":"Current weather of a city.","name":"get_weather","parameters":{"properties":{"city":{"type":"string"}},"type":"object"},"strict":false},"type":"function"}]`; string(tools) != want {
		t.Errorf("fal received tools %s\nwant %s", tools, want)
	}
}

// checkToolTurnReceived checks how fal received the call and its output:
// an assistant message with tool_calls and a tool message on the
// OpenAI-compatible backend, the folded transcript's lines on the others.
func checkToolTurnReceived(t *testing.T, b chatBackend, in map[string]any, callID string) {
	t.Helper()
	if !b.passthrough() {
		want := "Human: " + weatherQuestion + "\n\nAssistant called get_weather({\"city\":\"Paris\"}) (" + callID + ")\n\nTool (" + callID + "): sunny and 21C"
		if p, _ := in["prompt"].(string); !strings.Contains(p, want) {
			t.Errorf("fal's prompt\n%s\nlacks\n%s", p, want)
		}
		return
	}
	msgs, _ := json.Marshal(in["messages"])
	want := `[{"content":"please call get_weather for Paris","role":"user"},` +
		`{"content":null,"role":"assistant","tool_calls":[{"function":{"arguments":"{\"city\":\"Paris\"}","name":"get_weather"},"id":"` + callID + `","type":"function"}]},` +
		`{"content":"sunny and 21C","role":"tool","tool_call_id":"` + callID + `"}]`
	if string(msgs) != want {
		t.Errorf("fal received messages\n%s\nwant\n%s", msgs, want)
	}
}

// TestResponsesFunctionCallRoundTrip runs a function tool through two
// turns with openai-go on every chat backend: the first answer is a
// function_call, and the second request, carrying the call and its
// function_call_output either as items or through previous_response_id,
// reaches fal as the call and its output and is answered with text that
// uses the output. The folding backends get the tools declared in the
// system prompt and answer the call as tagged text, which the bridge reads.
func TestResponsesFunctionCallRoundTrip(t *testing.T) {
	for _, b := range chatBackends() {
		t.Run(b.name, func(t *testing.T) {
			h := newHarness(t, withBackend(b.name))
			ctx := context.Background()
			first, err := h.sdk.Responses.New(ctx, responses.ResponseNewParams{
				Model: "gpt-4o", Tools: []responses.ToolUnionParam{weatherTool},
				Input: responses.ResponseNewParamsInputUnion{OfString: oai.String(weatherQuestion)},
			})
			if err != nil {
				t.Fatal(err)
			}
			call := onlyFunctionCall(t, first)
			if call.Name != "get_weather" || call.Arguments != `{"city":"Paris"}` || call.CallID == "" || !strings.HasPrefix(call.ID, "fc_") {
				t.Fatalf("function call %+v", call)
			}
			checkToolsDeclared(t, b, h.lastFalInput(b, false))
			for _, tt := range []struct {
				name   string
				params responses.ResponseNewParams
			}{
				{"items", responses.ResponseNewParams{Model: "gpt-4o", Tools: []responses.ToolUnionParam{weatherTool},
					Input: responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{
						responses.ResponseInputItemParamOfMessage(weatherQuestion, responses.EasyInputMessageRoleUser),
						responses.ResponseInputItemParamOfFunctionCall(call.Arguments, call.CallID, call.Name),
						toolOutput(call.CallID),
					}}}},
				{"previous_response_id", responses.ResponseNewParams{Model: "gpt-4o", Tools: []responses.ToolUnionParam{weatherTool},
					PreviousResponseID: oai.String(first.ID),
					Input:              responses.ResponseNewParamsInputUnion{OfInputItemList: responses.ResponseInputParam{toolOutput(call.CallID)}}}},
			} {
				second, err := h.sdk.Responses.New(ctx, tt.params)
				if err != nil {
					t.Fatalf("%s: %v", tt.name, err)
				}
				if text := second.OutputText(); !strings.Contains(text, "sunny and 21C") {
					t.Errorf("%s: second answer %q does not use the tool output", tt.name, text)
				}
				checkToolTurnReceived(t, b, h.lastFalInput(b, false), call.CallID)
			}
		})
	}
}

// TestResponsesFunctionCallStream streams a turn that calls a function on
// every chat backend: the call arrives as output_item.added,
// function_call_arguments.delta events whose join is the arguments, .done
// and output_item.done, no text of the tagged call leaks as output text,
// and the completed response carries the call.
func TestResponsesFunctionCallStream(t *testing.T) {
	for _, b := range chatBackends() {
		t.Run(b.name, func(t *testing.T) {
			h := newHarness(t, withBackend(b.name))
			stream := h.sdk.Responses.NewStreaming(context.Background(), responses.ResponseNewParams{
				Model: "gpt-4o", Tools: []responses.ToolUnionParam{weatherTool},
				Input: responses.ResponseNewParamsInputUnion{OfString: oai.String(weatherQuestion)},
			})
			got := readResponseStream(t, stream)
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			call := onlyFunctionCall(t, &got.final)
			if got.args != `{"city":"Paris"}` || got.argsDone != got.args || call.Arguments != got.args || call.Name != "get_weather" || got.text != "" {
				t.Errorf("deltas %q, done %q, final call %+v, text %q", got.args, got.argsDone, call, got.text)
			}
			checkToolsDeclared(t, b, h.lastFalInput(b, true))
		})
	}
}

// TestResponsesToolChoiceOnFoldedBackends: the folding backends take no
// tool_choice, so "required" and a named function reach fal as an order
// in the system prompt that declares the tools.
func TestResponsesToolChoiceOnFoldedBackends(t *testing.T) {
	for _, b := range foldedBackends() {
		for _, tt := range []struct {
			name   string
			choice responses.ResponseNewParamsToolChoiceUnion
			want   string
		}{
			{"required", responses.ResponseNewParamsToolChoiceUnion{OfToolChoiceMode: oai.Opt(responses.ToolChoiceOptionsRequired)},
				"You must call at least one of them now."},
			{"named", responses.ResponseNewParamsToolChoiceUnion{OfFunctionTool: &responses.ToolChoiceFunctionParam{Name: "get_weather"}},
				"You must call get_weather now."},
		} {
			t.Run(b.name+"/"+tt.name, func(t *testing.T) {
				h := newHarness(t, withBackend(b.name))
				_, err := h.sdk.Responses.New(context.Background(), responses.ResponseNewParams{
					Model: "gpt-4o", Tools: []responses.ToolUnionParam{weatherTool}, ToolChoice: tt.choice,
					Input: responses.ResponseNewParamsInputUnion{OfString: oai.String(weatherQuestion)},
				})
				if err != nil {
					t.Fatal(err)
				}
				in := h.lastFalInput(b, false)
				checkToolsDeclared(t, b, in)
				if sys, _ := in["system_prompt"].(string); !strings.Contains(sys, tt.want) {
					t.Errorf("fal's system prompt lacks %q:\n%s", tt.want, sys)
				}
			})
		}
	}
}

// TestResponsesStoreAndGet checks what falproxy keeps: a stored response
// can be read back with GET by the key that made it and by no other; one
// made with store false is not kept, and naming it as
// previous_response_id is a 400 previous_response_not_found that says why.
func TestResponsesStoreAndGet(t *testing.T) {
	const otherKey = "sk-test-other-key"
	h := newHarness(t, func(s *setup) { s.server.AccessKeys = append(s.server.AccessKeys, otherKey) })
	ctx := context.Background()
	kept, err := h.sdk.Responses.New(ctx, responses.ResponseNewParams{Model: "gpt-4o",
		Input: responses.ResponseNewParamsInputUnion{OfString: oai.String("remember this")}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := h.sdk.Responses.Get(ctx, kept.ID, responses.ResponseGetParams{})
	if err != nil || got.ID != kept.ID || got.OutputText() != kept.OutputText() {
		t.Fatalf("GET of a stored response: %v, %+v", err, got)
	}
	req, _ := http.NewRequest(http.MethodGet, h.url+"/v1/responses/"+kept.ID, nil)
	req.Header.Set("Authorization", "Bearer "+otherKey)
	if code, hdr, body := h.do(req); code != http.StatusNotFound || deref(decodeError(t, body).Code) != "response_not_found" ||
		hdr.Get("X-Should-Retry") != "false" {
		t.Errorf("another key read the response: %d %v %s", code, hdr, body)
	}

	unkept, err := h.sdk.Responses.New(ctx, responses.ResponseNewParams{Model: "gpt-4o", Store: oai.Bool(false),
		Input: responses.ResponseNewParamsInputUnion{OfString: oai.String("forget this")}})
	if err != nil {
		t.Fatal(err)
	}
	calls := len(h.fake.Received())
	code, hdr, body := h.post(ctx, "/v1/responses", `{"model":"gpt-4o","input":"and now?","previous_response_id":"`+unkept.ID+`"}`)
	e := decodeError(t, body)
	if code != http.StatusBadRequest || deref(e.Param) != "previous_response_id" || deref(e.Code) != "previous_response_not_found" ||
		!strings.Contains(e.Message, "in process for 1h,") || hdr.Get("X-Should-Retry") != "false" {
		t.Errorf("previous response not kept: %d %+v %v", code, e, hdr)
	}
	if len(h.fake.Received()) != calls {
		t.Error("fal was called for a request that names an unknown previous response")
	}
}
