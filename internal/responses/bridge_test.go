package responses

import (
	"encoding/json"
	"testing"
)

// TestChatBody maps Responses requests onto the chat request the bridge
// sends, field by field.
func TestChatBody(t *testing.T) {
	for _, tt := range []struct {
		name, body, history, want string
	}{
		{
			name: "string input with instructions and settings",
			body: `{"model":"m","input":"hi","instructions":"be brief","max_output_tokens":50,"temperature":0.2,"top_p":0.9,"user":"u1"}`,
			want: `{"model":"m","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}],"max_tokens":50,"temperature":0.2,"top_p":0.9,"user":"u1"}`,
		},
		{
			name: "stream asks for usage",
			body: `{"model":"m","input":"hi","stream":true}`,
			want: `{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}`,
		},
		{
			name: "developer and system items become system messages; parts become chat parts",
			body: `{"model":"m","input":[{"role":"developer","content":"rules"},{"type":"message","role":"system","content":[{"type":"input_text","text":"more"}]},` +
				`{"role":"user","content":[{"type":"input_text","text":"look"},{"type":"input_image","image_url":"https://x/a.png","detail":"low"}]}]}`,
			want: `{"model":"m","messages":[{"role":"system","content":"rules"},{"role":"system","content":"more"},` +
				`{"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"https://x/a.png","detail":"low"}}]}]}`,
		},
		{
			name: "consecutive function calls join the assistant turn; outputs are tool messages; reasoning is left out",
			body: `{"model":"m","input":[{"role":"user","content":"go"},{"type":"reasoning","id":"rs_1","summary":[]},` +
				`{"type":"message","role":"assistant","content":[{"type":"output_text","text":"calling"}]},` +
				`{"type":"function_call","call_id":"c1","name":"a","arguments":"{}"},{"type":"function_call","call_id":"c2","name":"b","arguments":"{\"x\":1}"},` +
				`{"type":"function_call_output","call_id":"c1","output":"one"},{"type":"function_call_output","call_id":"c2","output":[{"type":"input_text","text":"two"}]}]}`,
			want: `{"model":"m","messages":[{"role":"user","content":"go"},{"role":"assistant","content":"calling","tool_calls":[` +
				`{"id":"c1","type":"function","function":{"name":"a","arguments":"{}"}},{"id":"c2","type":"function","function":{"name":"b","arguments":"{\"x\":1}"}}]},` +
				`{"role":"tool","content":"one","tool_call_id":"c1"},{"role":"tool","content":"two","tool_call_id":"c2"}]}`,
		},
		{
			name: "function calls without text start an assistant message",
			body: `{"model":"m","input":[{"role":"user","content":"go"},{"type":"function_call","call_id":"c1","name":"a","arguments":"{}"}]}`,
			want: `{"model":"m","messages":[{"role":"user","content":"go"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"a","arguments":"{}"}}]}]}`,
		},
		{
			name:    "history comes first",
			body:    `{"model":"m","input":"and then?","instructions":"sys"}`,
			history: `[{"type":"message","role":"user","content":"first"},{"type":"message","role":"assistant","content":[{"type":"output_text","text":"answer"}]}]`,
			want:    `{"model":"m","messages":[{"role":"system","content":"sys"},{"role":"user","content":"first"},{"role":"assistant","content":"answer"},{"role":"user","content":"and then?"}]}`,
		},
		{
			name: "function tools are nested; tool_choice and parallel_tool_calls follow",
			body: `{"model":"m","input":"x","tools":[{"type":"function","name":"f","description":"d","parameters":{"type":"object"},"strict":true}],"tool_choice":{"type":"function","name":"f"},"parallel_tool_calls":false}`,
			want: `{"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object"},"strict":true}}],` +
				`"tool_choice":{"function":{"name":"f"},"type":"function"},"parallel_tool_calls":false}`,
		},
		{
			name: "reasoning effort and json_schema format",
			body: `{"model":"m","input":"x","reasoning":{"effort":"high","summary":"auto"},"text":{"format":{"type":"json_schema","name":"s","schema":{"type":"object"},"strict":true}}}`,
			want: `{"model":"m","messages":[{"role":"user","content":"x"}],"reasoning_effort":"high","response_format":{"json_schema":{"name":"s","schema":{"type":"object"},"strict":true},"type":"json_schema"}}`,
		},
		{
			name: "json_object format; text format needs nothing",
			body: `{"model":"m","input":"x","text":{"format":{"type":"json_object"}},"tool_choice":"required"}`,
			want: `{"model":"m","messages":[{"role":"user","content":"x"}],"tool_choice":"required","response_format":{"type":"json_object"}}`,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, e := Decode([]byte(tt.body))
			if e != nil {
				t.Fatal(e)
			}
			var history []Item
			if tt.history != "" {
				if err := json.Unmarshal([]byte(tt.history), &history); err != nil {
					t.Fatal(err)
				}
			}
			got, e := ChatBody(req, history, NativeTools)
			if e != nil {
				t.Fatal(e)
			}
			if !sameJSON(t, got, []byte(tt.want)) {
				t.Errorf("chat body\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestChatBodyRefusals lists requests the bridge cannot serve: each is a
// 400 naming the field, from Decode (tools, in every mode) or ChatBody.
func TestChatBodyRefusals(t *testing.T) {
	for _, tt := range []struct{ body, param, code string }{
		{`{"model":"m","input":"x","tools":[{"type":"web_search"}]}`, "tools[0].type", "unsupported_tool"},
		{`{"model":"m","input":"x","tools":[{"type":"function"}]}`, "tools[0].name", "missing_required_parameter"},
		{`{"model":"m","input":[{"type":"item_reference","id":"x"}]}`, "input[0].type", "invalid_value"},
		{`{"model":"m","input":[{"role":"robot","content":"x"}]}`, "input[0].role", "invalid_value"},
		{`{"model":"m","input":[{"role":"user","content":[{"type":"input_file","file_id":"f"}]}]}`, "input[0].content[0].type", "invalid_value"},
		{`{"model":"m","input":[{"role":"user","content":[{"type":"input_image","file_id":"f"}]}]}`, "input[0].content[0].image_url", "invalid_image_url"},
		{`{"model":"m","input":"x","tool_choice":"sometimes"}`, "tool_choice", "invalid_value"},
		{`{"model":"m","input":"x","tool_choice":{"type":"web_search"}}`, "tool_choice", "invalid_value"},
		{`{"model":"m","input":"x","text":{"format":{"type":"json_schema"}}}`, "text.format", "missing_required_parameter"},
		{`{"model":"m","input":"x","text":{"format":{"type":"xml"}}}`, "text.format.type", "invalid_value"},
	} {
		req, e := Decode([]byte(tt.body))
		if e == nil {
			_, e = ChatBody(req, nil, NativeTools)
		}
		if e == nil || e.Status != 400 || e.Param != tt.param || e.Code != tt.code {
			t.Errorf("%s: got %v, want 400 %s %s", tt.body, e, tt.param, tt.code)
		}
	}
}

// TestDecodeRefusals checks the request checks of Decode.
func TestDecodeRefusals(t *testing.T) {
	for _, tt := range []struct{ body, param string }{
		{`{"input":"x"}`, "model"},
		{`{"model":"m"}`, "input"},
		{`{"model":"m","input":5}`, "input"},
		{`{"model":"m","input":[{"role":"user","content":5}]}`, "input"},
		{`{"model":"m","input":"x","max_output_tokens":0}`, "max_output_tokens"},
		{`{"model":"m","input":"x","temperature":"hot"}`, "temperature"},
	} {
		if _, e := Decode([]byte(tt.body)); e == nil || e.Status != 400 || e.Param != tt.param {
			t.Errorf("%s: got %v, want a 400 naming %s", tt.body, e, tt.param)
		}
	}
	if _, e := Decode([]byte(`{"model":"m","previous_response_id":"resp_1"}`)); e != nil {
		t.Errorf("a continuation without new input is refused: %v", e)
	}
}

// sameJSON compares two JSON texts by value.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%v: %s", err, a)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return string(xb) == string(yb)
}
