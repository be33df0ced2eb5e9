package server_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/openai/openai-go/v3/responses"

	"github.com/falproxy/falproxy/internal/chat"
)

// falChatRequest is what fal received for the one chat call of a bridged
// response: the folded prompt on the folding backends, the forwarded chat
// body on the passthrough.
func (h *harness) falChatRequest(b chatBackend, stream bool) map[string]any {
	h.t.Helper()
	return decodeJSON(h.t, h.onlyFalCall(falChatOp(b, stream)).Body)
}

// TestResponsesCreate sends a Responses request through openai-go on every
// chat backend: the SDK must parse a completed response whose text is the
// model's answer, and fal must receive the instructions as the system
// prompt and the input as the user's turn, with max_output_tokens as chat's
// max_tokens on the passthrough.
func TestResponsesCreate(t *testing.T) {
	for _, b := range chatBackends() {
		t.Run(b.name, func(t *testing.T) {
			h := newHarness(t, withBackend(b.name))
			resp, err := h.sdk.Responses.New(context.Background(), responses.ResponseNewParams{
				Model:           "gpt-4o",
				Instructions:    oai.String("Answer briefly."),
				Input:           responses.ResponseNewParamsInputUnion{OfString: oai.String("why is the sky blue")},
				MaxOutputTokens: oai.Int(400),
			})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != "completed" || !strings.HasPrefix(resp.ID, "resp_") || resp.Model != "gpt-4o" {
				t.Errorf("response %s status %s model %s", resp.ID, resp.Status, resp.Model)
			}
			if text := resp.OutputText(); !strings.Contains(text, "sky blue") {
				t.Errorf("output text %q does not answer the question", text)
			}
			if b.usage && resp.Usage.TotalTokens == 0 {
				t.Errorf("no usage: %+v", resp.Usage)
			}
			in := h.falChatRequest(b, false)
			if b.passthrough() {
				msgs, _ := json.Marshal(in["messages"])
				want := `[{"content":"Answer briefly.","role":"system"},{"content":"why is the sky blue","role":"user"}]`
				if string(msgs) != want || in["max_tokens"] != json.Number("400") || in["model"] != "openai/gpt-4o" {
					t.Errorf("fal received %v", in)
				}
				return
			}
			if sys, _ := in["system_prompt"].(string); !strings.Contains(sys, "Answer briefly.") {
				t.Errorf("fal's system prompt %q lacks the instructions", sys)
			}
			if p, _ := in["prompt"].(string); !strings.Contains(p, "why is the sky blue") {
				t.Errorf("fal's prompt %q lacks the input", p)
			}
		})
	}
}

// TestResponsesStream streams a response through openai-go on every chat
// backend: the events arrive in the order the SDKs expect with increasing
// sequence numbers, the joined text deltas equal the completed response's
// text, and the stream asked fal for a stream.
func TestResponsesStream(t *testing.T) {
	for _, b := range chatBackends() {
		t.Run(b.name, func(t *testing.T) {
			h := newHarness(t, withBackend(b.name))
			stream := h.sdk.Responses.NewStreaming(context.Background(), responses.ResponseNewParams{
				Model: "gpt-4o",
				Input: responses.ResponseNewParamsInputUnion{OfString: oai.String("tell me about tides")},
			})
			got := readResponseStream(t, stream)
			if err := stream.Err(); err != nil {
				t.Fatal(err)
			}
			names, final := got.names, got.final
			want := []string{"response.created", "response.in_progress", "response.output_item.added",
				"response.content_part.added", "response.output_text.delta", "response.output_text.done",
				"response.content_part.done", "response.output_item.done", "response.completed"}
			if strings.Join(names, " ") != strings.Join(want, " ") {
				t.Errorf("events\n%v\nwant\n%v", names, want)
			}
			if final.Status != "completed" || final.OutputText() == "" || final.OutputText() != got.text || got.accumulated != got.text {
				t.Errorf("completed response %q (status %s), deltas %q, accumulated %q", final.OutputText(), final.Status, got.text, got.accumulated)
			}
			h.falChatRequest(b, true)
		})
	}
}

// streamedResponse is what a Responses stream carried, as openai-go read it.
type streamedResponse struct {
	names       []string // event types, repeats joined
	text        string   // the output_text deltas, joined
	args        string   // the function_call_arguments deltas, joined
	argsDone    string   // the arguments of function_call_arguments.done
	accumulated string   // the output text of the SDK's accumulator
	final       responses.Response
}

// readResponseStream reads a stream to its end through openai-go, feeding
// every event to the SDK's ResponseAccumulator too, and checks that the
// sequence numbers count up from 0.
func readResponseStream(t *testing.T, stream *ssestream.Stream[responses.ResponseStreamEventUnion]) streamedResponse {
	t.Helper()
	var got streamedResponse
	var text, args strings.Builder
	var acc responses.ResponseAccumulator
	for seq := int64(0); stream.Next(); seq++ {
		ev := stream.Current()
		if ev.SequenceNumber != seq {
			t.Errorf("event %s has sequence_number %d, want %d", ev.Type, ev.SequenceNumber, seq)
		}
		if n := len(got.names); n == 0 || got.names[n-1] != ev.Type {
			got.names = append(got.names, ev.Type)
		}
		var serverEvent responses.ResponsesServerEventUnion
		if err := json.Unmarshal([]byte(ev.RawJSON()), &serverEvent); err != nil {
			t.Fatalf("event %s: %v", ev.Type, err)
		}
		if err := acc.AddEvent(serverEvent); err != nil {
			t.Errorf("the SDK's accumulator refused %s: %v", ev.RawJSON(), err)
		}
		switch ev.Type {
		case "response.output_text.delta":
			text.WriteString(ev.Delta)
		case "response.function_call_arguments.delta":
			args.WriteString(ev.Delta)
		case "response.function_call_arguments.done":
			got.argsDone = ev.Arguments
		case "response.completed", "response.incomplete":
			got.final = ev.Response
		}
	}
	got.text, got.args, got.accumulated = text.String(), args.String(), acc.Snapshot().OutputText()
	return got
}

// TestResponsesConversationChain continues a conversation for three turns
// by previous_response_id: the third turn reaches fal with every earlier
// turn, input and answer, in order, rebuilt from the kept turns.
func TestResponsesConversationChain(t *testing.T) {
	h := newHarness(t, withBackend(chat.Passthrough.String()))
	ctx := context.Background()
	prev := ""
	var answers []string
	for _, text := range []string{"first", "second", "third"} {
		params := responses.ResponseNewParams{Model: "gpt-4o", Input: responses.ResponseNewParamsInputUnion{OfString: oai.String(text)}}
		if prev != "" {
			params.PreviousResponseID = oai.String(prev)
		}
		h.fake.Reset()
		resp, err := h.sdk.Responses.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		prev = resp.ID
		answers = append(answers, resp.OutputText())
	}
	var msgs []struct{ Role, Content string }
	b, _ := json.Marshal(h.falChatRequest(backendsNamed(chat.Passthrough)[0], false)["messages"])
	if err := json.Unmarshal(b, &msgs); err != nil || len(msgs) != 5 {
		t.Fatalf("fal received %s", b)
	}
	for i, want := range []string{"first", answers[0], "second", answers[1], "third"} {
		if msgs[i].Content != want {
			t.Errorf("message %d is %q, want %q", i, msgs[i].Content, want)
		}
	}
}
