package server

import (
	"net/http"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/responses"
)

// responsesPath is fal's OpenAI-compatible Responses route.
var responsesPath = chat.Passthrough.String() + "/responses"

// responsesPassthrough forwards a Responses request to fal's own responses
// route (see responses.PassthroughBody) with the fal model id, through the
// key pool as the chat passthrough, and relays the answer under the name
// the client asked for. keep stores a finished response.
func (s *Server) responsesPassthrough(w http.ResponseWriter, r *http.Request, req *responses.Request, history []responses.Item, keep func(responses.Response)) {
	ri := infoFrom(r.Context())
	ri.set(req.Model, "")
	ctx, cancel := s.jobContext(r)
	defer cancel()
	ctx = s.withPriority(ctx, req.Model)
	body, dropped, err := responses.PassthroughBody(req, history, s.models.chat[req.Model])
	if err != nil {
		writeError(w, malformedAnswer())
		return
	}
	if len(dropped) > 0 {
		s.log.Debug("request fields not forwarded to fal", "request_id", ri.ID, "fields", dropped)
	}
	if s.opt.Debug {
		s.log.Debug("fal input", "request_id", ri.ID, "input", s.loggable(body))
	}
	accept := ""
	if req.Stream {
		accept = "text/event-stream"
	}
	resp, err := s.opt.Fal.Post(ctx, responsesPath, body, accept)
	if err != nil {
		if !cancelled(ctx) {
			writeError(w, s.logUpstream(ctx, err, passthroughError(err)))
		}
		return
	}
	defer resp.Close()
	ri.set("", resp.RequestID)
	if !req.Stream {
		b, err := resp.ReadAll()
		if err != nil {
			if !cancelled(ctx) {
				writeError(w, s.failUpstream(ctx, err))
			}
			return
		}
		answer, final, err := responses.Relabel(b, req.Model)
		if err != nil {
			writeError(w, malformedAnswer())
			return
		}
		keep(final)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(answer)
		return
	}
	ps := responses.NewPassthroughStream(req.Model)
	out := startSSE(w, responsesEnd)
	err = relay(ctx, out, resp.Events(maxUpstreamLine), func(data []byte) (bool, error) {
		ev := ps.Event(data)
		return ps.Ended(), out.send(ev.Name, ev.Data)
	})
	if !ps.Ended() && !cancelled(ctx) {
		failure := streamFailure()
		if ctx.Err() != nil {
			failure = timeoutError()
		}
		ev := ps.Fail(failure)
		_ = out.send(ev.Name, ev.Data)
		s.logUpstream(ctx, err, failure)
	}
	if final, ok := ps.Final(); ok {
		keep(final)
	}
}
