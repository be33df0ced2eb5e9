package responses

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/falproxy/falproxy/internal/openai"
)

// chunk is a chat stream chunk with one choice.
func chunk(delta string, finish string) []byte {
	f := "null"
	if finish != "" {
		f = `"` + finish + `"`
	}
	return []byte(`{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":` + delta + `,"finish_reason":` + f + `}]}`)
}

// run feeds chunks to a new Stream bridged to a backend that takes tools
// as text (which matters only for a request with tools) and returns every
// event.
func run(t *testing.T, req *Request, chunks ...[]byte) []Event {
	t.Helper()
	s := NewStream(req, 1, TextTools)
	evs := s.Start()
	for _, c := range chunks {
		evs = append(evs, s.Chunk(c)...)
	}
	return append(evs, s.End()...)
}

// names lists the events' names, checking that each event's data names it
// too and that sequence numbers count up from 0.
func names(t *testing.T, evs []Event) string {
	t.Helper()
	var out []string
	for i, ev := range evs {
		var d struct {
			Type string `json:"type"`
			Seq  int    `json:"sequence_number"`
		}
		if err := json.Unmarshal(ev.Data, &d); err != nil || d.Type != ev.Name || d.Seq != i {
			t.Fatalf("event %d %s: %s", i, ev.Name, ev.Data)
		}
		out = append(out, ev.Name)
	}
	return strings.Join(out, " ")
}

// final decodes the response of the last event.
func final(t *testing.T, evs []Event) Response {
	t.Helper()
	var d struct{ Response Response }
	if err := json.Unmarshal(evs[len(evs)-1].Data, &d); err != nil {
		t.Fatal(err)
	}
	return d.Response
}

func TestStreamEventSequences(t *testing.T) {
	req := &Request{Model: "m"}
	usage := []byte(`{"id":"c","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7,"completion_tokens_details":{"reasoning_tokens":2}}}`)
	for _, tt := range []struct {
		name   string
		chunks [][]byte
		want   string
		status string
	}{
		{
			name:   "text",
			chunks: [][]byte{chunk(`{"role":"assistant","content":""}`, ""), chunk(`{"content":"Hel"}`, ""), chunk(`{"content":"lo"}`, ""), chunk(`{}`, "stop"), usage},
			want: "response.created response.in_progress response.output_item.added response.content_part.added " +
				"response.output_text.delta response.output_text.delta response.output_text.done response.content_part.done " +
				"response.output_item.done response.completed",
			status: "completed",
		},
		{
			name:   "reasoning then text",
			chunks: [][]byte{chunk(`{"reasoning_content":"think"}`, ""), chunk(`{"content":"ok"}`, ""), chunk(`{}`, "stop")},
			want: "response.created response.in_progress response.output_item.added response.content_part.added " +
				"response.reasoning_text.delta response.reasoning_text.done response.content_part.done response.output_item.done " +
				"response.output_item.added response.content_part.added response.output_text.delta response.output_text.done " +
				"response.content_part.done response.output_item.done response.completed",
			status: "completed",
		},
		{
			name: "two function calls",
			chunks: [][]byte{
				chunk(`{"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"a","arguments":""}}]}`, ""),
				chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"{\"x\":"}}]}`, ""),
				chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]}`, ""),
				chunk(`{"tool_calls":[{"index":1,"id":"c2","type":"function","function":{"name":"b","arguments":"{}"}}]}`, ""),
				chunk(`{}`, "tool_calls"),
			},
			want: "response.created response.in_progress response.output_item.added response.function_call_arguments.delta " +
				"response.function_call_arguments.delta response.output_item.added response.function_call_arguments.delta " +
				"response.function_call_arguments.done response.output_item.done response.function_call_arguments.done " +
				"response.output_item.done response.completed",
			status: "completed",
		},
		{
			name:   "cut at the token limit",
			chunks: [][]byte{chunk(`{"content":"abc"}`, ""), chunk(`{}`, "length")},
			want: "response.created response.in_progress response.output_item.added response.content_part.added " +
				"response.output_text.delta response.output_text.done response.content_part.done response.output_item.done response.incomplete",
			status: "incomplete",
		},
		{
			name:   "no output at all",
			chunks: [][]byte{chunk(`{}`, "stop")},
			want: "response.created response.in_progress response.output_item.added response.content_part.added " +
				"response.output_text.done response.content_part.done response.output_item.done response.completed",
			status: "completed",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			evs := run(t, req, tt.chunks...)
			if got := names(t, evs); got != tt.want {
				t.Errorf("events\n%s\nwant\n%s", got, tt.want)
			}
			if r := final(t, evs); r.Status != tt.status {
				t.Errorf("status %s, want %s", r.Status, tt.status)
			}
		})
	}
}

