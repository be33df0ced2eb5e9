package chat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/falproxy/falproxy/internal/jsonstr"
	"github.com/falproxy/falproxy/internal/openai"
)

// Stream turns the events of one fal LLM stream into OpenAI chat chunks,
// each returned as its JSON, the data of one server-sent event: the server
// frames the events, and ends the stream with [DONE] or an error event.
// Every chunk carries the same id, created and model, which the OpenAI
// SDKs' accumulators require, and none carries an "error" key, which the
// Go SDK treats as a failure even when null.
//
// Call Start once, Event for each fal event, then Finish unless the stream
// fails. The slices a method returns are only valid until the next method
// call on the same Stream: the buffer is reused so that a long stream
// costs no allocation per event. A Stream is not safe for concurrent use.
type Stream struct {
	id           string
	model        string
	created      int64
	includeUsage bool

	// head and tail frame a delta object into a whole chunk; they
	// are cut from the JSON of an openai.ChatChunk, so the hand-built
	// chunks have exactly the shape of the type.
	head, tail []byte

	texts Deltas
	buf   []byte
}

// NewStream starts a stream of chunks for one completion. includeUsage is
// the request's stream_options.include_usage.
func NewStream(id, model string, created int64, includeUsage bool) *Stream {
	s := &Stream{id: id, model: model, created: created, includeUsage: includeUsage}
	frame := s.appendChunk(nil, openai.ChatChunk{Choices: []openai.ChunkChoice{{}}})
	const emptyDelta = `"delta":{}`
	at := bytes.LastIndex(frame, []byte(emptyDelta))
	s.head = frame[:at+len(emptyDelta)-2]
	s.tail = frame[at+len(emptyDelta):]
	return s
}

// Start returns the first chunk, whose delta is {"role":"assistant",
// "content":""}: the Node SDK's stream helper needs the role.
func (s *Stream) Start() []byte {
	empty := ""
	s.buf = s.appendChunk(s.buf[:0], openai.ChatChunk{Choices: []openai.ChunkChoice{{
		Delta: openai.Delta{Role: "assistant", Content: &empty},
	}}})
	return s.buf
}

// Event returns the chunk for one fal event, or nil when it adds nothing:
// Chunk of the text Deltas finds new in it.
func (s *Stream) Event(out FalOutput) []byte {
	return s.Chunk(s.texts.Next(out))
}

// Chunk returns the chunk carrying content and reasoning as
// delta.content and delta.reasoning_content, or nil when both are empty.
// The encoding and copying are proportional to the new text only.
func (s *Stream) Chunk(content, reasoning string) []byte {
	if content == "" && reasoning == "" {
		return nil
	}
	b := append(s.buf[:0], s.head...)
	b = append(b, '{')
	if content != "" {
		b = append(b, `"content":`...)
		b = jsonstr.Marshal.Append(b, content)
	}
	if reasoning != "" {
		if content != "" {
			b = append(b, ',')
		}
		b = append(b, `"reasoning_content":`...)
		b = jsonstr.Marshal.Append(b, reasoning)
	}
	b = append(b, '}')
	s.buf = append(b, s.tail...)
	return s.buf
}

// Deltas finds the new text in each event of fal's LLM stream, whose
// output and reasoning are cumulative, for a stream of deltas.
type Deltas struct {
	output, reasoning string // the texts the deltas so far add up to
}

// Next returns the text of out that is new since the previous event, of
// the output and of the reasoning.
//
// When an event's text does not extend the previous one (fal restarted or
// corrected itself), the delta is the event's text after the part the
// two share. A client cannot take back text it already received, so its
// concatenation then differs from fal's final text by the replaced part;
// a text that only got shorter gives nothing and is remembered at its
// longer length, so that a later extension is not sent twice.
//
// Detecting a restart costs one comparison with the previous text (which
// the decoded fal event carried anyway).
func (d *Deltas) Next(out FalOutput) (content, reasoning string) {
	content, d.output = newText(d.output, out.Output)
	reasoning, d.reasoning = newText(d.reasoning, out.Reasoning)
	return content, reasoning
}

// newText compares fal's previous cumulative text with the current one and
// returns the text to send and the text to compare the next event with.
func newText(prev, cur string) (delta, next string) {
	if len(cur) >= len(prev) && cur[:len(prev)] == prev {
		return cur[len(prev):], cur
	}
	if len(cur) < len(prev) && prev[:len(cur)] == cur {
		return "", prev
	}
	n := 0
	for n < len(prev) && n < len(cur) && prev[n] == cur[n] {
		n++
	}
	for n > 0 && !utf8.RuneStart(cur[n]) {
		n--
	}
	return cur[n:], cur
}

// Finish returns the last chunks of the stream (the server sends [DONE]
// after them): a chunk with an empty delta and the finish reason ("stop"
// when reason is empty) and, with include_usage, a chunk with no choices
// carrying usage (the server passes fal's count, or the estimate Usage
// makes when fal gave none; nil gives zeros: clients that asked for usage
// wait for it); usageChunk is nil without include_usage.
func (s *Stream) Finish(reason string, usage *openai.Usage) (finish, usageChunk []byte) {
	if reason == "" {
		reason = "stop"
	}
	b := s.appendChunk(s.buf[:0], openai.ChatChunk{Choices: []openai.ChunkChoice{{FinishReason: &reason}}})
	n := len(b)
	if s.includeUsage {
		if usage == nil {
			usage = &openai.Usage{}
		}
		b = s.appendChunk(b, openai.ChatChunk{Choices: []openai.ChunkChoice{}, Usage: usage})
	}
	s.buf = b
	if !s.includeUsage {
		return b, nil
	}
	return b[:n:n], b[n:]
}

// appendChunk stamps c with the stream's id, created and model and appends
// its JSON.
func (s *Stream) appendChunk(dst []byte, c openai.ChatChunk) []byte {
	c.ID, c.Object, c.Created, c.Model = s.id, "chat.completion.chunk", s.created, s.model
	return appendJSON(dst, c)
}

// appendJSON appends the JSON of v.
func appendJSON(dst []byte, v any) []byte {
	body, err := json.Marshal(v)
	if err != nil {
		// The values marshalled here hold only strings, integers and
		// pointers to them, for which encoding/json cannot fail.
		panic(fmt.Sprintf("chat: encoding a stream chunk: %v", err))
	}
	return append(dst, body...)
}
