package jsonscan

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestEachMemberMatchesDecoder checks EachMember against json.Decoder's
// tokens on valid documents: the names decoded, the values as written, in
// order, duplicates included.
func TestEachMemberMatchesDecoder(t *testing.T) {
	for _, doc := range []string{
		`{}`, ` { } `, `{"a":1,"b":"two","c":[1,{"d":null}],"e":{"f":"}"},"g":true}`,
		"{ \"sp\" :\n [ 1 , 2 ] ,\t\"x\" : \"a\\\"b\" }", `{"dup":1,"dup":2}`, `{"esc\u00e9\"k":"v","\\":0}`,
		"{\"bad\xff\":1}",
	} {
		var want []string
		dec := json.NewDecoder(bytes.NewReader([]byte(doc)))
		_, _ = dec.Token()
		for dec.More() {
			name, _ := dec.Token()
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			want = append(want, name.(string)+"="+string(v))
		}
		var got []string
		ok, err := EachMember([]byte(doc), func(name, value []byte) error {
			got = append(got, string(name)+"="+string(value))
			return nil
		})
		if !ok || err != nil || len(got) != len(want) {
			t.Errorf("%s: got %q %v %v, want %q", doc, got, ok, err, want)
			continue
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s, member %d: got %s, want %s", doc, i, got[i], want[i])
			}
		}
	}
	for _, doc := range []string{`[]`, `null`, `"s"`, `3`} {
		if ok, _ := EachMember([]byte(doc), func(_, _ []byte) error { return nil }); ok {
			t.Errorf("%s read as an object", doc)
		}
	}
}

// TestEachElementMatchesUnmarshal checks EachElement against
// json.Unmarshal into a []json.RawMessage.
func TestEachElementMatchesUnmarshal(t *testing.T) {
	arrays := []string{`[]`, ` [ ] `, `[1, "a" ,{"b":[2]}, null ,[[]]]`, `{}`, `"s"`, `null`}
	for _, doc := range arrays {
		var want []json.RawMessage
		wantErr := json.Unmarshal([]byte(doc), &want)
		var got []json.RawMessage
		ok, _ := EachElement([]byte(doc), func(e []byte) error {
			got = append(got, e)
			return nil
		})
		if ok != (wantErr == nil && want != nil) || len(got) != len(want) {
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

// TestInvalidJSONEndsTheWalk: the walks are for documents already
// checked, but one that is not valid JSON ends them with an error, never
// in an endless walk or with an empty value.
func TestInvalidJSONEndsTheWalk(t *testing.T) {
	for _, doc := range []string{`[:]`, `[,]`, `[}`, `{"a" 1}`, `{"a":}`, `{"a":,"b":1}`, `{:}`, `{"a`} {
		n := 0
		each := func(value []byte) error {
			if n++; len(value) == 0 || n > 10 {
				t.Fatalf("%s: yielded %q (element %d)", doc, value, n)
			}
			return nil
		}
		var err error
		if doc[0] == '[' {
			_, err = EachElement([]byte(doc), each)
		} else {
			_, err = EachMember([]byte(doc), func(_, value []byte) error { return each(value) })
		}
		if err == nil {
			t.Errorf("%s: walked without an error", doc)
		}
	}
}

// TestUnclosedStringEndsTheWalk: a string left open at the end of what is
// not valid JSON is read to the end, never past it.
func TestUnclosedStringEndsTheWalk(t *testing.T) {
	for _, doc := range []string{`["ab`, `["a\`, `{"a":"b`, `{"a":"b\`} {
		each := func(value []byte) error {
			if !bytes.HasSuffix([]byte(doc), value) {
				t.Errorf("%s: yielded %q, not the document's end", doc, value)
			}
			return nil
		}
		if doc[0] == '[' {
			_, _ = EachElement([]byte(doc), each)
		} else {
			_, _ = EachMember([]byte(doc), func(_, value []byte) error { return each(value) })
		}
	}
}
