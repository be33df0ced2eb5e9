package server

import (
	"encoding/json"
	"testing"
)

// TestMayCarryUsage: the chunks of a stream asked with include_usage carry
// "usage":null until the last; only a usage object is worth decoding.
func TestMayCarryUsage(t *testing.T) {
	for _, tc := range []struct {
		chunk string
		want  bool
	}{
		{`{"choices":[{"delta":{"content":"hi"}}]}`, false},
		{`{"choices":[{"delta":{"content":"hi"}}],"usage":null}`, false},
		{`{"choices":[], "usage" : null }`, false},
		{`{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}`, true},
		{`{"choices":[{"delta":{"content":"the \"usage\": null"}}],"usage":{"total_tokens":7}}`, true},
		{`{"choices":[{"delta":{"content":"usage"}}]}`, true}, // a value, not a key: decoded, and found empty
		{`{"choices":[{"message":{"usage":null}}],"usage":{"total_tokens":5}}`, true},
		{`{"choices":[{"message":{"usage":null}}],"usage":null}`, false},
	} {
		if got := mayCarryUsage([]byte(tc.chunk)); got != tc.want {
			t.Errorf("mayCarryUsage(%s) = %v, want %v", tc.chunk, got, tc.want)
		}
	}
}

// FuzzReadUsageMembers holds readUsageMembers to json.Unmarshal of an
// answer with the same members for its usage, in the same order.
func FuzzReadUsageMembers(f *testing.F) {
	for _, s := range [][2]string{
		{`{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21,"cost":0.000123,"prompt_tokens_details":{"cached_tokens":0}}`, `null`},
		{`null`, `{"input_tokens":3,"output_tokens":4}`},
		{`{"total_tokens":4}`, `{"cost":1e-6,"TOTAL_TOKENS":null}`},
		{`{"total_tokens":1.5}`, `{}`},
		{`{"total_tokens":"5"}`, `null`},
		{`{"\u0074otal_tokens":5}`, `[]`},
		{`{"cost":"free"}`, `{"prompt_tokens":-2}`},
	} {
		f.Add([]byte(s[0]), []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, first, second []byte) {
		if !json.Valid(first) || !json.Valid(second) {
			return
		}
		answer := append(append(append(append([]byte(`{"usage":`), first...), `,"Usage":`...), second...), '}')
		var whole struct {
			Usage *answerUsage `json:"usage"`
		}
		wholeErr := json.Unmarshal(answer, &whole)
		got, ok := readUsageMembers([]json.RawMessage{first, second})
		if ok != (wholeErr == nil && whole.Usage != nil) || ok && got != *whole.Usage {
			t.Fatalf("%s: read %+v (%v), json.Unmarshal %+v (%v)", answer, got, ok, whole.Usage, wholeErr)
		}
	})
}

// FuzzReadAnswerUsage holds readAnswerUsage to json.Unmarshal of the whole
// answer into a struct with a "usage" field.
func FuzzReadAnswerUsage(f *testing.F) {
	for _, s := range []string{
		`{"id":"c1","choices":[{"message":{"content":"hi","usage":null}}],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7,"cost":0.01}}`,
		`{"usage":{"total_tokens":4},"USAGE":null}`, `{"Usage":{"input_tokens":2},"usage":{"output_tokens":3}}`,
		`{"usage":{"total_tokens":"4"}}`, `{"usage":[]}`, `null`, `[{"usage":{}}]`, `{"uſage":{"total_tokens":9}}`, `{"usage":{"total_tokens":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, answer []byte) {
		var whole struct {
			Usage *answerUsage `json:"usage"`
		}
		wholeErr := json.Unmarshal(answer, &whole)
		got, ok := readAnswerUsage(answer)
		if ok != (wholeErr == nil && whole.Usage != nil) || ok && got != *whole.Usage {
			t.Fatalf("%s: read %+v (%v), json.Unmarshal %+v (%v)", answer, got, ok, whole.Usage, wholeErr)
		}
	})
}

// TestReadAnswerUsageAllocations: a stream's usage chunk, and a whole
// answer, have their usage read without an allocation (json.Unmarshal of
// the chunk allocates 7 times); under the race detector now and then one.
func TestReadAnswerUsageAllocations(t *testing.T) {
	chunk := []byte(`{"id":"gen-1","object":"chat.completion.chunk","created":1700000000,"model":"openai/gpt-4o","choices":[],` +
		`"usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21,"cost":0.000123,"prompt_tokens_details":{"cached_tokens":0}}}`)
	var got answerUsage
	n := testing.AllocsPerRun(50, func() { got, _ = readAnswerUsage(chunk) })
	var whole struct {
		Usage *answerUsage `json:"usage"`
	}
	t.Logf("json.Unmarshal: %.0f allocations", testing.AllocsPerRun(50, func() { _ = json.Unmarshal(chunk, &whole) }))
	if got.TotalTokens != 21 || got.Cost != 0.000123 {
		t.Fatalf("read %+v", got)
	}
	budget := 0.0
	if raceDetector {
		budget = 1
	}
	if n > budget {
		t.Errorf("reading the usage of a chunk allocates %.0f times, budget %.0f", n, budget)
	}
}
