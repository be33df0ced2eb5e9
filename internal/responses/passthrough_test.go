package responses

import (
	"encoding/json"
	"testing"

	"github.com/falproxy/falproxy/internal/openai"
)

// TestPassthroughBody forwards the allowed fields with fal's model id, and
// after a previous response the whole conversation as input.
func TestPassthroughBody(t *testing.T) {
	req, e := Decode([]byte(`{"model":"a","input":"more","store":true,"previous_response_id":"resp_1","provider":{"x":1},"temperature":0.5}`))
	if e != nil {
		t.Fatal(e)
	}
	history := []Item{{Type: "message", Role: "user", Content: ItemContent{Text: "first"}}}
	body, dropped, err := PassthroughBody(req, history, "openai/gpt-4o")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"input":[{"type":"message","role":"user","content":"first"},{"type":"message","role":"user","content":"more"}],"model":"openai/gpt-4o","temperature":0.5}`
	if !sameJSON(t, body, []byte(want)) {
		t.Errorf("body %s\nwant %s", body, want)
	}
	if len(dropped) != 3 || dropped[0] != "previous_response_id" || dropped[1] != "provider" || dropped[2] != "store" {
		t.Errorf("dropped %v", dropped)
	}
}

// TestPassthroughStream renames the model in the events' responses, keeps
// the final response, and fails a stream cut short with the next sequence
// number.
func TestPassthroughStream(t *testing.T) {
	p := NewPassthroughStream("alias", 0)
	ev := p.Event([]byte(`{"type":"response.created","sequence_number":0,"response":{"id":"resp_1","model":"openai/x","status":"in_progress","output":[]}}`))
	var d struct {
		Response Response `json:"response"`
	}
	if err := json.Unmarshal(ev.Data, &d); err != nil || ev.Name != "response.created" || d.Response.Model != "alias" || p.Ended() {
		t.Fatalf("event %s %s", ev.Name, ev.Data)
	}
	p.Event([]byte(`{"type":"response.output_text.delta","sequence_number":1,"delta":"x"}`))
	fail := p.Fail(&openai.Error{Message: "cut", Code: "upstream_stream_error"})
	var f struct {
		Seq      int      `json:"sequence_number"`
		Response Response `json:"response"`
	}
	if err := json.Unmarshal(fail.Data, &f); err != nil || f.Seq != 2 || f.Response.Status != "failed" || f.Response.ID != "resp_1" || !p.Ended() {
		t.Errorf("failure %s", fail.Data)
	}
	if _, ok := p.Final(); ok {
		t.Error("a failed stream gave a final response to keep")
	}
}

// TestPassthroughStreamError ends a stream at fal's "error" event with
// response.failed carrying its message and code.
func TestPassthroughStreamError(t *testing.T) {
	p := NewPassthroughStream("alias", 0)
	p.Event([]byte(`{"type":"response.created","sequence_number":0,"response":{"id":"resp_1","model":"x","status":"in_progress","output":[]}}`))
	ev := p.Event([]byte(`{"type":"error","sequence_number":1,"code":"rate_limit_exceeded","message":"slow down"}`))
	var f struct {
		Seq      int      `json:"sequence_number"`
		Response Response `json:"response"`
	}
	if err := json.Unmarshal(ev.Data, &f); err != nil || ev.Name != "response.failed" || f.Seq != 1 || !p.Ended() ||
		f.Response.Error == nil || f.Response.Error.Code != "rate_limit_exceeded" || f.Response.Error.Message != "slow down" {
		t.Errorf("event %s %s", ev.Name, ev.Data)
	}
}

// TestPassthroughStreamCountsRelayed numbers the response.failed of a
// stream cut short after the events relayed, whatever fal's own numbers:
// here fal sent none.
func TestPassthroughStreamCountsRelayed(t *testing.T) {
	p := NewPassthroughStream("alias", 0)
	p.Event([]byte(`{"type":"response.created","response":{"id":"resp_1","model":"x","status":"in_progress","output":[]}}`))
	p.Event([]byte(`{"type":"response.in_progress","response":{"id":"resp_1","model":"x","status":"in_progress","output":[]}}`))
	p.Event([]byte(`{"type":"response.output_text.delta","delta":"x"}`))
	var f struct {
		Seq int `json:"sequence_number"`
	}
	if err := json.Unmarshal(p.Fail(&openai.Error{Message: "cut"}).Data, &f); err != nil || f.Seq != 3 {
		t.Errorf("response.failed numbered %d, want 3", f.Seq)
	}
}

// TestPassthroughStreamStreamed estimates the usage of a stream left
// midway from the prompt and the text of every kind of delta relayed.
func TestPassthroughStreamStreamed(t *testing.T) {
	p := NewPassthroughStream("alias", 9)
	for _, ev := range []string{
		`{"type":"response.created","response":{"id":"resp_1","model":"x","status":"in_progress","output":[]}}`,
		`{"type":"response.reasoning_summary_text.delta","delta":"ab"}`,
		`{"type":"response.reasoning_text.delta","delta":"cd"}`,
		`{"type":"response.output_text.delta","delta":"é"}`,
		`{"type":"response.refusal.delta","delta":"f"}`,
		`{"type":"response.function_call_arguments.delta","delta":"{}"}`,
		`{"type":"response.output_text.done","text":"not counted"}`,
	} {
		p.Event([]byte(ev))
	}
	if u := p.Streamed(); u != (Usage{InputTokens: 3, OutputTokens: 2, TotalTokens: 5}) {
		t.Errorf("streamed %+v, want 3 input and 2 output tokens", u)
	}
}

// TestRelabel relays every response fal sends, under the client's model
// name, with usage estimated when fal reports none; it is kept only when
// it has an id, finished, and reads as a Response.
func TestRelabel(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		kept       bool
		usage      string
	}{
		{"completed", `{"id":"resp_1","status":"completed","model":"x","output":[],"usage":{"input_tokens":1,"output_tokens":2,"total_tokens":3}}`, true, `{"input_tokens":1,"output_tokens":2,"total_tokens":3}`},
		{"no usage", `{"id":"resp_1","status":"completed","model":"x","output":[{"type":"message","content":[{"type":"output_text","text":"abcdefgh"}]},` +
			`{"type":"function_call","arguments":"{}"}]}`, true,
			`{"input_tokens":3,"input_tokens_details":{"cached_tokens":0},"output_tokens":3,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":6}`},
		{"numeric error code, item-list instructions, fractional created_at", `{"id":"resp_1","status":"failed","model":"x","created_at":1764600000.5,` +
			`"instructions":[{"type":"message","role":"developer","content":"x"}],"error":{"code":502,"message":"m"},"usage":{"total_tokens":1}}`, false, `{"total_tokens":1}`},
		{"loose but completed", `{"id":"resp_1","status":"completed","model":"x","created_at":1.5,"usage":{"total_tokens":1}}`, false, `{"total_tokens":1}`},
		{"in progress", `{"id":"resp_1","status":"in_progress","model":"x","usage":{"total_tokens":1}}`, false, `{"total_tokens":1}`},
		{"no id", `{"status":"completed","model":"x","usage":{"total_tokens":1}}`, false, `{"total_tokens":1}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, r, kept, err := Relabel([]byte(tt.body), "alias", 10)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]json.RawMessage
			if err := json.Unmarshal(out, &got); err != nil || string(got["model"]) != `"alias"` || !sameJSON(t, got["usage"], []byte(tt.usage)) {
				t.Errorf("answer %s", out)
			}
			if kept != tt.kept || kept && (r.Model != "alias" || r.ID != "resp_1") {
				t.Errorf("kept %v (%+v), want %v", kept, r, tt.kept)
			}
		})
	}
	if _, _, _, err := Relabel([]byte(`[1]`), "alias", 0); err == nil {
		t.Error("an array was relayed as a response")
	}
}
