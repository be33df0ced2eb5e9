package chat

import (
	"strconv"
	"strings"
	"testing"

	"github.com/falproxy/falproxy/internal/openai"
)

// BenchmarkStreamEvent measures one fal event of a long answer: the
// cumulative output grows by one piece an event up to 500 pieces (15 KB),
// as in a real stream; each iteration is one event. Every event's text is
// a separate copy, as decoding fal's events yields, so the comparison with
// the previous text really reads it. Run with -benchmem: the buffer is
// reused, so steady-state events allocate nothing.
func BenchmarkStreamEvent(b *testing.B) {
	const piece, pieces = "Le renard brun 你好 😀. ", 500
	text := strings.Repeat(piece, pieces)
	outs := make([]string, pieces)
	for i := range outs {
		outs[i] = strings.Clone(text[:(i+1)*len(piece)])
	}
	s := NewStream(testID, testModel, testCreated, true)
	s.Start()
	b.SetBytes(int64(len(piece)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == pieces {
			i = 0
			s = NewStream(testID, testModel, testCreated, true)
		}
		if s.Event(FalOutput{Output: outs[i], Partial: true}) == nil {
			b.Fatal("no event for new text")
		}
		i++
	}
}

// BenchmarkFold measures folding a 50-message conversation with a system
// message, tool calls and images, long enough that history moves into the
// system prompt and the oldest messages are dropped.
func BenchmarkFold(b *testing.B) {
	msgs := []openai.Message{msg("system", "You are a helpful assistant. Answer briefly.")}
	for i := range 49 {
		n := strconv.Itoa(i)
		switch i % 4 {
		case 0:
			msgs = append(msgs, msg("user", "Question "+n+": "+strings.Repeat("how does this work? ", 25)))
		case 1:
			msgs = append(msgs, msg("assistant", "Answer "+n+": "+strings.Repeat("it works like this. ", 30)))
		case 2:
			msgs = append(msgs, partsMsg("user", textPart("What is in picture "+n+"?"), imagePart("https://img.example/"+n+".png")))
		case 3:
			msgs = append(msgs, assistantCalls(call("call_"+n, "describe", `{"image":`+n+`}`)))
		}
	}
	msgs = append(msgs, msg("user", "And finally, 你好?"))
	lim := DefaultLimits()
	b.ReportAllocs()
	for b.Loop() {
		f, err := Fold(msgs, lim)
		if err != nil || f.DroppedMessages == 0 {
			b.Fatalf("Fold: %v, dropped %d", err, f.DroppedMessages)
		}
	}
}

// BenchmarkPassthroughEvent measures the rewriting of one chunk of fal's
// OpenAI-compatible stream (the model renamed, the characters counted).
func BenchmarkPassthroughEvent(b *testing.B) {
	chunk := []byte(`{"id":"gen-1","object":"chat.completion.chunk","created":1700000000,"model":"openai/gpt-4o",` +
		`"choices":[{"index":0,"delta":{"content":"Le renard brun 你好 😀. "},"finish_reason":null}]}`)
	p := NewPassthroughStream("gpt-4o", true, 100)
	b.ReportAllocs()
	for b.Loop() {
		if p.Event(chunk) == nil {
			b.Fatal("no event")
		}
	}
}

// passthroughAnswer is a whole answer of fal's OpenAI-compatible route, as
// OpenRouter shapes it.
var passthroughAnswer = []byte(`{"id":"gen-1700000000-abc","object":"chat.completion","created":1700000000,"model":"openai/gpt-4o",` +
	`"choices":[{"index":0,"message":{"role":"assistant","content":"Hello there, how are you doing today?","refusal":null,"reasoning":null},` +
	`"finish_reason":"stop","native_finish_reason":"stop","logprobs":null}],"usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21}}`)

func BenchmarkPassthroughAnswer(b *testing.B) {
	body := passthroughAnswer
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := PassthroughAnswer(body, "gpt-4o", 20); err != nil {
			b.Fatal(err)
		}
	}
}
