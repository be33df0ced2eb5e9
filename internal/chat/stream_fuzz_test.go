package chat

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/falproxy/falproxy/internal/openai"
)

// FuzzStreamEvent streams a valid UTF-8 text as fal does, cumulatively, in
// pieces whose sizes come from cuts, and checks that every event is the
// chunk json.Marshal makes of the new piece and that the pieces add up to
// the text. A second text is then sent as a restart: its event carries its
// part after the prefix shared with the first.
func FuzzStreamEvent(f *testing.F) {
	f.Add("Hello, world!", []byte{1, 3, 2}, "Hello, there")
	f.Add("你好世界 😀", []byte{2, 1, 5}, "你们")
	f.Add("<&>\u2028\n\"", []byte{1}, "")
	f.Fuzz(func(t *testing.T, text string, cuts []byte, restart string) {
		if !utf8.ValidString(text) || !utf8.ValidString(restart) {
			t.Skip("fal's decoded texts are valid UTF-8")
		}
		s := NewStream(testID, testModel, testCreated, false)
		s.Start()
		var got strings.Builder
		prev := 0
		for i := 0; prev < len(text); i++ {
			step := 1
			if len(cuts) > 0 {
				step = int(cuts[i%len(cuts)])%8 + 1
			}
			end := prev
			for range step {
				if end == len(text) {
					break
				}
				_, size := utf8.DecodeRuneInString(text[end:])
				end += size
			}
			ev := event(s.Event(FalOutput{Output: text[:end]}))
			if want := wantChunk(t, openai.Delta{Content: ptr(text[prev:end])}); !bytes.Equal(ev, want) {
				t.Fatalf("event for %q:\n got %q\nwant %q", text[prev:end], ev, want)
			}
			got.WriteString(deltaContent(t, ev))
			prev = end
		}
		if got.String() != text {
			t.Fatalf("deltas add up to %q, want %q", got.String(), text)
		}

		ev := event(s.Event(FalOutput{Output: restart}))
		shared := 0
		for shared < len(text) && shared < len(restart) && text[shared] == restart[shared] {
			shared++
		}
		for shared > 0 && shared < len(restart) && !utf8.RuneStart(restart[shared]) {
			shared--
		}
		switch {
		case strings.HasPrefix(text, restart):
			if ev != nil {
				t.Fatalf("a shorter text sent %q", ev)
			}
		case deltaContent(t, ev) != restart[shared:]:
			t.Fatalf("restart %q after %q sent %q, want %q", restart, text, deltaContent(t, ev), restart[shared:])
		}
	})
}

// deltaContent decodes an event and returns its delta.content.
func deltaContent(t *testing.T, ev []byte) string {
	t.Helper()
	data, ok := bytes.CutPrefix(ev, []byte("data: "))
	if !ok {
		t.Fatalf("not an event: %q", ev)
	}
	var c openai.ChatChunk
	if err := json.Unmarshal(data, &c); err != nil || len(c.Choices) != 1 || c.Choices[0].Delta.Content == nil {
		t.Fatalf("bad chunk %q: %v", data, err)
	}
	return *c.Choices[0].Delta.Content
}
