package chat

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/falproxy/falproxy/internal/openai"
)

// Folded is a conversation flattened into what fal's LLM endpoints take.
type Folded struct {
	Prompt       string
	SystemPrompt string
	// ImageURLs are the image_url parts of the kept messages, in order. When
	// there are any, the server calls the /vision endpoint with image_urls.
	ImageURLs []string
	// DroppedMessages counts the oldest user, assistant and tool messages
	// that fitted neither the prompt nor the system prompt.
	DroppedMessages int
	// TruncatedSystem counts the characters cut from the end of the system
	// messages to keep them within Limits.System.
	TruncatedSystem int
}

// systemReserve is what the seed set aside, next to the system messages,
// for the separator: 4 characters, although the default separator is
// longer. It is kept so that folding matches the seed character for
// character; the consequence is stated on Fold.
const systemReserve = 4

// Fold flattens msgs with the seed proxy's "System Top + Separator +
// Recency" strategy:
//
//  1. Every system (or developer) message becomes "System: <content>\n\n";
//     these are concatenated, cut to lim.System characters and trimmed of
//     white space: the result is S.
//  2. Every user message becomes a block "Human: <content>\n\n", every
//     assistant message "Assistant: <content>\n\n" (tool calls as lines
//     `Assistant called name(arguments) (id)`), every tool result
//     "Tool (<tool_call_id>): <content>\n\n".
//  3. The room for history in the system prompt is R = lim.System -
//     (len(S)+4) when S is not empty, else lim.System; never below 0.
//  4. Walking from the newest block to the oldest, a block joins the front
//     of the prompt part while the sum of the part's block lengths stays
//     at most lim.Prompt (equal to the limit fits); the first block that
//     does not fit marks the prompt part full and is tried, with the older
//     ones, at the front of the history part, which must stay at most R.
//     The first block that fits neither ends the walk; it and all older
//     blocks are dropped and counted in DroppedMessages.
//  5. Prompt is the prompt part joined and trimmed. SystemPrompt is S +
//     lim.Separator + history (the history part joined and trimmed) when
//     both are non-empty, else whichever is.
//
// Lengths are Unicode characters, and the system cut never splits one.
// Content parts are rendered as described on appendContent; their image
// URLs are returned in ImageURLs.
//
// Unlike the seed, the newest user message, with any assistant or tool
// messages after it, always goes into the prompt: when that tail alone is
// longer than lim.Prompt, Fold fails with a 400 context_length_exceeded
// whose message gives the excess. Without any user message the newest
// message plays that part, and with system messages only the system text
// S becomes the prompt (fal requires a non-empty prompt) and SystemPrompt
// stays empty.
//
// Bounds that follow: Prompt has at most lim.Prompt characters, and
// SystemPrompt at most lim.System, or lim.System - 4 + len(lim.Separator)
// when it holds both S and history (the seed's 4-character reserve is
// smaller than the separator it stands for).
//
// Fold also fails with a 400 for an empty msgs, an unknown role
// (param messages[i].role) and an image URL that is not http(s) or data:.
func Fold(msgs []openai.Message, lim Limits) (Folded, *openai.Error) {
	lim = lim.withDefaults()
	if len(msgs) == 0 {
		return Folded{}, errNoMessages()
	}
	t := newTranscript(msgs)
	for i := range msgs {
		if err := t.add(&msgs[i], i); err != nil {
			return Folded{}, err
		}
	}
	sys, cut := cutRunes(t.system, lim.System)
	sys = bytes.TrimSpace(sys)
	f := Folded{TruncatedSystem: cut}

	if len(t.blocks) == 0 {
		if n := utf8.RuneCount(sys); n > lim.Prompt {
			return Folded{}, errTooLong("the system text", n, lim.Prompt)
		}
		f.Prompt = string(sys)
		f.ImageURLs = t.imageURLs(len(msgs))
		return f, nil
	}

	room := lim.System
	if len(sys) > 0 {
		room = max(0, lim.System-(utf8.RuneCount(sys)+systemReserve))
	}
	w, err := walk(t.blocks, lim.Prompt, room)
	if err != nil {
		return Folded{}, err
	}

	promptAt := t.blocks[w.prompt].start
	f.Prompt = string(bytes.TrimSpace(t.text[promptAt:]))
	hist := bytes.TrimSpace(t.text[t.blocks[w.history].start:promptAt])
	f.SystemPrompt = joinSystem(sys, lim.Separator, hist)
	f.DroppedMessages = w.history
	f.ImageURLs = t.imageURLs(t.blocks[w.history].msg)
	return f, nil
}

