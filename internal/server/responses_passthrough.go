package server

import (
	"net/http"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/openai"
	"github.com/falproxy/falproxy/internal/responses"
)

// responsesPath is fal's OpenAI-compatible Responses route.
var responsesPath = chat.Passthrough.String() + "/responses"

// responsesPassthrough forwards a Responses request to fal's own responses
// route (see responses.PassthroughBody) with the fal model id, through the
// key pool as the chat passthrough, and relays the answer under the name
// the client asked for. keep stores a finished response before it is
// sent.
func (s *Server) responsesPassthrough(w http.ResponseWriter, r *http.Request, req *responses.Request, history []responses.Item, keep func(responses.Response)) {
	if e := s.admitLLM(r.Context(), req.Model, chat.Passthrough.String(), s.models.chat[req.Model]); e != nil {
		writeError(w, e)
		return
	}
	ctx, cancel := s.modelContext(r, req.Model)
	defer cancel()
	body, dropped, err := responses.PassthroughBody(req, history, s.models.chat[req.Model])
	if err != nil {
		writeError(w, openai.ServerError("encoding the fal input failed"))
		return
	}
	resp := s.forwardToFal(ctx, w, responsesPath, body, dropped, req.Stream)
	if resp == nil {
		return
	}
	defer resp.Close()
	promptChars := req.PromptChars(history)
	if !req.Stream {
		b, ok := s.readWhole(ctx, w, resp)
		if !ok {
			return
		}
		answer, final, finished, err := responses.Relabel(b, req.Model, promptChars)
		if err != nil {
			writeError(w, malformedAnswer())
			return
		}
		if finished {
			keep(final)
		}
		reportAnswerUsage(ctx, answer)
		writeEncoded(w, answer)
		return
	}
	ps := responses.NewPassthroughStream(req.Model, promptChars)
	out := startSSE(w, responsesEnd, s.opt.KeepAliveEvery)
	out.failEvent = func(e *openai.Error) (string, []byte) {
		ev := ps.Fail(e)
		return ev.Name, ev.Data
	}
	err = s.relay(ctx, out, resp.Events(maxUpstreamLine), func(data []byte) (bool, error) {
		ev := ps.Event(data)
		if final, ok := ps.Final(); ok && ps.Ended() {
			keep(final)
		}
		err := out.send(ev.Name, ev.Data)
		if ps.Ended() {
			_ = out.finish()
			return true, err
		}
		return false, err
	})
	// A stream fal closed without its final event is cut short: it
	// fails (with nil for atEOF), as a break does.
	if failed := out.close(ctx, err, nil); failed != nil {
		s.logUpstream(ctx, failed, streamFailure())
	}
	final, ok := ps.Final()
	switch {
	case ok && final.Usage != nil:
		u := final.Usage
		reportTokens(ctx, max(u.TotalTokens, u.InputTokens+u.OutputTokens), u.OutputTokens, usdToMicros(u.Cost))
	case err != nil && ctx.Err() != nil: // cut short: fal bills what the model wrote so far
		u := ps.Streamed()
		reportTokens(ctx, u.TotalTokens, u.OutputTokens, 0)
	}
}
