package server

import (
	"net/http"

	"github.com/falproxy/falproxy/internal/openai"
	"github.com/falproxy/falproxy/internal/responses"
)

// responsesWriter is the Responses bridge's chat sink: it translates the
// chat answer serveChat delivers into the response to req, whole, or into
// the events of a Responses stream as the deltas come. A failure after the
// stream started ends it with response.failed (see sseWriter.failEvent).
type responsesWriter struct {
	w        http.ResponseWriter
	req      *responses.Request
	created  int64
	tools    responses.ToolMode
	st       *responses.Stream // nil until a stream starts
	out      *sseWriter
	answered *responses.Response // the whole response written, if any
	// keep, when set, stores a finished response before it is sent.
	keep func(responses.Response)

	// promptChars is the prompt's characters, for a usage estimate.
	promptChars int
}

func (rw *responsesWriter) whole(completion []byte) {
	resp, err := responses.Build(rw.req, rw.created, completion, rw.tools)
	if err != nil {
		writeError(rw.w, malformedAnswer())
		return
	}
	rw.answered = &resp
	rw.store(resp)
	writeJSON(rw.w, http.StatusOK, resp)
}

func (rw *responsesWriter) start(ss streamStart) (*sseWriter, error) {
	rw.st, rw.promptChars = responses.NewStream(rw.req, rw.created, rw.tools), ss.promptChars
	rw.out = startSSE(rw.w, responsesEnd, ss.keepAlive)
	rw.out.failEvent = func(e *openai.Error) (string, []byte) {
		ev, _ := rw.st.Fail(e) // none, once the stream has ended
		return ev.Name, ev.Data
	}
	return rw.out, rw.send(rw.st.Start())
}

func (rw *responsesWriter) text(content, reasoning string) error {
	return rw.send(rw.st.Delta(content, reasoning))
}

func (rw *responsesWriter) raw(chunk []byte) error { return rw.send(rw.st.Chunk(chunk)) }

func (rw *responsesWriter) end(finishReason string, usage *openai.Usage) error {
	evs := rw.st.Finish(finishReason, usage)
	if resp, ok := rw.finished(); ok {
		rw.store(resp)
	}
	return rw.send(evs)
}

func (rw *responsesWriter) streamed() *openai.Usage {
	if rw.st == nil {
		return nil
	}
	return rw.st.Streamed(rw.promptChars)
}

// store hands a finished response to keep, if there is one.
func (rw *responsesWriter) store(resp responses.Response) {
	if rw.keep != nil {
		rw.keep(resp)
	}
}

// send sends events in order, stopping at the first that cannot be
// written.
func (rw *responsesWriter) send(evs []responses.Event) error {
	for _, ev := range evs {
		if err := rw.out.send(ev.Name, ev.Data); err != nil {
			return err
		}
	}
	return nil
}

// finished returns the response to keep: the whole one written, or the
// one a stream carries to its end when it completed (or stopped at the
// token limit).
func (rw *responsesWriter) finished() (responses.Response, bool) {
	switch {
	case rw.answered != nil:
		return *rw.answered, true
	case rw.st != nil:
		resp := rw.st.Response()
		return resp, resp.Status == "completed" || resp.Status == "incomplete"
	}
	return responses.Response{}, false
}

// responsesEnd is the Responses stream: named events, and no end marker
// after response.completed.
var responsesEnd = streamEnd{}
