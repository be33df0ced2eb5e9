package openai

import "testing"

// TestEventError reads the error of chat's and the Responses API's error
// events, in the shapes providers send them.
func TestEventError(t *testing.T) {
	for _, tt := range []struct{ data, message, typ, code string }{
		{`{"error":{"message":"boom","type":"upstream_error","code":"model_error"}}`, "boom", "upstream_error", "model_error"},
		{`{"type":"error","code":"runner_disconnected","message":"gone","param":null,"sequence_number":4}`, "gone", TypeServer, "runner_disconnected"},
		{`{"type":"error","code":502,"message":"bad gateway"}`, "bad gateway", TypeServer, "502"},
		{`{"type":"error","error":{"message":"nested","code":429}}`, "nested", TypeServer, "429"},
		{`{"type":"error","code":{"x":1}}`, "fal's stream reported an error.", TypeServer, ""},
		{`not json`, "fal's stream reported an error.", TypeServer, ""},
	} {
		e := EventError([]byte(tt.data))
		if e.Message != tt.message || e.Type != tt.typ || e.Code != tt.code {
			t.Errorf("%s: %+v", tt.data, e)
		}
	}
}
