package chat

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/falproxy/falproxy/internal/openai"
)

// fuzzConversation builds messages from fuzz input: each role byte picks a
// message shape, contents are taken in turn from text split at NUL.
func fuzzConversation(roles []byte, text string) []openai.Message {
	if len(roles) > 64 {
		roles = roles[:64]
	}
	contents := strings.Split(text, "\x00")
	msgs := make([]openai.Message, 0, len(roles))
	for i, r := range roles {
		c := contents[i%len(contents)]
		switch r % 8 {
		case 0:
			msgs = append(msgs, msg("system", c))
		case 1:
			msgs = append(msgs, msg("developer", c))
		case 2:
			msgs = append(msgs, msg("user", c))
		case 3:
			msgs = append(msgs, msg("assistant", c))
		case 4:
			msgs = append(msgs, toolResult("call_"+strconv.Itoa(i), c))
		case 5:
			msgs = append(msgs, partsMsg("user", textPart(c), imagePart("https://img.example/"+strconv.Itoa(i))))
		case 6:
			msgs = append(msgs, assistantCalls(call("call_"+strconv.Itoa(i), "f", c)))
		case 7:
			msgs = append(msgs, partsMsg("user", openai.ContentPart{Type: "input_audio"}, textPart(c)))
		}
	}
	return msgs
}

// FuzzFold checks Fold's invariants on arbitrary conversations and limits:
// it never panics; on success the output is valid UTF-8, the prompt is
// non-empty and within lim.Prompt characters, the system prompt within
// lim.System characters plus (when it joins system text and history) the
// separator's length minus the 4 characters the seed reserved for it, the
// newest user text is in the prompt, and every kept message's text is in
// one of the two; on failure the error is a 400 context_length_exceeded.
func FuzzFold(f *testing.F) {
	f.Add([]byte{0, 2, 3, 2}, "be nice\x00hello\x00hi there\x00why?", uint8(40), uint8(60), false)
	f.Add([]byte{1, 5, 6, 4, 2}, "你好，世界\x00😀 emoji\x00{\"a\":1}", uint8(20), uint8(30), true)
	f.Add([]byte{2, 3, 2, 3, 2, 3, 2}, "a\x00bb\x00ccc\x00dddd", uint8(12), uint8(10), false)
	f.Add([]byte{0, 0}, "  spaced  \x00\xff\xfe", uint8(5), uint8(3), true)
	f.Fuzz(func(t *testing.T, roles []byte, text string, promptLim, systemLim uint8, defaultSep bool) {
		lim := Limits{Prompt: int(promptLim) + 1, System: int(systemLim) + 1, Separator: "|"}
		if defaultSep {
			lim.Separator = DefaultSeparator
		}
		msgs := fuzzConversation(roles, text)
		got, err := Fold(msgs, lim)
		if err != nil {
			if len(msgs) == 0 && err.Code == "empty_array" {
				return
			}
			if err.Status != 400 || err.Code != CodeContextLengthExceeded || err.Param != "messages" {
				t.Fatalf("unexpected error %+v", err)
			}
			if want := "the prompt limit of " + strconv.Itoa(lim.Prompt) + " characters"; !strings.Contains(err.Message, want) {
				t.Fatalf("error message %q lacks %q", err.Message, want)
			}
			return
		}
		checkFolded(t, msgs, lim, got)
	})
}

// checkFolded asserts the invariants stated on FuzzFold.
func checkFolded(t *testing.T, msgs []openai.Message, lim Limits, got Folded) {
	t.Helper()
	if !utf8.ValidString(got.Prompt) || !utf8.ValidString(got.SystemPrompt) {
		t.Fatalf("invalid UTF-8 in %q / %q", got.Prompt, got.SystemPrompt)
	}
	if got.Prompt == "" {
		t.Fatalf("empty prompt")
	}
	if n := utf8.RuneCountInString(got.Prompt); n > lim.Prompt {
		t.Fatalf("prompt has %d characters, limit %d", n, lim.Prompt)
	}
	bound := lim.System + max(0, utf8.RuneCountInString(lim.Separator)-systemReserve)
	if n := utf8.RuneCountInString(got.SystemPrompt); n > bound {
		t.Fatalf("system prompt has %d characters, bound %d", n, bound)
	}
	var conv []int // indexes of conversation messages
	for i, m := range msgs {
		if roleKind(m.Role) != kindSystem {
			conv = append(conv, i)
		}
	}
	if got.DroppedMessages < 0 || got.DroppedMessages > len(conv) {
		t.Fatalf("DroppedMessages %d of %d", got.DroppedMessages, len(conv))
	}
	for _, i := range conv[got.DroppedMessages:] {
		s := strings.TrimSpace(strings.ToValidUTF8(messageText(msgs[i]), "\uFFFD"))
		if !strings.Contains(got.Prompt, s) && !strings.Contains(got.SystemPrompt, s) {
			t.Fatalf("kept message %d text %q is in neither part", i, s)
		}
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "user" {
			s := strings.TrimSpace(strings.ToValidUTF8(messageText(msgs[i]), "\uFFFD"))
			if !strings.Contains(got.Prompt, s) {
				t.Fatalf("newest user text %q not in prompt %q", s, got.Prompt)
			}
			break
		}
	}
	for _, u := range got.ImageURLs {
		if !strings.HasPrefix(u, "https://img.example/") {
			t.Fatalf("unexpected image URL %q", u)
		}
	}
}

// messageText is the text a fuzz message carries: its string content, its
// text part, or its tool call's arguments.
func messageText(m openai.Message) string {
	for _, p := range m.Content.Parts {
		if p.Type == "text" {
			return p.Text
		}
	}
	if len(m.ToolCalls) > 0 {
		return m.ToolCalls[0].Function.Arguments
	}
	return m.Content.Text
}
