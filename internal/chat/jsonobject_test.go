package chat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

// TestAppendMembersMatchesMarshal checks objectMembers and appendMembers
// against json.Marshal of the map json.Unmarshal makes, on values that
// take each path: plain, with white space, with what encoding/json
// escapes for HTML, with escapes inside strings, and names that need
// escaping.
func TestAppendMembersMatchesMarshal(t *testing.T) {
	values := []string{
		`"plain"`, `1.5e3`, `true`, `null`, `{"b":1,"a":[1,2]}`,
		` { "spaced" : [ 1 , 2 ] } `, "\"tab\\tinside\"", `"quote \" then space"`, `"a\\" `,
		`"<b>&amp;</b>"`, "\"line\u2028sep\u2029\"", `{"k":"x > y"}`, `"é 你好 😀"`, `"back\\\\"`,
	}
	names := []string{"model", "b", "a", "<key>", "ü", "quote\\\"d", "", "tab\\t", "\\u2028"}
	doc := []byte("{")
	for i, v := range values {
		doc = fmt.Appendf(doc, `"%s%c":%s,`, names[i%len(names)], 'a'+i, v)
	}
	for _, n := range names {
		doc = fmt.Appendf(doc, `"%s":"x",`, n)
	}
	doc = append(doc[:len(doc)-1], '}')
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(doc, &fields); err != nil {
		t.Fatalf("%s: %v", doc, err)
	}
	want, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	ms, ok := objectMembers(nil, doc)
	if !ok {
		t.Fatalf("%s is not an object", doc)
	}
	if got, _ := appendMembers(nil, ms, appendMemberValue); string(got) != string(want) {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestMembersMatchUnmarshal checks objectMembers against
// json.Unmarshal on valid documents of every shape they meet.
func TestMembersMatchUnmarshal(t *testing.T) {
	objects := []string{
		`{}`, ` { } `, `null`, `{"a":1,"b":"two","c":[1,{"d":null}],"e":{"f":"}"},"g":true}`,
		"{ \"sp\" :\n [ 1 , 2 ] ,\t\"x\" : \"a\\\"b\" }", `{"dup":1,"dup":2}`, `{"esc\u00e9\"k":"v","\\":0}`,
		`{"n":-1.5e+3,"s":"[{,:}]","z":false}`, `{"b":1,"a":2,"b":3,"c":4,"a":5}`, "{\"bad\xff\":1}", `[1]`, `"str"`, `3`,
	}
	for _, doc := range objects {
		var want map[string]json.RawMessage
		wantErr := json.Unmarshal([]byte(doc), &want)
		got, ok := objectMembers(nil, []byte(doc))
		if ok != (wantErr == nil && want != nil) || len(got) != len(want) {
			t.Errorf("object %s: got %q %v, want %v %v", doc, got, ok, want, wantErr)
			continue
		}
		for i, m := range got {
			if i > 0 && bytes.Compare(got[i-1].name, m.name) >= 0 {
				t.Errorf("object %s: %q before %q", doc, got[i-1].name, m.name)
			}
			if v, ok := want[string(m.name)]; !ok || !bytes.Equal(m.value, v) {
				t.Errorf("object %s, key %q: got %s, want %s", doc, m.name, m.value, v)
			}
		}
	}
}

// TestPassthroughRewriteAllocations holds the rewrite of a whole answer
// and of a stream chunk to their allocation budgets: the rewrite reads
// fal's answer once instead of decoding each level again, keeps the
// members of each object on the stack and reads fal's usage without
// encoding/json, so that only the answer's buffer (and, for an answer, the
// list of its usage members) is allocated. Measured: 2 and 1 (59 and 38
// when each object was a map), under the race detector now and then one
// more.
func TestPassthroughRewriteAllocations(t *testing.T) {
	answer := testing.AllocsPerRun(50, func() {
		if _, _, err := PassthroughAnswer(passthroughAnswer, "gpt-4o", 20); err != nil {
			t.Fatal(err)
		}
	})
	chunk := []byte(`{"id":"gen-1","object":"chat.completion.chunk","created":1700000000,"model":"openai/gpt-4o",` +
		`"choices":[{"index":0,"delta":{"content":"Le renard"},"finish_reason":null}]}`)
	p := NewPassthroughStream("gpt-4o", true, 100)
	event := testing.AllocsPerRun(50, func() { p.Event(chunk) })
	t.Logf("allocations: %.0f for an answer, %.0f for a chunk", answer, event)
	budget := [2]float64{2, 1}
	if raceEnabled {
		budget = [2]float64{3, 2}
	}
	if answer > budget[0] || event > budget[1] {
		t.Errorf("allocations: %.0f for an answer (budget %.0f), %.0f for a chunk (budget %.0f)", answer, budget[0], event, budget[1])
	}
}
