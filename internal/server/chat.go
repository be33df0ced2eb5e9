package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/fal"
	"github.com/falproxy/falproxy/internal/openai"
)

// passthroughPath is fal's OpenAI-compatible chat route.
var passthroughPath = chat.Passthrough.String() + "/chat/completions"

func (s *Server) handleChat(w http.ResponseWriter, r *http.Request) {
	req, ok := decodeBody(s, w, r, openai.DecodeChat)
	if !ok {
		return
	}
	if e := s.serveChat(r, req, &chatWriter{w: w}); e != nil {
		writeError(w, e)
	}
}

// serveChat answers a decoded chat request on the configured backend,
// delivering the answer to sink (see chatSink). It returns the error that
// stops a request before its answer began, for the caller to write; nil
// when the answer was delivered, or when the client is gone and nothing is
// to be written. The Responses bridge calls it too, with the chat request
// it built and a sink that translates the answer.
func (s *Server) serveChat(r *http.Request, req *openai.ChatRequest, sink chatSink) *openai.Error {
	falModel, ok := s.models.chat[req.Model]
	if !ok {
		return openai.ModelNotFound(req.Model)
	}
	backend := s.opt.ChatBackend
	if e := s.admitLLM(r.Context(), req.Model, backend.String(), falModel); e != nil {
		return e
	}
	ri := infoFrom(r.Context())
	ctx, cancel := s.modelContext(r, req.Model)
	defer cancel()

	if backend == chat.Passthrough {
		return s.chatPassthrough(ctx, req, falModel, sink)
	}
	folded, e := chat.Fold(req.Messages, s.opt.ChatLimits)
	if e != nil {
		return e
	}
	if folded.DroppedMessages > 0 || folded.TruncatedSystem > 0 {
		s.log.Debug("conversation shortened to fit fal's prompt limits", "request_id", ri.ID,
			"dropped_messages", folded.DroppedMessages, "truncated_system_chars", folded.TruncatedSystem)
	}
	clientModel := req.Model
	req.Model = falModel
	endpoint := chat.Endpoint(backend, len(folded.ImageURLs) > 0, req.Stream)
	input, err := s.falInput(ctx, endpoint, chat.FalInput(req, folded, backend))
	if err != nil {
		return openai.ServerError("encoding the fal input failed")
	}
	if req.Stream {
		includeUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage
		return s.chatStream(ctx, streamStart{model: clientModel, includeUsage: includeUsage, promptChars: folded.PromptChars(), keepAlive: s.opt.KeepAliveEvery}, endpoint, input, sink)
	}
	return s.chatOnce(ctx, clientModel, endpoint, input, folded.PromptChars(), sink)
}