// TestStreamFinalResponse checks the whole response the last event
// carries: the items in output order with their whole text and arguments,
// the usage with its reasoning tokens, and the incomplete reason.
func TestStreamFinalResponse(t *testing.T) {
	evs := run(t, &Request{Model: "m", MaxOutputTokens: new(5)},
		chunk(`{"reasoning_content":"hm"}`, ""), chunk(`{"content":"a"}`, ""), chunk(`{"content":"b"}`, ""),
		chunk(`{"tool_calls":[{"index":0,"id":"c1","function":{"name":"f","arguments":"{}"}}]}`, ""), chunk(`{}`, "length"),
		[]byte(`{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7,"completion_tokens_details":{"reasoning_tokens":2}}}`))
	r := final(t, evs)
	if len(r.Output) != 3 || r.Output[0].Content[0].Text != "hm" || r.Output[1].Content[0].Text != "ab" ||
		r.Output[2].CallID != "c1" || *r.Output[2].Arguments != "{}" {
		t.Errorf("output %+v", r.Output)
	}
	if !strings.HasPrefix(r.ID, "resp_") || !strings.HasPrefix(r.Output[0].ID, "rs_") || !strings.HasPrefix(r.Output[1].ID, "msg_") || !strings.HasPrefix(r.Output[2].ID, "fc_") {
		t.Errorf("ids %s %s %s %s", r.ID, r.Output[0].ID, r.Output[1].ID, r.Output[2].ID)
	}
	if r.Usage == nil || r.Usage.TotalTokens != 7 || r.Usage.OutputTokensDetails.ReasoningTokens != 2 {
		t.Errorf("usage %+v", r.Usage)
	}
	if r.Status != "incomplete" || r.IncompleteDetails == nil || r.IncompleteDetails.Reason != "max_output_tokens" || *r.MaxOutputTokens != 5 {
		t.Errorf("status %s, details %+v", r.Status, r.IncompleteDetails)
	}
}

// TestStreamStreamed estimates the usage of a stream left midway from
// the prompt and the text of every item so far.
func TestStreamStreamed(t *testing.T) {
	s := NewStream(&Request{Model: "m"}, 1, NativeTools)
	s.Start()
	for _, c := range [][]byte{chunk(`{"reasoning_content":"hm"}`, ""), chunk(`{"content":"é"}`, ""),
		chunk(`{"tool_calls":[{"index":0,"id":"c1","function":{"name":"f","arguments":"{}"}}]}`, "")} {
		s.Chunk(c)
	}
	if u := s.Streamed(9); u == nil || *u != (openai.Usage{PromptTokens: 3, CompletionTokens: 2, TotalTokens: 5}) {
		t.Errorf("streamed %+v, want 3 prompt and 2 completion tokens", u)
	}
}

// TestStreamFail ends a stream with response.failed carrying the error;
// nothing follows it.
func TestStreamFail(t *testing.T) {
	s := NewStream(&Request{Model: "m"}, 1, NativeTools)
	evs := append(s.Start(), s.Chunk(chunk(`{"content":"a"}`, ""))...)
	failed, ok := s.Fail(&openai.Error{Message: "fal broke", Code: "upstream_stream_error"})
	evs = append(append(evs, failed), s.End()...)
	if _, again := s.Fail(&openai.Error{Message: "again"}); !ok || again {
		t.Errorf("Fail reported %v, then %v for an ended stream", ok, again)
	}
	if got := names(t, evs); !strings.HasSuffix(got, "response.output_text.delta response.failed") {
		t.Fatalf("events %s", got)
	}
	r := final(t, evs)
	if r.Status != "failed" || r.Error == nil || r.Error.Code != "upstream_stream_error" || r.Error.Message != "fal broke" {
		t.Errorf("failed response %+v", r)
	}
}

// TestBuild turns whole chat completions into responses.
func TestBuild(t *testing.T) {
	req := &Request{Model: "m", Instructions: "sys"}
	r, err := Build(req, 1, []byte(`{"choices":[{"message":{"role":"assistant","content":"hi","reasoning_content":"why"},"finish_reason":"stop"}],`+
		`"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}`), NativeTools)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != "completed" || len(r.Output) != 2 || r.Output[0].Type != "reasoning" || r.Output[1].Content[0].Text != "hi" ||
		r.Usage.TotalTokens != 3 || *r.Instructions != "sys" {
		t.Errorf("response %+v", r)
	}
	r, err = Build(req, 1, []byte(`{"choices":[{"message":{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}`), NativeTools)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Output) != 1 || r.Output[0].Type != "function_call" || r.Output[0].Name != "f" || r.Usage != nil {
		t.Errorf("response %+v", r)
	}
	items := InputItems(r.Output)
	if len(items) != 1 || items[0].Type != "function_call" || items[0].CallID != "c1" {
		t.Errorf("as input items: %+v", items)
	}
	r, _ = Build(req, 1, []byte(`{"choices":[{"message":{"content":"ab"},"finish_reason":"length"}]}`), NativeTools)
	if r.Status != "incomplete" || r.IncompleteDetails.Reason != "max_output_tokens" {
		t.Errorf("cut answer: %+v", r)
	}
	if _, err := Build(req, 1, []byte(`not json`), NativeTools); err == nil {
		t.Error("a broken completion was read")
	}
}

// TestStreamOutputInIndexOrder: a message written after a function call
// began finishes first, yet the final response lists the items in their
// output_index order, as the events numbered them.
func TestStreamOutputInIndexOrder(t *testing.T) {
	evs := run(t, &Request{Model: "m"},
		chunk(`{"tool_calls":[{"index":0,"id":"c1","function":{"name":"f","arguments":"{}"}}]}`, ""),
		chunk(`{"content":"and some text"}`, ""), chunk(`{}`, "tool_calls"))
	r := final(t, evs)
	if len(r.Output) != 2 || r.Output[0].Type != "function_call" || r.Output[1].Type != "message" {
		t.Fatalf("output %+v", r.Output)
	}
	for _, ev := range evs {
		var d struct {
			OutputIndex *int       `json:"output_index"`
			Item        OutputItem `json:"item"`
		}
		if ev.Name == "response.output_item.added" && json.Unmarshal(ev.Data, &d) == nil && r.Output[*d.OutputIndex].ID != d.Item.ID {
			t.Errorf("item %s was added at %d, is at another place in the output", d.Item.ID, *d.OutputIndex)
		}
	}
}
