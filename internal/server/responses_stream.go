package server

import (
	"bytes"
	"context"
	"net/http"

	"github.com/falproxy/falproxy/internal/openai"
	"github.com/falproxy/falproxy/internal/responses"
)

// responsesRelay is the http.ResponseWriter the chat pipeline writes a
// streamed answer to when it answers a Responses request: it reads the
// chat events as they are written and sends their Responses events
// instead. An error before the stream started (a status other than 200)
// passes through as it is; the chat pipeline's keep-alives pass through;
// its error event becomes response.failed and its [DONE] the final events.
type responsesRelay struct {
	w       http.ResponseWriter
	st      *responses.Stream
	failure capturedAnswer // an answer that is not a stream: an error
	out     *sseWriter     // nil until the stream started
	pending []byte         // chat stream text not yet a whole event
	err     error          // the first write to the client that failed
}

func newResponsesRelay(w http.ResponseWriter, st *responses.Stream) *responsesRelay {
	return &responsesRelay{w: w, st: st, failure: capturedAnswer{header: http.Header{}}}
}

func (rr *responsesRelay) Header() http.Header { return rr.failure.header }

func (rr *responsesRelay) WriteHeader(status int) {
	if rr.out != nil || rr.failure.status != 0 {
		return
	}
	if status != http.StatusOK || rr.failure.header.Get("Content-Type") != "text/event-stream" {
		rr.failure.WriteHeader(status)
		return
	}
	rr.out = startSSE(rr.w, responsesEnd)
	rr.send(rr.st.Start())
}

func (rr *responsesRelay) Write(p []byte) (int, error) {
	rr.WriteHeader(http.StatusOK)
	if rr.out == nil {
		return rr.failure.Write(p)
	}
	rr.pending = append(rr.pending, p...)
	for {
		frame, rest, whole := bytes.Cut(rr.pending, []byte("\n\n"))
		if !whole {
			break
		}
		rr.frame(frame)
		rr.pending = append(rr.pending[:0], rest...)
	}
	return len(p), rr.err
}

// FlushError is how http.ResponseController flushes: every event is sent
// and flushed as it is translated, and an error is written whole at the
// end, so there is nothing left to flush.
func (rr *responsesRelay) FlushError() error { return rr.err }

// frame handles one chat event: a keep-alive comment, [DONE], an error
// event or a chunk.
func (rr *responsesRelay) frame(frame []byte) {
	if bytes.HasPrefix(frame, []byte(":")) {
		if rr.err == nil {
			rr.err = rr.out.keepAlive()
		}
		return
	}
	var data []byte
	for line := range bytes.Lines(frame) {
		if d, ok := bytes.CutPrefix(bytes.TrimRight(line, "\n"), []byte("data: ")); ok {
			if data != nil {
				data = append(data, '\n')
			}
			data = append(data, d...)
		}
	}
	switch {
	case string(data) == "[DONE]":
		rr.send(rr.st.End())
	case isErrorEvent(data):
		rr.send(rr.st.Fail(openai.EventError(data)))
	default:
		rr.send(rr.st.Chunk(data))
	}
}

func (rr *responsesRelay) send(evs []responses.Event) {
	for _, ev := range evs {
		if rr.err != nil {
			return
		}
		rr.err = rr.out.send(ev.Name, ev.Data)
	}
}

// end finishes the answer after the chat pipeline returned: an error
// before the stream is relayed; a stream the pipeline left without its
// end, with the client still there, ends with response.failed. It returns
// the whole response when the stream completed (or stopped at the token
// limit).
func (rr *responsesRelay) end(ctx context.Context) (responses.Response, bool) {
	if rr.out == nil {
		if rr.failure.status != 0 {
			rr.failure.relayError(rr.w)
		}
		return responses.Response{}, false
	}
	resp := rr.st.Response()
	if resp.Status == "completed" || resp.Status == "incomplete" {
		return resp, true
	}
	if ctx.Err() == nil {
		rr.send(rr.st.Fail(streamFailure()))
	}
	return responses.Response{}, false
}

// responsesEnd is the Responses stream: named events, and no end marker
// after response.completed.
var responsesEnd = streamEnd{}