// window is where the walk put the blocks: blocks[prompt:] form the prompt
// part, blocks[history:prompt] the history part, blocks[:history] are
// dropped.
type window struct{ history, prompt int }

// walk runs step 4 of Fold over blocks, with the newest user message and
// everything after it forced into the prompt part.
func walk(blocks []block, promptLimit, historyLimit int) (window, *openai.Error) {
	tail := len(blocks) - 1
	for i := tail; i >= 0; i-- {
		if blocks[i].user {
			tail = i
			break
		}
	}
	used := 0
	for _, b := range blocks[tail:] {
		used += b.runes
	}
	if used > promptLimit {
		return window{}, errTooLong(tailName(blocks, tail), used, promptLimit)
	}

	i := tail - 1
	for ; i >= 0 && used+blocks[i].runes <= promptLimit; i-- {
		used += blocks[i].runes
	}
	w := window{prompt: i + 1}
	hist := 0
	for ; i >= 0 && hist+blocks[i].runes <= historyLimit; i-- {
		hist += blocks[i].runes
	}
	w.history = i + 1
	return w, nil
}

// tailName describes blocks[tail:] for an error message.
func tailName(blocks []block, tail int) string {
	after := len(blocks) - 1 - tail
	switch {
	case !blocks[tail].user:
		return "the newest message"
	case after == 1:
		return "the newest user message with the message after it"
	case after > 1:
		return "the newest user message with the " + strconv.Itoa(after) + " messages after it"
	}
	return "the newest user message"
}

// joinSystem builds the system prompt from the system text and the history
// moved out of the prompt, separated by sep when both are present.
func joinSystem(sys []byte, sep string, hist []byte) string {
	switch {
	case len(sys) == 0:
		return string(hist)
	case len(hist) == 0:
		return string(sys)
	}
	var b strings.Builder
	b.Grow(len(sys) + len(sep) + len(hist))
	b.Write(sys)
	b.WriteString(sep)
	b.Write(hist)
	return b.String()
}

// imageURLs returns the URLs of system messages and of messages from index
// first on, in message order; nil when there are none.
func (t *transcript) imageURLs(first int) []string {
	n := 0
	for _, im := range t.images {
		if im.system || im.msg >= first {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	urls := make([]string, 0, n)
	for _, im := range t.images {
		if im.system || im.msg >= first {
			urls = append(urls, im.url)
		}
	}
	return urls
}

// cutRunes keeps the first n characters of b and reports how many it cut.
func cutRunes(b []byte, n int) ([]byte, int) {
	total := utf8.RuneCount(b)
	if total <= n {
		return b, 0
	}
	at := 0
	for range n {
		_, size := utf8.DecodeRune(b[at:])
		at += size
	}
	return b[:at], total - n
}

// newTranscript returns a transcript with room for msgs, so that its
// buffers rarely grow while rendering.
func newTranscript(msgs []openai.Message) transcript {
	var sys, text, images int
	for i := range msgs {
		m := &msgs[i]
		n := len(m.Content.Text) + 16
		for _, p := range m.Content.Parts {
			n += len(p.Text) + 8
			if p.Type == "image_url" {
				images++
			}
		}
		for _, c := range m.ToolCalls {
			n += len(c.Function.Name) + len(c.Function.Arguments) + len(c.ID) + 24
		}
		if roleKind(m.Role) == kindSystem {
			sys += n
		} else {
			text += n
		}
	}
	return transcript{
		system: make([]byte, 0, sys),
		text:   make([]byte, 0, text),
		blocks: make([]block, 0, len(msgs)),
		images: make([]imageRef, 0, images),
	}
}
