package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/falproxy/falproxy/internal/fal"
	"github.com/falproxy/falproxy/internal/openai"
)

// defaultKeepAliveEvery is how often a silent stream gets an SSE comment,
// so that proxies and clients between falproxy and the user do not time it
// out, unless Options.KeepAliveEvery says otherwise.
const defaultKeepAliveEvery = 15 * time.Second

// maxUpstreamLine caps one SSE line read from fal.
const maxUpstreamLine = 16 << 20

// streamEnd is how one kind of stream reports a failure and ends when it
// is complete. Translators (chat.Stream, the image events) return only
// the JSON of each event; the framing, the keep-alives, the error event
// and the end are the sseWriter's, the same for every stream.
type streamEnd struct {
	errorName string // the error event's name; "" sends it as a plain data event
	done      []byte // the data of the event that ends a complete stream; nil for none
}

var (
	// chatEnd is OpenAI's chat stream: unnamed events, the error as
	// data: {"error":...}, and data: [DONE] at the end of a complete answer.
	chatEnd = streamEnd{done: []byte("[DONE]")}
	// imageEnd is OpenAI's image stream: named events, an "error" event,
	// and nothing after the last image.
	imageEnd = streamEnd{errorName: "error"}
)

// sseWriter sends server-sent events, flushing each batch at once. It
// reuses one buffer to frame events, so that a long stream costs no
// allocation per event.
type sseWriter struct {
	w     http.ResponseWriter
	rc    *http.ResponseController
	end   streamEnd
	buf   []byte
	bw    *bufio.Writer // for events too large to hold (see sendWith)
	ended bool          // the end or an error event was sent
	every time.Duration // the keep-alive interval
	// failEvent, when set, builds the event that ends a failed stream in
	// place of OpenAI's error event: a Responses stream ends with its
	// own response.failed, which carries the response so far.
	failEvent func(*openai.Error) (name string, data []byte)
}

// startSSE sends the headers of an event stream that ends as end says and
// gets a keep-alive comment when silent for every.
func startSSE(w http.ResponseWriter, end streamEnd, every time.Duration) *sseWriter {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	s := &sseWriter{w: w, rc: http.NewResponseController(w), end: end, every: every}
	_ = s.rc.Flush()
	return s
}

// send writes one event named name ("" for none) for each payload that is
// not nil, and flushes them together. A payload is JSON; one that spans
// lines (fal may relay an event in several data lines) gets a data field
// per line, which the client joins back.
func (s *sseWriter) send(name string, payloads ...[]byte) error {
	b := s.buf[:0]
	for _, p := range payloads {
		if p == nil {
			continue
		}
		b = appendEventHead(b, name)
		for {
			line, rest, more := bytes.Cut(p, []byte("\n"))
			b = append(b, line...)
			if !more {
				break
			}
			b = append(b, "\ndata: "...)
			p = rest
		}
		b = append(b, "\n\n"...)
	}
	s.buf = b
	if len(b) == 0 {
		return nil
	}
	return s.write(b)
}

// data sends an unnamed event for each payload that is not nil, as send.
func (s *sseWriter) data(payloads ...[]byte) error { return s.send("", payloads...) }

// sendWith sends one event named name whose data writePayload writes
// straight to the answer: an image as base64 is never held whole.
func (s *sseWriter) sendWith(name string, writePayload func(*bufio.Writer)) error {
	if s.bw == nil {
		s.bw = bufio.NewWriterSize(s.w, 64<<10)
	}
	s.buf = appendEventHead(s.buf[:0], name)
	s.bw.Write(s.buf)
	writePayload(s.bw)
	s.bw.WriteString("\n\n")
	if err := s.bw.Flush(); err != nil {
		return err
	}
	return s.rc.Flush()
}

// appendEventHead appends the start of an event: its name, if any, and
// the data field's name.
func appendEventHead(dst []byte, name string) []byte {
	if name != "" {
		dst = append(dst, "event: "...)
		dst = append(dst, name...)
		dst = append(dst, '\n')
	}
	return append(dst, "data: "...)
}

func (s *sseWriter) write(b []byte) error {
	if _, err := s.w.Write(b); err != nil {
		return err
	}
	return s.rc.Flush()
}

// keepAlive sends a comment, which clients ignore.
func (s *sseWriter) keepAlive() error { return s.write([]byte(": keep-alive\n\n")) }

// finish ends a complete stream.
func (s *sseWriter) finish() error {
	s.ended = true
	if s.end.done == nil {
		return nil
	}
	return s.data(s.end.done)
}

