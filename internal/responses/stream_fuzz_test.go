package responses

import (
	"encoding/json"
	"testing"
)

// FuzzStream feeds arbitrary chunks to a Stream, with calls read from the
// text or not: every event must be JSON
// naming itself with the next sequence number, the stream must end with
// exactly one final event, and the final response's text must be the join
// of the text deltas.
func FuzzStream(f *testing.F) {
	f.Add([]byte(`{"choices":[{"delta":{"content":"a"}}]}`), []byte(`{"choices":[{"delta":{"tool_calls":[{"index":3,"function":{"arguments":"{"}}]},"finish_reason":"length"}]}`), false)
	f.Add([]byte(`{"choices":[{"delta":{"reasoning_content":"r","content":"c"}}]}`), []byte(`nope`), false)
	f.Add([]byte(`{"choices":[{"delta":{"content":"ok <tool_c"}}]}`), []byte(`{"choices":[{"delta":{"content":"all>{\"name\":\"get_weather\"}</tool_call>"}}]}`), true)
	f.Fuzz(func(t *testing.T, a, b []byte, textTools bool) {
		req, tools := &Request{Model: "m"}, NativeTools
		if textTools {
			req.Tools, tools = weather, TextTools
		}
		s := NewStream(req, 1, tools)
		evs := s.Start()
		evs = append(evs, s.Chunk(a)...)
		evs = append(evs, s.Chunk(b)...)
		evs = append(evs, s.End()...)
		text, final := "", 0
		for i, ev := range evs {
			var d struct {
				Type  string `json:"type"`
				Seq   int    `json:"sequence_number"`
				Delta string `json:"delta"`
			}
			if err := json.Unmarshal(ev.Data, &d); err != nil || d.Type != ev.Name || d.Seq != i {
				t.Fatalf("event %d: %s", i, ev.Data)
			}
			switch ev.Name {
			case "response.output_text.delta":
				text += d.Delta
			case "response.completed", "response.incomplete":
				final++
			}
		}
		r := s.Response()
		got := ""
		for _, o := range r.Output {
			if o.Type == "message" {
				got += o.Content[0].Text
			}
		}
		if final != 1 || got != text {
			t.Fatalf("%d final events; output text %q, deltas %q", final, got, text)
		}
	})
}
