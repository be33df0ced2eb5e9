package chat

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/ssestream"

	"github.com/falproxy/falproxy/internal/openai"
)

const (
	testID      = "chatcmpl-abc"
	testModel   = "google/gemini-2.5-flash"
	testCreated = int64(1700000000)
)

// wantChunk is the event json.Marshal makes of a chunk carrying delta.
func wantChunk(t *testing.T, delta openai.Delta) []byte {
	t.Helper()
	body, err := json.Marshal(openai.ChatChunk{
		ID: testID, Object: "chat.completion.chunk", Created: testCreated, Model: testModel,
		Choices: []openai.ChunkChoice{{Delta: delta}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return append(append([]byte("data: "), body...), "\n\n"...)
}

func ptr(s string) *string { return &s }

func TestStreamStartAndFinishWire(t *testing.T) {
	head := `data: {"id":"chatcmpl-abc","object":"chat.completion.chunk","created":1700000000,"model":"google/gemini-2.5-flash",`
	tests := []struct {
		name         string
		includeUsage bool
		reason       string
		usage        *openai.Usage
		want         string
	}{
		{
			name: "without usage",
			want: head + `"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}` + "\n\n" + "data: [DONE]\n\n",
		},
		{
			name: "usage reported", includeUsage: true, reason: "length",
			usage: &openai.Usage{PromptTokens: 1, CompletionTokens: 2, TotalTokens: 3},
			want: head + `"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"length"}]}` + "\n\n" +
				head + `"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}` + "\n\n" +
				"data: [DONE]\n\n",
		},
		{
			name: "usage asked for but unknown", includeUsage: true,
			want: head + `"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}` + "\n\n" +
				head + `"choices":[],"usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0}}` + "\n\n" +
				"data: [DONE]\n\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStream(testID, testModel, testCreated, tt.includeUsage)
			start := string(event(s.Start()))
			wantStart := head + `"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}` + "\n\n"
			if start != wantStart {
				t.Errorf("Start:\n got %q\nwant %q", start, wantStart)
			}
			if got := string(ended(s.Finish(tt.reason, tt.usage))); got != tt.want {
				t.Errorf("Finish:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestStreamEvent(t *testing.T) {
	type step struct {
		output, reasoning string
		want              *openai.Delta // nil: no event
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "growing output",
			steps: []step{
				{output: "", want: nil},
				{output: "He", want: &openai.Delta{Content: ptr("He")}},
				{output: "Hello", want: &openai.Delta{Content: ptr("llo")}},
				{output: "Hello", want: nil},
				{output: "Hello world", want: &openai.Delta{Content: ptr(" world")}},
			},
		},
		{
			name: "reasoning before and with the output",
			steps: []step{
				{reasoning: "Let", want: &openai.Delta{ReasoningContent: "Let"}},
				{reasoning: "Let me", output: "Hi", want: &openai.Delta{Content: ptr("Hi"), ReasoningContent: " me"}},
				{reasoning: "Let me", output: "Hi!", want: &openai.Delta{Content: ptr("!")}},
			},
		},
		{
			name: "restart sends the text after the shared prefix",
			steps: []step{
				{output: "Hello wor", want: &openai.Delta{Content: ptr("Hello wor")}},
				{output: "Hello there", want: &openai.Delta{Content: ptr("there")}},
				{output: "Hello there!", want: &openai.Delta{Content: ptr("!")}},
			},
		},
		{
			name: "restart inside a multi-byte character backs up to its start",
			steps: []step{
				{output: "你", want: &openai.Delta{Content: ptr("你")}},
				{output: "们", want: &openai.Delta{Content: ptr("们")}}, // both start with byte 0xE4
				{output: "们好", want: &openai.Delta{Content: ptr("好")}},
			},
		},
		{
			name: "a shorter text sends nothing and is not sent twice",
			steps: []step{
				{output: "abc", want: &openai.Delta{Content: ptr("abc")}},
				{output: "ab", want: nil},
				{output: "", want: nil},
				{output: "abcd", want: &openai.Delta{Content: ptr("d")}},
			},
		},
		{
			name: "characters JSON escapes",
			steps: []step{
				{output: "<a & b>\n\t\"q\" \\ \u2028\u2029\x01 😀", want: &openai.Delta{Content: ptr("<a & b>\n\t\"q\" \\ \u2028\u2029\x01 😀")}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStream(testID, testModel, testCreated, false)
			s.Start()
			for i, st := range tt.steps {
				got := event(s.Event(FalOutput{Output: st.output, Reasoning: st.reasoning, Partial: true}))
				switch {
				case st.want == nil && got != nil:
					t.Errorf("step %d: got %q, want no event", i, got)
				case st.want != nil && !bytes.Equal(got, wantChunk(t, *st.want)):
					t.Errorf("step %d:\n got %q\nwant %q", i, got, wantChunk(t, *st.want))
				}
			}
		})
	}
}

// collect runs a whole stream and returns its bytes; each result is copied
// because the Stream reuses its buffer.
func collect(s *Stream, outs []FalOutput, usage *openai.Usage) []byte {
	var all []byte
	all = append(all, event(s.Start())...)
	for _, o := range outs {
		all = append(all, event(s.Event(o))...)
	}
	return append(all, ended(s.Finish("stop", usage))...)
}

// decodeSSE parses a stream the way the official Go SDK does.
func decodeSSE(sse []byte) ([]sdk.ChatCompletionChunk, error) {
	res := &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"text/event-stream"}},
		Body:       io.NopCloser(bytes.NewReader(sse)),
	}
	stream := ssestream.NewStream[sdk.ChatCompletionChunk](ssestream.NewDecoder(res), nil)
	var chunks []sdk.ChatCompletionChunk
	for stream.Next() {
		chunks = append(chunks, stream.Current())
	}
	return chunks, stream.Err()
}

// cumulative returns fal-style events: the text growing by step runes.
func cumulative(text string, step int) []string {
	r := []rune(text)
	var outs []string
	for n := step; ; n += step {
		if n >= len(r) {
			return append(outs, text)
		}
		outs = append(outs, string(r[:n]))
	}
}

// TestStreamSDK feeds a whole stream to the official Go SDK's decoder and
// accumulator: every chunk must be accepted and the accumulated message
// must equal fal's final output.
func TestStreamSDK(t *testing.T) {
	final := "Bonjour! 你好，世界。Emoji 😀👍🏽 and <html> & \"quotes\"\nnew line."
	thought := "The user greets; answer in kind."
	var outs []FalOutput
	reasons := cumulative(thought, 5)
	for i, o := range cumulative(final, 3) {
		outs = append(outs, FalOutput{Output: o, Reasoning: reasons[min(i, len(reasons)-1)], Partial: true})
	}
	outs = append(outs, FalOutput{Output: final, Reasoning: thought, Partial: false})
	usage := &openai.Usage{PromptTokens: 11, CompletionTokens: 22, TotalTokens: 33}

	for _, includeUsage := range []bool{false, true} {
		sse := collect(NewStream(testID, testModel, testCreated, includeUsage), outs, usage)
		chunks, err := decodeSSE(sse)
		if err != nil {
			t.Fatalf("SDK stream error: %v", err)
		}
		var acc sdk.ChatCompletionAccumulator
		var reasoning strings.Builder
		for i, c := range chunks {
			if !acc.AddChunk(c) {
				t.Fatalf("accumulator rejected chunk %d: %s", i, c.RawJSON())
			}
			if c.ID != testID || c.Model != testModel || c.Created != testCreated || c.Object != "chat.completion.chunk" {
				t.Errorf("chunk %d header = %s %s %d %s", i, c.ID, c.Model, c.Created, c.Object)
			}
			if len(c.Choices) > 0 {
				if raw := c.Choices[0].Delta.JSON.ExtraFields["reasoning_content"].Raw(); raw != "" {
					var s string
					if err := json.Unmarshal([]byte(raw), &s); err != nil {
						t.Fatal(err)
					}
					reasoning.WriteString(s)
				}
			}
		}
		if len(acc.Choices) != 1 {
			t.Fatalf("accumulated %d choices", len(acc.Choices))
		}
		msg := acc.Choices[0]
		if msg.Message.Content != final || msg.FinishReason != "stop" || string(msg.Message.Role) != "assistant" {
			t.Errorf("accumulated %q, finish %q, role %q", msg.Message.Content, msg.FinishReason, msg.Message.Role)
		}
		if reasoning.String() != thought {
			t.Errorf("reasoning deltas add up to %q, want %q", reasoning.String(), thought)
		}
		last := chunks[len(chunks)-1]
		if includeUsage {
			if len(last.Choices) != 0 || acc.Usage.TotalTokens != 33 || acc.Usage.PromptTokens != 11 {
				t.Errorf("usage chunk %s, accumulated usage %+v", last.RawJSON(), acc.Usage)
			}
		} else if last.JSON.Usage.Raw() != "" || len(last.Choices) != 1 {
			t.Errorf("last chunk without include_usage: %s", last.RawJSON())
		}
	}
}

// TestStreamEventFraming checks every event of a stream: one "data:" line,
// ended by a blank line, JSON without an "error" key.
func TestStreamEventFraming(t *testing.T) {
	var outs []FalOutput
	for _, o := range cumulative("line one\nline two\r\nthree", 4) {
		outs = append(outs, FalOutput{Output: o, Reasoning: o})
	}
	sse := collect(NewStream(testID, testModel, testCreated, true), outs, nil)
	events := strings.Split(strings.TrimSuffix(string(sse), "\n\n"), "\n\n")
	if events[len(events)-1] != "data: [DONE]" {
		t.Fatalf("stream does not end with [DONE]: %q", events[len(events)-1])
	}
	for _, ev := range events[:len(events)-1] {
		data, ok := strings.CutPrefix(ev, "data: ")
		if !ok || strings.Contains(data, "\n") {
			t.Fatalf("event is not a single data line: %q", ev)
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(data), &obj); err != nil {
			t.Fatalf("event is not JSON: %v: %q", err, data)
		}
		if _, bad := obj["error"]; bad {
			t.Fatalf("normal chunk carries an error key: %q", data)
		}
	}
}

// TestErrorEventSDK checks that the Go SDK delivers the chunks before a
// mid-stream error and then reports it.
func TestErrorEventSDK(t *testing.T) {
	s := NewStream(testID, testModel, testCreated, false)
	var sse []byte
	sse = append(sse, event(s.Start())...)
	sse = append(sse, event(s.Event(FalOutput{Output: "partial"}))...)
	sse = append(sse, errorEvent(openai.ServerError("fal: model crashed"))...)
	chunks, err := decodeSSE(sse)
	if len(chunks) != 2 {
		t.Errorf("got %d chunks before the error, want 2", len(chunks))
	}
	var se *ssestream.StreamError
	if !errors.As(err, &se) || !strings.Contains(se.Message, "model crashed") {
		t.Errorf("stream error = %v, want a StreamError about the crash", err)
	}
}