// chatOnce runs a non-streaming completion through fal's queue, so that a
// client that goes away has its job cancelled. promptChars is the length
// of the prompt sent, for a usage estimate when fal reports none.
func (s *Server) chatOnce(ctx context.Context, model, endpoint string, input []byte, promptChars int, sink chatSink) *openai.Error {
	body, err := s.runEncoded(ctx, endpoint, input, chatWork(promptChars))
	if err != nil {
		if cancelled(ctx) {
			return nil
		}
		return s.logUpstream(ctx, err, chatUpstreamError(err))
	}
	var out chat.FalOutput
	if err := json.Unmarshal(body, &out); err != nil {
		return malformedAnswer()
	}
	if msg := out.ErrorMessage(); msg != "" {
		return modelError(msg)
	}
	c := chat.Completion(chat.NewID(), model, time.Now().Unix(), out)
	c.Usage = chat.Usage(out.Usage, promptChars, out.Chars())
	reportFalUsage(ctx, c.Usage, out.Usage)
	b, err := json.Marshal(c)
	if err != nil {
		return openai.ServerError("encoding the response failed")
	}
	sink.whole(b)
	return nil
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

// chatStream relays fal's SSE stream to sink as text deltas. Errors before
// the first byte are returned; later ones end the stream with an error
// event.
func (s *Server) chatStream(ctx context.Context, ss streamStart, endpoint string, input []byte, sink chatSink) *openai.Error {
	resp, err := s.opt.Fal.Post(ctx, endpoint, input, "text/event-stream")
	if err != nil {
		if cancelled(ctx) {
			return nil
		}
		return s.logUpstream(ctx, err, chatUpstreamError(err))
	}
	defer resp.Close()
	infoFrom(ctx).set("", resp.RequestID)

	out, err := sink.start(ss)
	if err != nil {
		return nil
	}
	var texts chat.Deltas
	var last chat.FalOutput
	err = s.relay(ctx, out, resp.Events(maxUpstreamLine), func(data []byte) (bool, error) {
		var ev chat.FalOutput
		if err := json.Unmarshal(data, &ev); err != nil {
			return true, out.fail(malformedAnswer())
		}
		if msg := ev.ErrorMessage(); msg != "" {
			return true, out.fail(modelError(msg))
		}
		last = ev
		if err := sink.text(texts.Next(ev)); err != nil {
			return true, err
		}
		if !ev.Partial {
			u := chat.Usage(ev.Usage, ss.promptChars, texts.Chars())
			reportFalUsage(ctx, u, ev.Usage)
			return true, sink.end("stop", u)
		}
		return false, nil
	})
	// If fal closes without a final event, what arrived is the answer.
	failed := out.close(ctx, err, func() error {
		u := chat.Usage(last.Usage, ss.promptChars, texts.Chars())
		reportFalUsage(ctx, u, last.Usage)
		return sink.end("stop", u)
	})
	if failed != nil {
		s.logUpstream(ctx, failed, streamFailure())
	}
	if err != nil && ctx.Err() != nil { // cut short: fal bills what the model wrote so far
		reportFalUsage(ctx, chat.Usage(last.Usage, ss.promptChars, texts.Chars()), last.Usage)
	}
	return nil
}

// chatPassthrough forwards the request's OpenAI fields (see
// chat.PassthroughBody) to fal's OpenAI-compatible endpoint with the fal
// model id, and delivers the answer to sink under the name the client
// asked for: whole, or fal's chunks as they come.
func (s *Server) chatPassthrough(ctx context.Context, req *openai.ChatRequest, falModel string, sink chatSink) *openai.Error {
	body, dropped, err := chat.PassthroughBody(req.Fields, falModel)
	if err != nil {
		return openai.ServerError("encoding the fal input failed")
	}
	resp, e := s.postToFal(ctx, passthroughPath, body, dropped, req.Stream)
	if resp == nil {
		return e
	}
	defer resp.Close()
	promptChars := chat.MessageChars(req.Messages)
	if !req.Stream {
		b, e := s.readAll(ctx, resp)
		if b == nil {
			return e
		}
		answer, usage, err := chat.PassthroughAnswer(b, req.Model, promptChars)
		if err != nil {
			return malformedAnswer()
		}
		reportUsageMembers(ctx, usage)
		sink.whole(answer)
		return nil
	}
	includeUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	out, err := sink.start(streamStart{model: req.Model, includeUsage: includeUsage, promptChars: promptChars, passthrough: true,
		keepAlive: s.opt.KeepAliveEvery})
	if err != nil {
		return nil
	}
	measured := false // tokens of fal's usage were charged
	err = s.relay(ctx, out, resp.Events(maxUpstreamLine), func(data []byte) (bool, error) {
		switch {
		case string(data) == "[DONE]":
			return true, sink.end("", nil)
		case isErrorEvent(data):
			// Relayed as it is, and the end: a [DONE] after it
			// would pass the failure off as a normal end.
			return true, out.failWith(data)
		}
		measured = reportAnswerUsage(ctx, data) || measured
		return false, sink.raw(data)
	})
	if failed := out.close(ctx, err, func() error { return sink.end("", nil) }); failed != nil {
		s.logUpstream(ctx, failed, streamFailure())
	}
	if err != nil && ctx.Err() != nil && !measured { // cut short: fal bills what the model wrote so far
		reportFalUsage(ctx, sink.streamed(), nil)
	}
	return nil
}

// forwardToFal posts body to one of fal's OpenAI-compatible routes as
// postToFal does. On failure it has answered the client and returns nil.
func (s *Server) forwardToFal(ctx context.Context, w http.ResponseWriter, path string, body []byte, dropped []string, stream bool) *fal.Response {
	resp, e := s.postToFal(ctx, path, body, dropped, stream)
	if e != nil {
		writeError(w, e)
	}
	return resp
}

// postToFal posts body to one of fal's OpenAI-compatible routes through
// the key pool (rotation and failover), logging at debug level the
// request's fields left out and the body. On failure it returns nil and
// the error for the client, or no error when the client is gone.
func (s *Server) postToFal(ctx context.Context, path string, body []byte, dropped []string, stream bool) (*fal.Response, *openai.Error) {
	ri := infoFrom(ctx)
	if len(dropped) > 0 {
		s.log.Debug("request fields not forwarded to fal", "request_id", ri.ID, "fields", dropped)
	}
	s.logFalInput(ctx, path, body)
	accept := ""
	if stream {
		accept = "text/event-stream"
	}
	resp, err := s.opt.Fal.Post(ctx, path, body, accept)
	if err != nil {
		if cancelled(ctx) {
			return nil, nil
		}
		return nil, s.logUpstream(ctx, err, passthroughError(err))
	}
	ri.set("", resp.RequestID)
	return resp, nil
}

// readWhole reads a whole answer of fal as readAll does. On failure it
// has answered the client and reports false.
func (s *Server) readWhole(ctx context.Context, w http.ResponseWriter, resp *fal.Response) ([]byte, bool) {
	b, e := s.readAll(ctx, resp)
	if e != nil {
		writeError(w, e)
	}
	return b, b != nil
}

// readAll reads a whole answer of fal. On failure it returns nil and the
// error for the client, or no error when the client is gone.
func (s *Server) readAll(ctx context.Context, resp *fal.Response) ([]byte, *openai.Error) {
	b, err := resp.ReadAll()
	if err != nil {
		if cancelled(ctx) {
			return nil, nil
		}
		return nil, s.failUpstream(ctx, err)
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}

// writeEncoded sends a JSON answer that is already encoded.
func writeEncoded(w http.ResponseWriter, answer []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
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
