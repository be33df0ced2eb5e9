package responses

import (
	"encoding/json"
	"strings"
	"testing"
)

var weather = []Tool{{Type: "function", Function: Function{Name: "get_weather", Description: "Weather of a city.", Parameters: json.RawMessage(`{"type":"object"}`)}}}

func TestParseTextCalls(t *testing.T) {
	for _, tt := range []struct {
		text, rest, calls string
	}{
		{`<tool_call>{"name":"get_weather","arguments":{"city":"Paris"}}</tool_call>`, "", `get_weather({"city":"Paris"})`},
		{"Checking.\n<tool_call>{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Rome\\\"}\"}</tool_call>\n<tool_call>{\"name\":\"get_weather\"}</tool_call>",
			"Checking.", `get_weather({"city":"Rome"}) get_weather({})`},
		{`<tool_call>{"name":"launch_rocket","arguments":{}}</tool_call>`, `<tool_call>{"name":"launch_rocket","arguments":{}}</tool_call>`, ""},
		{`<tool_call>{"name":"get_weather"`, `<tool_call>{"name":"get_weather"`, ""},
		{`<tool_call>not json</tool_call>`, `<tool_call>not json</tool_call>`, ""},
		{"just text", "just text", ""},
	} {
		rest, calls := parseTextCalls(tt.text, weather)
		var got []string
		for _, c := range calls {
			got = append(got, c.name+"("+c.arguments+")")
		}
		if rest != tt.rest || strings.Join(got, " ") != tt.calls {
			t.Errorf("%q: rest %q, calls %v; want %q, %s", tt.text, rest, got, tt.rest, tt.calls)
		}
	}
}

// TestParseTextCallsFromModels reads the imperfect answers models give
// when asked for tagged calls: prose around the calls, calls wrapped in a
// code block (or holding one), whitespace and line breaks inside the tags,
// two calls on one line. A tagged block that is not valid JSON of a
// declared function leaves the whole answer as plain text.
func TestParseTextCallsFromModels(t *testing.T) {
	for _, tt := range []struct {
		name, text, rest, calls string
	}{
		{"prose before and after",
			"Sure! I'll check the weather for you.\n\n<tool_call>{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}</tool_call>\n\nLet me know if you need anything else.",
			"Sure! I'll check the weather for you.\n\n\n\nLet me know if you need anything else.", `get_weather({"city":"Paris"})`},
		{"wrapped in a code block",
			"```json\n<tool_call>{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}</tool_call>\n```", "", `get_weather({"city":"Oslo"})`},
		{"a code block inside the tags",
			"<tool_call>\n```json\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Lima\"}}\n```\n</tool_call>", "", `get_weather({"city":"Lima"})`},
		{"whitespace and line breaks",
			"  <tool_call>\n  {\n    \"name\": \"get_weather\",\n    \"arguments\": { \"city\" : \"Rome\" }\n  }\n</tool_call>  \n", "", `get_weather({"city":"Rome"})`},
		{"two calls on one line",
			`<tool_call>{"name":"get_weather","arguments":{"city":"Paris"}}</tool_call><tool_call>{"name":"get_weather","arguments":{"city":"Rome"}}</tool_call>`,
			"", `get_weather({"city":"Paris"}) get_weather({"city":"Rome"})`},
		{"malformed JSON: a trailing comma",
			`<tool_call>{"name": "get_weather", "arguments": {"city": "Paris",}}</tool_call>`,
			`<tool_call>{"name": "get_weather", "arguments": {"city": "Paris",}}</tool_call>`, ""},
		{"malformed JSON: single quotes",
			`I will call it. <tool_call>{'name': 'get_weather'}</tool_call>`, `I will call it. <tool_call>{'name': 'get_weather'}</tool_call>`, ""},
		{"one good call, one malformed: all text",
			`<tool_call>{"name":"get_weather","arguments":{}}</tool_call> <tool_call>{"name":</tool_call>`,
			`<tool_call>{"name":"get_weather","arguments":{}}</tool_call> <tool_call>{"name":</tool_call>`, ""},
		{"a tag in prose about tags", "Use <tool_call> tags to call tools.", "Use <tool_call> tags to call tools.", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rest, calls := parseTextCalls(tt.text, weather)
			var got []string
			for _, c := range calls {
				got = append(got, c.name+"("+c.arguments+")")
			}
			if rest != tt.rest || strings.Join(got, " ") != tt.calls {
				t.Errorf("rest %q, calls %v; want %q, %s", rest, got, tt.rest, tt.calls)
			}
		})
	}
}

