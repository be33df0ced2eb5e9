package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/fal"
	"github.com/falproxy/falproxy/internal/openai"
)

// passthroughPath is fal's OpenAI-compatible chat route.
var passthroughPath = chat.Passthrough.String() + "/chat/completions"

func (s *Server) handleChat(w http.ResponseWriter, r *http.Request) {
	if req, ok := decodeBody(s, w, r, openai.DecodeChat); ok {
		s.serveChat(w, r, req)
	}
}

// serveChat answers a decoded chat request on the configured backend. The
// Responses bridge calls it too, with the chat request it built.
func (s *Server) serveChat(w http.ResponseWriter, r *http.Request, req *openai.ChatRequest) {
	falModel, ok := s.models.chat[req.Model]
	if !ok {
		writeError(w, openai.ModelNotFound(req.Model))
		return
	}
	ri := infoFrom(r.Context())
	ctx, cancel := s.modelContext(r, req.Model)
	defer cancel()

	backend := s.opt.ChatBackend
	if backend == chat.Passthrough {
		s.chatPassthrough(ctx, w, req, falModel)
		return
	}
	folded, e := chat.Fold(req.Messages, s.opt.ChatLimits)
	if e != nil {
		writeError(w, e)
		return
	}
	if folded.DroppedMessages > 0 || folded.TruncatedSystem > 0 {
		s.log.Debug("conversation shortened to fit fal's prompt limits", "request_id", ri.ID,
			"dropped_messages", folded.DroppedMessages, "truncated_system_chars", folded.TruncatedSystem)
	}
	clientModel := req.Model
	req.Model = falModel
	input, err := json.Marshal(chat.FalInput(req, folded, backend))
	if err != nil {
		writeError(w, openai.ServerError("encoding the fal input failed"))
		return
	}
	if s.opt.Debug {
		s.log.Debug("fal input", "request_id", ri.ID, "input", s.loggable(input))
	}
	endpoint := chat.Endpoint(backend, len(folded.ImageURLs) > 0, req.Stream)
	if req.Stream {
		s.chatStream(ctx, w, req, clientModel, endpoint, input, folded.PromptChars())
		return
	}
	s.chatOnce(ctx, w, clientModel, endpoint, input, folded.PromptChars())
}

// chatOnce runs a non-streaming completion through fal's queue, so that a
// client that goes away has its job cancelled. promptChars is the length
// of the prompt sent, for a usage estimate when fal reports none.
func (s *Server) chatOnce(ctx context.Context, w http.ResponseWriter, model, endpoint string, input []byte, promptChars int) {
	res, err := s.opt.Fal.Run(ctx, endpoint, input)
	if res != nil {
		infoFrom(ctx).set("", res.RequestID)
	}
	if err != nil {
		if !cancelled(ctx) {
			writeError(w, s.logUpstream(ctx, err, chatUpstreamError(err)))
		}
		return
	}
	var out chat.FalOutput
	if err := json.Unmarshal(res.Body, &out); err != nil {
		writeError(w, malformedAnswer())
		return
	}
	if msg := out.ErrorMessage(); msg != "" {
		writeError(w, modelError(msg))
		return
	}
	c := chat.Completion(chat.NewID(), model, time.Now().Unix(), out)
	c.Usage = chat.Usage(out.Usage, promptChars, out.Chars())
	writeJSON(w, http.StatusOK, c)
}

// modelError is the error for a model that reported a failure in its
// answer or stream; its words are the model's, meant for the user.
func modelError(msg string) *openai.Error {
	return &openai.Error{Status: http.StatusBadGateway, Message: "The model failed: " + msg, Type: openai.TypeUpstream, Code: "model_error"}
}

// malformedAnswer is the error for an answer of fal that cannot be read.
func malformedAnswer() *openai.Error {
	return &openai.Error{Status: http.StatusBadGateway, Message: "fal's answer is not valid JSON.", Type: openai.TypeUpstream, Code: "upstream_malformed"}
}

// chatStream relays fal's SSE stream as OpenAI chunks. Errors before the
// first byte are ordinary error responses; later ones are an error event.
func (s *Server) chatStream(ctx context.Context, w http.ResponseWriter, req *openai.ChatRequest, model, endpoint string, input []byte, promptChars int) {
	resp, err := s.opt.Fal.Post(ctx, endpoint, input, "text/event-stream")
	if err != nil {
		if !cancelled(ctx) {
			writeError(w, s.logUpstream(ctx, err, chatUpstreamError(err)))
		}
		return
	}
	defer resp.Close()
	infoFrom(ctx).set("", resp.RequestID)

	includeUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	st := chat.NewStream(chat.NewID(), model, time.Now().Unix(), includeUsage)
	out := startSSE(w, chatEnd)
	if out.data(st.Start()) != nil {
		return
	}
	var last chat.FalOutput
	err = relay(ctx, out, resp.Events(maxUpstreamLine), func(data []byte) (bool, error) {
		var ev chat.FalOutput
		if err := json.Unmarshal(data, &ev); err != nil {
			return true, out.fail(malformedAnswer())
		}
		if msg := ev.ErrorMessage(); msg != "" {
			return true, out.fail(modelError(msg))
		}
		last = ev
		if err := out.data(st.Event(ev)); err != nil {
			return true, err
		}
		if !ev.Partial {
			return true, out.data(st.Finish("stop", chat.Usage(ev.Usage, promptChars, st.Chars())))
		}
		return false, nil
	})
	// If fal closes without a final event, what arrived is the answer.
	failed := out.close(ctx, err, func() error {
		return out.data(st.Finish("stop", chat.Usage(last.Usage, promptChars, st.Chars())))
	})
	if failed != nil {
		s.logUpstream(ctx, failed, streamFailure())
	}
}

