package chat

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestAppendObjectMatchesMarshal checks appendObject and appendArray
// against json.Marshal on values that take each path: plain, with white
// space, with what encoding/json escapes for HTML, with escapes inside
// strings, and keys that need escaping.
func TestAppendObjectMatchesMarshal(t *testing.T) {
	values := []string{
		`"plain"`, `1.5e3`, `true`, `null`, `{"b":1,"a":[1,2]}`,
		` { "spaced" : [ 1 , 2 ] } `, "\"tab\\tinside\"", `"quote \" then space"`, `"a\\" `,
		`"<b>&amp;</b>"`, "\"line\u2028sep\u2029\"", `{"k":"x > y"}`, `"é 你好 😀"`, `"back\\\\"`,
	}
	keys := []string{"model", "b", "a", "<key>", "ü", "quote\"d", ""}
	fields := map[string]json.RawMessage{}
	for i, v := range values {
		one := map[string]json.RawMessage{"v": json.RawMessage(v)}
		want, err := json.Marshal(one)
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if got := appendObject(nil, one); string(got) != string(want) {
			t.Errorf("value %s: got %s, want %s", v, got, want)
		}
		fields[keys[i%len(keys)]+string(rune('a'+i))] = json.RawMessage(v)
	}
	for _, k := range keys {
		fields[k] = json.RawMessage(`"x"`)
	}
	list := []map[string]json.RawMessage{fields, nil, {}}
	want, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	if got := appendArray(nil, list); string(got) != string(want) {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if got := appendArray(nil, nil); string(got) != "null" {
		t.Errorf("a nil list: got %s", got)
	}
}

// TestSplitMatchesUnmarshal checks splitObject and splitArray against
// json.Unmarshal on valid documents of every shape they meet.
func TestSplitMatchesUnmarshal(t *testing.T) {
	objects := []string{
		`{}`, ` { } `, `null`, `{"a":1,"b":"two","c":[1,{"d":null}],"e":{"f":"}"},"g":true}`,
		"{ \"sp\" :\n [ 1 , 2 ] ,\t\"x\" : \"a\\\"b\" }", `{"dup":1,"dup":2}`, `{"esc\u00e9\"k":"v","\\":0}`,
		`{"n":-1.5e+3,"s":"[{,:}]","z":false}`, `[1]`, `"str"`, `3`,
	}
	for _, doc := range objects {
		var want map[string]json.RawMessage
		wantErr := json.Unmarshal([]byte(doc), &want)
		got, ok := splitObject([]byte(doc))
		if ok != (wantErr == nil) || len(got) != len(want) || (got == nil) != (want == nil) {
			t.Errorf("object %s: got %v %v, want %v %v", doc, got, ok, want, wantErr)
			continue
		}
		for k, v := range want {
			if !bytes.Equal(bytes.TrimSpace(got[k]), v) {
				t.Errorf("object %s, key %q: got %s, want %s", doc, k, got[k], v)
			}
		}
	}
	arrays := []string{`[]`, ` [ ] `, `null`, `[1, "a" ,{"b":[2]}, null ,[[]]]`, `{}`, `"s"`}
	for _, doc := range arrays {
		var want []json.RawMessage
		wantErr := json.Unmarshal([]byte(doc), &want)
		got, ok := splitArray([]byte(doc))
		if ok != (wantErr == nil) || len(got) != len(want) || (got == nil) != (want == nil) {
			t.Errorf("array %s: got %q %v, want %q %v", doc, got, ok, want, wantErr)
			continue
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Errorf("array %s, element %d: got %s, want %s", doc, i, got[i], want[i])
			}
		}
	}
}

// TestPassthroughRewriteAllocations holds the rewrite of a whole answer
// and of a stream chunk to their allocation budgets: the rewrite reads
// fal's answer once instead of decoding each level again.
func TestPassthroughRewriteAllocations(t *testing.T) {
	answer := testing.AllocsPerRun(50, func() {
		if _, err := PassthroughAnswer(passthroughAnswer, "gpt-4o", 20); err != nil {
			t.Fatal(err)
		}
	})
	chunk := []byte(`{"id":"gen-1","object":"chat.completion.chunk","created":1700000000,"model":"openai/gpt-4o",` +
		`"choices":[{"index":0,"delta":{"content":"Le renard"},"finish_reason":null}]}`)
	p := NewPassthroughStream("gpt-4o", true, 100)
	event := testing.AllocsPerRun(50, func() { p.Event(chunk) })
	t.Logf("allocations: %.0f for an answer, %.0f for a chunk", answer, event)
	if answer > 70 || event > 45 {
		t.Errorf("allocations: %.0f for an answer (budget 70), %.0f for a chunk (budget 45)", answer, event)
	}
}