// fail ends the stream with an error event carrying e (a server error
// when nil), or the event failEvent builds. Both OpenAI SDKs end the
// stream with an error on it.
func (s *sseWriter) fail(e *openai.Error) error {
	if e == nil {
		e = openai.ServerError("the upstream stream failed")
	}
	if s.failEvent != nil {
		s.ended = true
		return s.send(s.failEvent(e))
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return s.failWith(b)
}

// failWith ends the stream with an error event carrying data as it is
// (fal's own error event, relayed), or with the event failEvent builds
// from the error data carries.
func (s *sseWriter) failWith(data []byte) error {
	if s.failEvent != nil {
		return s.fail(openai.EventError(data))
	}
	s.ended = true
	return s.send(s.end.errorName, data)
}

// close ends the stream according to how relaying it ended, unless an end
// or an error event was already sent: normally (err nil: the end), a
// shutdown (an error event that advises a retry), the client gone
// (nothing: no one reads), the request timeout (an error event, or the
// client would take what arrived so far for the whole answer), fal
// closing without an end (the events atEOF sends, if any, then the end),
// or a failure (an error event in words; close returns err then, for the
// caller to log).
func (s *sseWriter) close(ctx context.Context, err error, atEOF func() error) (failed error) {
	switch {
	case s.ended:
	case err == nil:
		_ = s.finish()
	case shuttingDown(ctx):
		cutShort(ctx)
		_ = s.fail(shutdownError())
	case cancelled(ctx):
		cutShort(ctx)
	case ctx.Err() != nil:
		cutShort(ctx)
		_ = s.fail(timeoutError())
	case errors.Is(err, io.EOF) && atEOF != nil:
		if atEOF() == nil {
			_ = s.finish()
		}
	default:
		_ = s.fail(streamFailure())
		return err
	}
	return nil
}

// streamFailure is the error event of a stream from fal that broke off or
// could not be read; what happened goes to the log, not to the client.
func streamFailure() *openai.Error {
	return &openai.Error{Message: "fal's stream broke off before its end.", Type: openai.TypeServer, Code: "upstream_stream_error"}
}

// timeoutError ends a stream whose request timeout passed while the client
// was still reading: without it the client would take the text so far for
// the whole answer.
func timeoutError() *openai.Error {
	return &openai.Error{
		Message: "fal did not finish within the request timeout; the stream was cut.",
		Type:    openai.TypeTimeout,
		Code:    "timeout",
	}
}

// keepAliveUntil calls handle with each value received on ch until handle
// says stop or fails, sending keep-alive comments while ch is silent. It
// returns handle's error, the error of a keep-alive that could not be
// written, or ctx's error when ctx ends or ch closes first.
func keepAliveUntil[T any](ctx context.Context, out *sseWriter, ch <-chan T, handle func(T) (stop bool, err error)) error {
	tick := time.NewTicker(out.every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			if err := out.keepAlive(); err != nil {
				return err
			}
		case v, ok := <-ch:
			if !ok {
				return ctx.Err()
			}
			if stop, err := handle(v); stop || err != nil {
				return err
			}
		}
	}
}

// upstreamEvent is one event read from fal, with its data copied.
type upstreamEvent struct {
	data []byte
	err  error // io.EOF at the normal end
}

// pumpEvents reads fal's events on a goroutine so that the writer can send
// keep-alives while fal is silent. The goroutine ends when the stream ends
// or ctx is cancelled (the caller closes the body, which unblocks reads).
func pumpEvents(ctx context.Context, rd *fal.SSEReader) <-chan upstreamEvent {
	ch := make(chan upstreamEvent)
	go func() {
		defer close(ch)
		for {
			ev, err := rd.Next()
			var item upstreamEvent
			switch {
			case err != nil:
				item.err = err
			case ev.Comment || len(ev.Data) == 0:
				continue
			default:
				item.data = append([]byte(nil), ev.Data...)
			}
			select {
			case ch <- item:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return ch
}

// relay feeds every event of fal's stream to handle, sending keep-alive
// comments while fal is silent (at out's interval). It returns
// when handle says stop, the stream ends (with the read error, io.EOF at
// a normal end), or ctx ends. Events are read on a goroutine that ends
// with the call.
func (s *Server) relay(ctx context.Context, out *sseWriter, rd *fal.SSEReader, handle func(data []byte) (stop bool, err error)) error {
	pumpCtx, stopPump := context.WithCancel(ctx)
	defer stopPump()
	return keepAliveUntil(ctx, out, pumpEvents(pumpCtx, rd), func(ev upstreamEvent) (bool, error) {
		if ev.err != nil {
			return true, ev.err
		}
		return handle(ev.data)
	})
}