// chatPassthrough forwards the request's OpenAI fields (see
// chat.PassthroughBody) to fal's OpenAI-compatible endpoint with the fal
// model id, and relays the answer under the name the client asked for.
func (s *Server) chatPassthrough(ctx context.Context, w http.ResponseWriter, req *openai.ChatRequest, falModel string) {
	body, dropped, err := chat.PassthroughBody(req.Fields, falModel)
	if err != nil {
		writeError(w, openai.ServerError("encoding the fal input failed"))
		return
	}
	resp := s.forwardToFal(ctx, w, passthroughPath, body, dropped, req.Stream)
	if resp == nil {
		return
	}
	defer resp.Close()
	promptChars := chat.MessageChars(req.Messages)
	if !req.Stream {
		s.passthroughAnswer(ctx, w, resp, req.Model, promptChars)
		return
	}
	includeUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	ps := chat.NewPassthroughStream(req.Model, includeUsage, promptChars)
	out := startSSE(w, chatEnd)
	err = relay(ctx, out, resp.Events(maxUpstreamLine), func(data []byte) (bool, error) {
		switch {
		case string(data) == "[DONE]":
			return true, out.data(ps.End())
		case isErrorEvent(data):
			// Relayed as it is, and the end: a [DONE] after it
			// would pass the failure off as a normal end.
			return true, out.failWith(data)
		}
		return false, out.data(ps.Event(data))
	})
	if failed := out.close(ctx, err, func() error { return out.data(ps.End()) }); failed != nil {
		s.logUpstream(ctx, failed, streamFailure())
	}
}

// passthroughAnswer relays fal's whole OpenAI-compatible answer, rewritten
// by chat.PassthroughAnswer.
func (s *Server) passthroughAnswer(ctx context.Context, w http.ResponseWriter, resp *fal.Response, model string, promptChars int) {
	b, ok := s.readWhole(ctx, w, resp)
	if !ok {
		return
	}
	answer, err := chat.PassthroughAnswer(b, model, promptChars)
	if err != nil {
		writeError(w, malformedAnswer())
		return
	}
	writeEncoded(w, answer)
}

// forwardToFal posts body to one of fal's OpenAI-compatible routes through
// the key pool (rotation and failover), logging at debug level the
// request's fields left out and the body. On failure it has answered the
// client and returns nil.
func (s *Server) forwardToFal(ctx context.Context, w http.ResponseWriter, path string, body []byte, dropped []string, stream bool) *fal.Response {
	ri := infoFrom(ctx)
	if len(dropped) > 0 {
		s.log.Debug("request fields not forwarded to fal", "request_id", ri.ID, "fields", dropped)
	}
	if s.opt.Debug {
		s.log.Debug("fal input", "request_id", ri.ID, "input", s.loggable(body))
	}
	accept := ""
	if stream {
		accept = "text/event-stream"
	}
	resp, err := s.opt.Fal.Post(ctx, path, body, accept)
	if err != nil {
		if !cancelled(ctx) {
			writeError(w, s.logUpstream(ctx, err, passthroughError(err)))
		}
		return nil
	}
	ri.set("", resp.RequestID)
	return resp
}

// readWhole reads a whole answer of fal. On failure it has answered the
// client and reports false.
func (s *Server) readWhole(ctx context.Context, w http.ResponseWriter, resp *fal.Response) ([]byte, bool) {
	b, err := resp.ReadAll()
	if err != nil {
		if !cancelled(ctx) {
			writeError(w, s.failUpstream(ctx, err))
		}
		return nil, false
	}
	return b, true
}

// writeEncoded sends a JSON answer that is already encoded.
func writeEncoded(w http.ResponseWriter, answer []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(answer)
}

// isErrorEvent reports whether an event of fal's OpenAI-compatible stream
// reports a failure: a JSON object with a non-null "error". Such an event
// ends the stream; relaying a [DONE] after it would make the failure look
// like a normal end to clients that skip error events.
func isErrorEvent(data []byte) bool {
	if !bytes.Contains(data, []byte(`"error"`)) {
		return false
	}
	var ev struct {
		Error json.RawMessage `json:"error"`
	}
	return json.Unmarshal(data, &ev) == nil && len(ev.Error) > 0 && string(ev.Error) != "null"
}

// chatUpstreamError is upstreamError for the chat route. fal's content
// checker is reported as a flagged chat request (invalid_request_error,
// content_policy_violation) rather than with the image-generation error type
// the shared mapping gives it for the images route.
func chatUpstreamError(err error) *openai.Error {
	e := upstreamError(err)
	if e.Code == "moderation_blocked" {
		e.Type, e.Code, e.Param = openai.TypeInvalidRequest, "content_policy_violation", "messages"
	}
	return e
}

// passthroughError keeps the client's own mistakes (400, 404, 422 from the
// OpenAI-compatible endpoint) as 4xx; the rest maps as for other calls.
func passthroughError(err error) *openai.Error {
	var fe *fal.Error
	if errors.As(err, &fe) {
		switch fe.Status {
		case http.StatusBadRequest, http.StatusNotFound, http.StatusUnprocessableEntity:
			code := fe.Code
			if code == "" {
				code = "invalid_value"
			}
			e := openai.InvalidRequest("", openai.Echo(code), "%s", falText(fe))
			if fe.Status == http.StatusNotFound {
				e.Status, e.Code = http.StatusNotFound, "model_not_found"
			}
			if len(fe.Validation) > 0 {
				e.Param = openai.Echo(fe.Validation[0].Field())
			}
			return e
		}
	}
	return upstreamError(err)
}
