package chat

import (
	"bytes"
	"encoding/json"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files of the tests that keep one")

// passthroughAnswers are answers of fal's OpenAI-compatible route of
// every shape the rewrite meets, by name; the golden file holds what the
// client receives for each.
var passthroughAnswers = []struct{ name, in string }{
	{"usage reported", `{"id":"gen-1","object":"chat.completion","created":1700000000,"model":"openai/gpt-4o","provider":"OpenAI",` +
		`"choices":[{"index":0,"message":{"role":"assistant","content":"Hello there","refusal":null,"reasoning":null},"finish_reason":"stop","logprobs":null}],` +
		`"usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21,"cost":0.000123,"is_byok":false,` +
		`"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}`},
	{"usage zeros", `{"model":"x","choices":[{"message":{"content":"four"}}],"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}}`},
	{"usage absent", `{"model":"x","choices":[{"message":{"content":"héllo wörld"}}]}`},
	{"usage null", `{"model":"x","choices":[{"message":{"content":"abc"}}],"usage":null}`},
	{"usage without total", `{"model":"x","choices":[],"usage":{"input_tokens":3,"output_tokens":4}}`},
	{"usage as floats", `{"model":"x","choices":[],"usage":{"prompt_tokens":1.5e1,"completion_tokens":2E0,"total_tokens":1.7e1,"cost":1e-6}}`},
	{"usage negative total", `{"model":"x","choices":[{"message":{"content":"12345"}}],"usage":{"total_tokens":-5}}`},
	{"usage out of range", `{"model":"x","choices":[],"usage":{"total_tokens":1e400}}`},
	{"usage a string", `{"model":"x","choices":[],"usage":"lots"}`},
	{"usage an array", `{"model":"x","choices":[],"usage":[1,2]}`},
	{"usage names in capitals", `{"model":"x","choices":[],"usage":{"TOTAL_TOKENS":7,"Prompt_Tokens":3}}`},
	{"usage a count as a string", `{"model":"x","choices":[],"usage":{"total_tokens":"9"}}`},
	{"usage with a null count", `{"model":"x","choices":[],"usage":{"prompt_tokens":2,"total_tokens":null,"completion_tokens":3}}`},
	{"usage twice", `{"model":"x","choices":[],"usage":{"total_tokens":4},"usage":{"total_tokens":0}}`},
	{"usage also in capitals", `{"model":"x","choices":[],"Usage":{"total_tokens":4},"usage":{"total_tokens":6}}`},
	{"usage key escaped", `{"model":"x","choices":[],"\u0075sage":{"total_tokens":8}}`},
	{"reasoning renamed", `{"model":"x","choices":[{"index":0,"message":{"role":"assistant","content":"42","reasoning":"let me think"}}]}`},
	{"reasoning null kept", `{"model":"x","choices":[{"message":{"content":"hi","reasoning":null}}]}`},
	{"reasoning_content wins", `{"model":"x","choices":[{"message":{"reasoning":"a","reasoning_content":"bc"}}]}`},
	{"reasoning not a string", `{"model":"x","choices":[{"message":{"content":null,"reasoning":{"steps":["a<b"]}}}]}`},
	{"several choices", `{"model":"x","choices":[{"index":0,"message":{"content":"one"}},{"index":1,"message":{"content":"two","reasoning":"r"}},null,` +
		`{"index":3},{"index":4,"message":null},{"index":5,"message":"odd"},{"index":6,"message":[1]}],"usage":{"total_tokens":3}}`},
	{"escapes and HTML", `{"model":"x","choices":[{"message":{"content":"a <b> & c\u2028d \"q\" \\ \u00e9 \ud83d\ude00 \n\t\/","reasoning":"x > y & z` + "\u2028\u2029" + `"}}],` +
		`"system_fingerprint":"<fp>&"}`},
	{"control and invalid UTF-8", "{\"model\":\"x\",\"choices\":[{\"message\":{\"content\":\"bad \xff\xfe bytes \xe2\x80 end\"}}],\"note\":\"\xc3\"}"},
	{"white space", "{\n  \"id\" : \"gen-2\" ,\n\t\"model\":\"x\",\r\n  \"choices\" : [ { \"message\" : { \"content\" : \"spaced out\" , \"reasoning\" : \"so  me\" } , \"index\" : 0 } ] ,\n" +
		"  \"usage\" : { \"prompt_tokens\" : 1 , \"completion_tokens\" : 2 , \"total_tokens\" : 3 }\n}\n"},
	{"duplicate keys", `{"model":"x","id":"first","id":"second","choices":[{"message":{"content":"a","content":"bb","reasoning":"r1","reasoning":"r22"}}],"choices":[{"message":{"content":"final"}}]}`},
	{"exponent numbers", `{"model":"x","created":1.7e9,"choices":[{"index":0E0,"message":{"content":"n"},"logprobs":{"v":-1.5e-3}}],"usage":{"total_tokens":2.1e1}}`},
	{"keys that need escaping", `{"model":"x","<tag>":1,"a&b":2,"quote\"d":3,"\u006dodel":"dup","ü":4,"":5,"choices":[]}`},
	{"model missing", `{"choices":[{"message":{"content":"no model"}}]}`},
	{"choices absent", `{"model":"x","object":"chat.completion"}`},
	{"choices null", `{"model":"x","choices":null,"usage":{"total_tokens":1}}`},
	{"choices empty", `{"model":"x","choices":[]}`},
	{"empty object", `{}`},
	{"nested usage null", `{"model":"x","choices":[{"message":{"content":"a","usage":null}}],"usage":{"total_tokens":5}}`},
	{"array", `[{"model":"x"}]`},
	{"string", `"text"`},
	{"null", `null`},
	{"number", `5`},
	{"empty", ``},
	{"truncated", `{"model":"x","choices":[`},
	{"trailing data", `{"model":"x"} {}`},
	{"choices an object", `{"model":"x","choices":{"message":{}}}`},
	{"choices a string", `{"model":"x","choices":"none"}`},
	{"choice a number", `{"model":"x","choices":[1]}`},
	{"choice a string", `{"model":"x","choices":[{"message":{}},"two"]}`},
}

// TestPassthroughAnswerGolden holds the rewrite of fal's answers to the
// bytes recorded in testdata/passthrough_answers.txt: every byte the
// client receives stays as it was when the file was written.
func TestPassthroughAnswerGolden(t *testing.T) {
	got := map[string]string{}
	for _, a := range passthroughAnswers {
		out, _, err := PassthroughAnswer([]byte(a.in), "gpt-4o", 10)
		if err != nil {
			out = []byte("refused")
		}
		got[a.name] = string(out)
	}
	compareGolden(t, "passthrough_answers.txt", got)
}

// passthroughRequests are requests' top-level fields whose forwarded body
// the golden file holds.
var passthroughRequests = []struct{ name, in string }{
	{"plain", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}`},
	{"every field", `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"stream":false,"stream_options":null,` +
		`"temperature":0.5,"top_p":1,"max_tokens":50,"max_completion_tokens":60,"stop":["\n"],"presence_penalty":0,` +
		`"frequency_penalty":0.1,"logit_bias":{"50256":-100},"logprobs":true,"top_logprobs":2,"n":2,"seed":7,` +
		`"response_format":{"type":"json_object"},"tools":[],"tool_choice":"auto","parallel_tool_calls":false,` +
		`"functions":[],"function_call":"none","reasoning_effort":"high","verbosity":"low","user":"u1",` +
		`"safety_identifier":"s","prompt_cache_key":"k"}`},
	{"dropped fields", `{"model":"gpt-4o","messages":[],"models":["b"],"provider":{"order":["x"]},"route":"fallback","transforms":[]}`},
	{"reasoning flag", `{"model":"gpt-4o","messages":[],"reasoning":true}`},
	{"reasoning flag spaced", "{\"model\":\"gpt-4o\",\"messages\":[],\"reasoning\": true }"},
	{"reasoning flag and effort", `{"model":"gpt-4o","messages":[],"reasoning":true,"reasoning_effort":"low"}`},
	{"reasoning false", `{"model":"gpt-4o","messages":[],"reasoning":false}`},
	{"HTML, escapes and white space", "{ \"model\" : \"gpt-4o\" , \"messages\" : [ { \"role\" : \"user\" , \"content\" : \"a <b> & c\u2028 \\u00e9 \\\"q\\\"\" } ] ,\n\"temperature\" : 1e0 }"},
	{"duplicate keys", `{"model":"gpt-4o","messages":[{"content":"one"}],"messages":[{"content":"two"}],"seed":1,"seed":2}`},
}

// TestPassthroughBodyGolden holds the body forwarded to fal, and the
// fields left out, to the bytes in testdata/passthrough_bodies.txt.
func TestPassthroughBodyGolden(t *testing.T) {
	got := map[string]string{}
	for _, r := range passthroughRequests {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal([]byte(r.in), &fields); err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		body, dropped, err := PassthroughBody(fields, "org/<model>")
		if err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		d, _ := json.Marshal(dropped)
		got[r.name] = string(body) + " dropped " + string(d)
	}
	compareGolden(t, "passthrough_bodies.txt", got)
}

// compareGolden compares got with the golden file name in testdata, or
// rewrites the file with -update. The file has a line for each name: the
// name, a tab, and the bytes as they are (compact JSON has no newline).
func compareGolden(t *testing.T, name string, got map[string]string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateGolden {
		var b []byte
		for _, k := range slices.Sorted(maps.Keys(got)) {
			b = append(append(append(append(b, k...), '\t'), got[k]...), '\n')
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for line := range bytes.Lines(data) {
		k, v, _ := strings.Cut(strings.TrimSuffix(string(line), "\n"), "\t")
		want[k] = v
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s:\ngot  %q\nwant %q", k, g, w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s has no golden record; run the test with -update", k)
		}
	}
}

// referenceAnswer is PassthroughAnswer written with encoding/json alone,
// as its documentation reads: the fuzz test holds the rewrite to it.
func referenceAnswer(body []byte, model string, promptChars int) ([]byte, error) {
	var c map[string]json.RawMessage
	if err := json.Unmarshal(body, &c); err != nil || c == nil {
		return nil, errNotJSONObject
	}
	chars, err := referenceRelabel(c, model, "message")
	if err != nil {
		return nil, err
	}
	var u *FalUsage
	if raw := c["usage"]; json.Unmarshal(raw, &u) != nil || u == nil || u.TotalTokens <= 0 {
		c["usage"], _ = json.Marshal(EstimateUsage(promptChars, chars))
	}
	return json.Marshal(c)
}

// referenceRelabel is relabel with encoding/json alone.
func referenceRelabel(c map[string]json.RawMessage, model, key string) (int, error) {
	c["model"], _ = json.Marshal(model)
	raw, ok := c["choices"]
	if !ok || bytes.Equal(raw, []byte("null")) {
		return 0, nil
	}
	var choices []map[string]json.RawMessage
	if json.Unmarshal(raw, &choices) != nil {
		return 0, errNotJSONObject
	}
	chars := 0
	for _, choice := range choices {
		var msg map[string]json.RawMessage
		if choice == nil || json.Unmarshal(choice[key], &msg) != nil || msg == nil {
			continue
		}
		if r, ok := msg["reasoning"]; ok && !bytes.Equal(r, []byte("null")) {
			if _, has := msg["reasoning_content"]; !has {
				msg["reasoning_content"] = r
				delete(msg, "reasoning")
			}
		}
		for _, name := range []string{"content", "reasoning_content"} {
			var s string
			if json.Unmarshal(msg[name], &s) == nil {
				chars += len([]rune(s))
			}
		}
		choice[key], _ = json.Marshal(msg)
	}
	c["choices"], _ = json.Marshal(choices)
	return chars, nil
}

// FuzzPassthroughAnswer holds the rewrite of any answer to
// referenceAnswer: the same bytes, or both refuse it.
func FuzzPassthroughAnswer(f *testing.F) {
	for _, a := range passthroughAnswers {
		f.Add([]byte(a.in), 10)
	}
	f.Fuzz(func(t *testing.T, body []byte, promptChars int) {
		promptChars &= 0xffff
		got, _, err := PassthroughAnswer(body, "gpt-4o", promptChars)
		want, wantErr := referenceAnswer(body, "gpt-4o", promptChars)
		if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
			t.Fatalf("answer %q:\ngot  %s (%v)\nwant %s (%v)", body, got, err, want, wantErr)
		}
	})
}

// referenceEvent is PassthroughStream.Event written with encoding/json
// alone.
func referenceEvent(p *PassthroughStream, data []byte) []byte {
	var c map[string]json.RawMessage
	if json.Unmarshal(data, &c) != nil || c == nil {
		return data
	}
	chars, err := referenceRelabel(c, p.model, "delta")
	if err != nil {
		return data
	}
	p.chars += chars
	if p.id == "" {
		_ = json.Unmarshal(c["id"], &p.id)
		_ = json.Unmarshal(c["created"], &p.created)
	}
	if raw, ok := c["usage"]; ok && !bytes.Equal(raw, []byte("null")) {
		var u *FalUsage
		if (json.Unmarshal(raw, &u) != nil || u == nil || u.TotalTokens <= 0) && p.includeUsage {
			c["usage"], _ = json.Marshal(EstimateUsage(p.promptChars, p.chars))
		}
		p.usageSent = true
	}
	out, _ := json.Marshal(c)
	return out
}

// answerUsage is what a reader of an answer's usage might decode: counts
// of either spelling and a cost.
type answerUsage struct {
	Usage *struct {
		TotalTokens  int     `json:"total_tokens"`
		PromptTokens int     `json:"prompt_tokens"`
		InputTokens  float64 `json:"input_tokens"`
		Cost         float64 `json:"cost"`
	} `json:"usage"`
}

// FuzzPassthroughStream holds the rewrite of stream chunks to
// referenceEvent, and the usage members PassthroughAnswer returns to what
// encoding/json reads as the answer's usage.
func FuzzPassthroughStream(f *testing.F) {
	for _, a := range passthroughAnswers {
		f.Add([]byte(a.in), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, includeUsage bool) {
		p, ref := NewPassthroughStream("gpt-4o", includeUsage, 7), NewPassthroughStream("gpt-4o", includeUsage, 7)
		for range 2 {
			if got, want := p.Event(data), referenceEvent(ref, data); !bytes.Equal(got, want) {
				t.Fatalf("chunk %q:\ngot  %s\nwant %s", data, got, want)
			}
		}
		if got, want := p.End(), ref.End(); !bytes.Equal(got, want) {
			t.Fatalf("after chunk %q, end:\ngot  %s\nwant %s", data, got, want)
		}
		answer, usage, err := PassthroughAnswer(data, "gpt-4o", 7)
		if err != nil {
			return
		}
		var whole, parts answerUsage
		wholeErr := json.Unmarshal(answer, &whole)
		var partsErr error
		for _, u := range usage {
			if partsErr = json.Unmarshal(u, &parts.Usage); partsErr != nil {
				break
			}
		}
		if (wholeErr != nil) != (partsErr != nil) || wholeErr == nil && !reflect.DeepEqual(whole, parts) {
			t.Fatalf("answer %s, usage members %q: read as %+v (%v), whole as %+v (%v)", answer, usage, parts.Usage, partsErr, whole.Usage, wholeErr)
		}
	})
}

// FuzzPassthroughBody holds the forwarded body to what encoding/json
// writes of the forwarded fields, and the fields left out to theirs.
func FuzzPassthroughBody(f *testing.F) {
	for _, r := range passthroughRequests {
		f.Add([]byte(r.in), "org/<model>")
	}
	f.Fuzz(func(t *testing.T, request []byte, falModel string) {
		var fields map[string]json.RawMessage
		if json.Unmarshal(request, &fields) != nil {
			return
		}
		body, dropped, err := PassthroughBody(fields, falModel)
		out, wantDropped := SplitFields(fields, func(name string) bool { return passthroughFields[name] })
		out["model"], _ = json.Marshal(falModel)
		if _, set := out["reasoning_effort"]; !set && bytes.Equal(bytes.TrimSpace(fields["reasoning"]), []byte("true")) {
			out["reasoning_effort"] = json.RawMessage(`"medium"`)
		}
		want, _ := json.Marshal(out)
		if err != nil || !bytes.Equal(body, want) || !slices.Equal(dropped, wantDropped) {
			t.Fatalf("%q:\ngot  %s %q (%v)\nwant %s %q", request, body, dropped, err, want, wantDropped)
		}
	})
}
