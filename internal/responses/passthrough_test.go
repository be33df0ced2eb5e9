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
	p := NewPassthroughStream("alias")
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
	p := NewPassthroughStream("alias")
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
