package server

import (
	"context"
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
	key := keeperKey(r)
	var history []responses.Item
	if req.PreviousResponseID != "" {
		var err error
		history, ok, err = s.responses.History(r.Context(), key, req.PreviousResponseID)
		if err != nil {
			writeError(w, s.databaseFailed(r.Context(), "reading a conversation", err))
			return
		}
		if !ok {
			writeError(w, previousNotFound(req.PreviousResponseID, s.responsesKeptWhere(), s.opt.ResponsesStore.Age))
			return
		}
	}
	// keep runs before the response reaches the client, so that the
	// client's next request finds it, on whichever replica, and is not
	// cancelled with the request: a client that leaves at the last event
	// still finds its finished response. A response that cannot be kept
	// is still answered, as one the limits dropped.
	keep := func(resp responses.Response) {
		if !req.Stored() {
			return
		}
		ctx := context.WithoutCancel(r.Context())
		if err := s.responses.Put(ctx, key, responses.Stored{ParentID: req.PreviousResponseID, Items: req.InputItems(), Response: resp}); err != nil {
			s.log.Error("a response could not be kept", "request_id", infoFrom(ctx).ID, "error", err.Error())
		}
	}
	if s.opt.ResponsesPassthrough {
		s.responsesPassthrough(w, r, req, history, keep)
		return
	}
	s.responsesBridge(w, r, req, history, keep)
}

// responsesBridge answers a Responses request through the chat pipeline,
// whose answer a responsesWriter translates: whole, into a response;
// streamed, into Responses events as the chat deltas come. keep stores a
// finished response before it is sent.
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
	rw := &responsesWriter{w: w, req: req, created: time.Now().Unix(), tools: tools, keep: keep}
	if e := s.serveChat(r, chatReq, rw); e != nil {
		writeError(w, bridgeError(e))
	}
}

// handleGetResponse serves GET /v1/responses/{id}: a response the same
// access key stored.
func (s *Server) handleGetResponse(w http.ResponseWriter, r *http.Request) {
	if stored, ok := s.storedResponse(w, r); ok {
		writeJSON(w, http.StatusOK, stored.Response)
	}
}

// previousNotFound is OpenAI's answer to an unknown previous_response_id,
// saying what falproxy keeps.
func previousNotFound(id, where string, age time.Duration) *openai.Error {
	return &openai.Error{Status: http.StatusBadRequest, Type: openai.TypeInvalidRequest, Param: "previous_response_id",
		Code: "previous_response_not_found", NoRetry: true,
		Message: "Previous response with id '" + openai.Echo(id) + "' not found. falproxy keeps responses " + where + " for " +
			shortDuration(age) + ", per access key, and none created with store set to false; a conversation continues " +
			"only while all of its turns are kept."}
}

// responsesKeptWhere says where responses are kept, for the answer to
// one that is not.
func (s *Server) responsesKeptWhere() string {
	if s.opt.Gate != nil {
		return "in its database"
	}
	return "in process"
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
