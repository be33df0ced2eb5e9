package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/openai"
	"github.com/falproxy/falproxy/internal/responses"
)

// handleResponses serves POST /v1/responses by the bridge: the request
// becomes a chat request (with the stored conversation of
// previous_response_id first), which the chat pipeline answers on the
// configured backend; the chat answer or stream is translated back. With
// RESPONSES_MODE=passthrough it goes to fal's own responses route instead.
func (s *Server) handleResponses(w http.ResponseWriter, r *http.Request) {
	req, ok := decodeBody(s, w, r, responses.Decode)
	if !ok {
		return
	}
	if _, ok := s.models.chat[req.Model]; !ok {
		writeError(w, openai.ModelNotFound(req.Model))
		return
	}
	key := bearer(r)
	var history []responses.Item
	if req.PreviousResponseID != "" {
		if history, ok = s.responses.History(key, req.PreviousResponseID); !ok {
			writeError(w, previousNotFound(req.PreviousResponseID, s.opt.ResponsesStore.Age))
			return
		}
	}
	keep := func(resp responses.Response) {
		if req.Stored() {
			s.responses.Put(key, responses.Stored{ParentID: req.PreviousResponseID, Items: req.InputItems(), Response: resp})
		}
	}
	if s.opt.ResponsesPassthrough && s.opt.ChatBackend == chat.Passthrough {
		s.responsesPassthrough(w, r, req, history, keep)
		return
	}
	s.responsesBridge(w, r, req, history, keep)
}

// responsesBridge answers a Responses request through the chat pipeline:
// whole, from the chat completion it writes; streamed, by a relay that
// translates its chat stream event by event. keep stores a finished
// response.
func (s *Server) responsesBridge(w http.ResponseWriter, r *http.Request, req *responses.Request, history []responses.Item, keep func(responses.Response)) {
	tools := responses.TextTools
	if s.opt.ChatBackend == chat.Passthrough {
		tools = responses.NativeTools
	}
	chatBody, e := responses.ChatBody(req, history, tools)
	if e != nil {
		writeError(w, e)
		return
	}
	chatReq, e := openai.DecodeChat(chatBody)
	if e != nil {
		writeError(w, bridgeError(e))
		return
	}
	created := time.Now().Unix()
	if req.Stream {
		relay := newResponsesRelay(w, responses.NewStream(req, created, tools))
		s.serveChat(relay, r, chatReq)
		if resp, ok := relay.end(r.Context()); ok {
			keep(resp)
		}
		return
	}
	answer := &capturedAnswer{header: http.Header{}}
	s.serveChat(answer, r, chatReq)
	switch answer.status {
	case http.StatusOK:
	case 0: // nothing was written: the client is gone
		return
	default:
		answer.relayError(w)
		return
	}
	resp, err := responses.Build(req, created, answer.body.Bytes(), tools)
	if err != nil {
		writeError(w, malformedAnswer())
		return
	}
	keep(resp)
	writeJSON(w, http.StatusOK, resp)
}

// handleGetResponse serves GET /v1/responses/{id}: a response the same
// access key stored.
func (s *Server) handleGetResponse(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	stored, ok := s.responses.Get(bearer(r), id)
	if !ok {
		writeError(w, &openai.Error{Status: http.StatusNotFound, Type: openai.TypeInvalidRequest, NoRetry: true,
			Message: "Response with id '" + openai.Echo(id) + "' not found."})
		return
	}
	writeJSON(w, http.StatusOK, stored.Response)
}

// previousNotFound is OpenAI's answer to an unknown previous_response_id,
// saying what falproxy keeps.
func previousNotFound(id string, age time.Duration) *openai.Error {
	return &openai.Error{Status: http.StatusBadRequest, Type: openai.TypeInvalidRequest, Param: "previous_response_id",
		Code: "previous_response_not_found", NoRetry: true,
		Message: "Previous response with id '" + openai.Echo(id) + "' not found. falproxy keeps responses in process for " +
			shortDuration(age) + ", per access key, and none created with store set to false; a conversation continues " +
			"only while all of its turns are kept."}
}

// shortDuration writes d without zero minutes and seconds: "1h", "1h30m".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-len("0s")]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-len("0m")]
	}
	return s
}

// bridgeError names the Responses field where a check of the chat request
// the bridge built failed on one of chat's.
func bridgeError(e *openai.Error) *openai.Error {
	switch {
	case strings.HasPrefix(e.Param, "messages"):
		e.Param = "input"
	case e.Param == "max_tokens":
		e.Param = "max_output_tokens"
	}
	return e
}

// capturedAnswer holds a whole chat answer the bridge translates.
type capturedAnswer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (a *capturedAnswer) Header() http.Header { return a.header }

func (a *capturedAnswer) WriteHeader(status int) {
	if a.status == 0 {
		a.status = status
	}
}

func (a *capturedAnswer) Write(p []byte) (int, error) {
	a.WriteHeader(http.StatusOK)
	return a.body.Write(p)
}

// relayError passes a chat error on: it is already OpenAI-shaped, with its
// retry advice in the headers; only its param is renamed to the Responses
// field (see bridgeError).
func (a *capturedAnswer) relayError(w http.ResponseWriter) {
	body := a.body.Bytes()
	var env struct {
		Error struct {
			Message string  `json:"message"`
			Type    string  `json:"type"`
			Param   *string `json:"param"`
			Code    *string `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) == nil && env.Error.Param != nil {
		e := bridgeError(&openai.Error{Param: *env.Error.Param})
		env.Error.Param = &e.Param
		if b, err := json.Marshal(env); err == nil {
			body = b
		}
	}
	copyRetryAdvice(w.Header(), a.header)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	_, _ = w.Write(body)
}

// copyRetryAdvice copies the headers that tell an SDK whether and when to
// retry.
func copyRetryAdvice(dst, src http.Header) {
	for _, h := range []string{"X-Should-Retry", "Retry-After", "Retry-After-Ms"} {
		if v := src.Get(h); v != "" {
			dst.Set(h, v)
		}
	}
}