// TestTextCallFilter streams a text in every split: what is sent plus what
// finish returns never loses text, and a call's tag is never sent.
func TestTextCallFilter(t *testing.T) {
	for _, text := range []string{
		`Let me look. <tool_call>{"name":"get_weather","arguments":{"city":"Paris"}}</tool_call>`,
		"a < b and <tool_ is not a call",
		"ends with <tool_c",
	} {
		for step := 1; step <= len(text); step++ {
			var f textCallFilter
			var sent strings.Builder
			for i := 0; i < len(text); i += step {
				sent.WriteString(f.write(text[i:min(i+step, len(text))]))
			}
			rest, calls := f.finish(weather)
			if strings.Contains(sent.String(), "<tool_call>") {
				t.Fatalf("%q step %d: a tag was sent: %q", text, step, sent.String())
			}
			if len(calls) == 0 && sent.String()+rest != text {
				t.Fatalf("%q step %d: sent %q + rest %q", text, step, sent.String(), rest)
			}
			if len(calls) == 1 && (sent.String() != "Let me look. " || calls[0].arguments != `{"city":"Paris"}`) {
				t.Fatalf("%q step %d: sent %q, calls %+v", text, step, sent.String(), calls)
			}
		}
	}
}

// TestTextToolsBridge declares tools in a system message for a backend
// that takes none, and reads the calls back, whole and streamed.
func TestTextToolsBridge(t *testing.T) {
	req, e := Decode([]byte(`{"model":"m","instructions":"be brief","input":"call get_weather for Paris","tool_choice":"required",` +
		`"tools":[{"type":"function","name":"get_weather","description":"Weather of a city.","parameters":{"type":"object"}}]}`))
	if e != nil {
		t.Fatal(e)
	}
	body, e := ChatBody(req, nil, TextTools)
	if e != nil {
		t.Fatal(e)
	}
	var c struct {
		Messages []struct{ Role, Content string }
	}
	if err := json.Unmarshal(body, &c); err != nil || len(c.Messages) != 3 || c.Messages[0].Role != "system" ||
		!strings.Contains(c.Messages[0].Content, `- get_weather: Weather of a city. Parameters (JSON Schema): {"type":"object"}`) ||
		!strings.Contains(c.Messages[0].Content, "You must call at least one") || c.Messages[1].Content != "be brief" {
		t.Fatalf("chat body %s", body)
	}

	answer := `<tool_call>{"name":"get_weather","arguments":{"city":"Paris"}}</tool_call>`
	r, err := Build(req, 1, []byte(`{"choices":[{"message":{"content":`+string(mustMarshal(answer))+`},"finish_reason":"stop"}]}`), TextTools)
	if err != nil || len(r.Output) != 1 || r.Output[0].Type != "function_call" || *r.Output[0].Arguments != `{"city":"Paris"}` ||
		!strings.HasPrefix(r.Output[0].CallID, "call_") {
		t.Fatalf("whole: %v %+v", err, r.Output)
	}

	var chunks [][]byte
	for _, piece := range strings.SplitAfter(answer, " ") {
		chunks = append(chunks, chunk(`{"content":`+string(mustMarshal(piece))+`}`, ""))
	}
	evs := run(t, req, append(chunks, chunk(`{}`, "stop"))...)
	want := "response.created response.in_progress response.output_item.added response.function_call_arguments.delta " +
		"response.function_call_arguments.done response.output_item.done response.completed"
	if got := names(t, evs); got != want {
		t.Errorf("events\n%s\nwant\n%s", got, want)
	}
	if f := final(t, evs); len(f.Output) != 1 || f.Output[0].Name != "get_weather" {
		t.Errorf("streamed output %+v", f.Output)
	}

	req.ToolChoice = json.RawMessage(`"none"`)
	if body, _ := ChatBody(req, nil, TextTools); strings.Contains(string(body), "<tool_call>") {
		t.Error("tools were declared with tool_choice none")
	}
}

func mustMarshal(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
