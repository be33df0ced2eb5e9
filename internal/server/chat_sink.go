package server

import (
	"net/http"
	"time"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/openai"
)

// chatSink is where serveChat delivers fal's answer once there is one: a
// whole completion, or a stream (start, then text or raw chunks, then end
// for a complete answer). Keep-alives, failures and the stream's last
// event go through the sseWriter start returned, which the sink made for
// its own kind of stream. The chat route's sink writes OpenAI's chat
// answer; the Responses bridge's translates the answer into a response or
// Responses events, with no chat JSON written and read back between.
type chatSink interface {
	// whole delivers a whole completion, as its JSON.
	whole(completion []byte)
	// start begins a stream; an error means the client is gone.
	start(ss streamStart) (*sseWriter, error)
	// text delivers the new text of the folding backends' streams.
	text(content, reasoning string) error
	// raw delivers a chunk of fal's OpenAI-compatible stream, its JSON.
	raw(chunk []byte) error
	// end delivers the end of a complete answer: the reason it finished
	// and its usage ("" and nil on the passthrough, whose chunks carry
	// them).
	end(finishReason string, usage *openai.Usage) error
	// streamed is the estimated usage of the passthrough's stream so
	// far, the prompt and the text sent, for a stream the client left
	// before fal's usage was charged; nil before a stream started.
	streamed() *openai.Usage
}

// streamStart is what a sink needs to begin a stream.
type streamStart struct {
	model        string        // the name the client asked for
	includeUsage bool          // stream_options.include_usage
	promptChars  int           // the prompt's characters, for a usage estimate
	passthrough  bool          // chunks come raw from fal's OpenAI-compatible stream
	keepAlive    time.Duration // the stream's keep-alive interval
}

// chatWriter is the chat route's sink: OpenAI's chat completion, or its
// chunks ending with [DONE].
type chatWriter struct {
	w   http.ResponseWriter
	out *sseWriter
	st  *chat.Stream            // the folding backends' deltas
	ps  *chat.PassthroughStream // the passthrough's chunks
}

func (c *chatWriter) whole(completion []byte) { writeEncoded(c.w, completion) }

func (c *chatWriter) start(ss streamStart) (*sseWriter, error) {
	c.out = startSSE(c.w, chatEnd, ss.keepAlive)
	if ss.passthrough {
		c.ps = chat.NewPassthroughStream(ss.model, ss.includeUsage, ss.promptChars)
		return c.out, nil
	}
	c.st = chat.NewStream(chat.NewID(), ss.model, time.Now().Unix(), ss.includeUsage)
	return c.out, c.out.data(c.st.Start())
}

func (c *chatWriter) text(content, reasoning string) error {
	return c.out.data(c.st.Chunk(content, reasoning))
}

func (c *chatWriter) raw(chunk []byte) error { return c.out.data(c.ps.Event(chunk)) }

func (c *chatWriter) end(finishReason string, usage *openai.Usage) error {
	if c.ps != nil {
		return c.out.data(c.ps.End())
	}
	return c.out.data(c.st.Finish(finishReason, usage))
}

func (c *chatWriter) streamed() *openai.Usage {
	if c.ps == nil {
		return nil
	}
	return c.ps.Streamed()
}
