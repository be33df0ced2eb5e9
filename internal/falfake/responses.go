package falfake

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/falproxy/falproxy/internal/openai"
	"github.com/falproxy/falproxy/internal/responses"
)

// responsesEndpoint is fal's OpenAI-compatible Responses route of
// openrouter/router.
const responsesEndpoint = "openrouter/router/openai/v1/responses"

// responses answers the OpenAI-compatible Responses route as a stateless
// OpenAI-compatible server does: the input is read as the chat route reads
// its messages (a tool call when asked to call a declared function, an
// answer using a tool's output after one), and answered as a whole
// response or, with "stream": true, the Responses event sequence. The
// events are built by internal/responses from the emulator's chat chunks,
// so that they have the shapes falproxy's own bridge sends. A request with
// previous_response_id is refused: the route keeps nothing. "[fail]" in the
// input fails it: whole, with an OpenAI error; streamed, with an "error"
// event after a few events.
func (f *Fake) responses(w http.ResponseWriter, c *call) {
	if !f.authorize(w, c) {
		return
	}
	req, e := responses.Decode(c.body)
	if e == nil && req.PreviousResponseID != "" {
		e = openai.InvalidRequest("previous_response_id", "invalid_value", "previous_response_id is not supported: this API is stateless.")
	}
	var chatBody []byte
	if e == nil {
		chatBody, e = responses.ChatBody(req, nil)
	}
	if e != nil {
		writeJSON(w, e.Status, e)
		return
	}
	chatReq, errs := parseChat(chatBody)
	if len(errs) > 0 {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"detail": errs})
		return
	}
	last := lastUserText(chatReq.Messages)
	if out, ok := toolResult(chatReq.Messages); ok {
		last = out
	}
	maxTokens := 0
	if req.MaxOutputTokens != nil {
		maxTokens = *req.MaxOutputTokens
	}
	reasoning := req.Reasoning != nil && req.Reasoning.Effort != "" && req.Reasoning.Effort != "none"
	ch := chatRun{id: "chatcmpl-" + randomID(24), created: time.Now().Unix(), model: req.Model,
		reply: composeReply(req.Model, last, "", reasoning, maxTokens)}
	ch.reply.promptTokens = chatPromptTokens(chatReq.Messages)
	if tc, ok := plannedToolCall(chatBody, chatReq.Messages); ok {
		ch.toolCall = &tc
	}
	st := responses.NewStream(req, ch.created)
	events := st.Start()
	for _, chunk := range ch.chunks() {
		events = append(events, st.Chunk(chunk)...)
	}
	events = append(events, st.End()...)
	failing := strings.Contains(last, triggerFail)
	if !req.Stream {
		if failing {
			writeJSON(w, http.StatusBadGateway, jobFailure(Fault{JobError: "runner_disconnected"}))
			return
		}
		if sleep(c.r.Context(), f.opts.GenerationTime) {
			writeJSON(w, http.StatusOK, st.Response())
		}
		return
	}
	s := startSSE(w, c.rid)
	pace := newPacer(f.opts.TokenDelay)
	for i, ev := range events {
		if failing && i == failAfter {
			e := errorOf("runner_disconnected")
			_ = s.event("error", mustJSON(map[string]any{"type": "error", "sequence_number": i, "code": "runner_disconnected", "message": e.msg}))
			return
		}
		if !pace.next(c.r.Context()) || s.event(ev.Name, ev.Data) != nil {
			return
		}
	}
}

// failAfter is how many events a stream asked to fail ("[fail]") sends
// before its error event: a few, so that some text has arrived.
const failAfter = 6

// chunks is the run as the chat chunks of its stream, usage included: a
// tool call, or the reasoning and output pieces, then the finish chunk.
func (ch chatRun) chunks() [][]byte {
	var out [][]byte
	if ch.toolCall != nil {
		out = append(out, mustJSON(map[string]any{"choices": []any{map[string]any{"delta": map[string]any{
			"tool_calls": []toolCallJSON{{Index: new(0), ID: ch.toolCall.id, Type: "function",
				Function: toolFunctionJSON{Name: ch.toolCall.name, Arguments: ch.toolCall.arguments}}}}}}}))
		out = append(out, mustJSON(ch.chunk(chatDelta{}, new("tool_calls"))))
	} else {
		for _, p := range ch.reply.reasoning {
			out = append(out, mustJSON(ch.chunk(chatDelta{Delta: openai.Delta{ReasoningContent: p}}, nil)))
		}
		for _, p := range ch.reply.output {
			out = append(out, mustJSON(ch.chunk(chatDelta{Delta: openai.Delta{Content: new(p)}}, nil)))
		}
		out = append(out, mustJSON(ch.chunk(chatDelta{}, new(ch.finishReason()))))
	}
	u := ch.chunk(chatDelta{}, nil)
	u.Choices, u.Usage = []chunkChoice{}, ch.usage()
	return append(out, mustJSON(u))
}

// event sends one named event whose data is b (a single line of JSON).
func (s *sseWriter) event(name string, b []byte) error {
	if strings.ContainsAny(name, "\r\n") {
		return fmt.Errorf("event name %q spans lines", name)
	}
	if _, err := fmt.Fprintf(s.w, "event: %s\ndata: %s\n\n", name, b); err != nil {
		return fmt.Errorf("writing event: %w", err)
	}
	return s.rc.Flush()
}
