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
// the client asked for. keep stores a finished response.
func (s *Server) responsesPassthrough(w http.ResponseWriter, r *http.Request, req *responses.Request, history []responses.Item, keep func(responses.Response)) {
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
	if !req.Stream {
		b, ok := s.readWhole(ctx, w, resp)
		if !ok {
			return
		}
		answer, final, err := responses.Relabel(b, req.Model)
		if err != nil {
			writeError(w, malformedAnswer())
			return
		}
		keep(final)
		writeEncoded(w, answer)
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
