package falfake

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/falproxy/falproxy/internal/openai"
)

// chatEndpoint is fal's OpenAI-compatible chat route of openrouter/router.
const chatEndpoint = "openrouter/router/openai/v1/chat/completions"

// triggerNoUsage in the last user message makes the OpenAI-compatible
// route answer without usage, as some of OpenRouter's providers do.
const triggerNoUsage = "[no-usage]"

// chat answers the OpenAI-compatible endpoint: a chat.completion, or with
// "stream": true chat.completion.chunk events ending in [DONE]. Asked for
// reasoning (reasoning_effort other than "none"), it returns the reasoning
// as OpenRouter does, under "reasoning" in the message or the deltas. Its
// errors are OpenAI-shaped, except that a body without model or messages
// fails fal's own validation with a 422 detail list.
func (f *Fake) chat(w http.ResponseWriter, c *call) {
	if !f.authorize(w, c) {
		return
	}
	req, errs := parseChat(c.body)
	if len(errs) > 0 {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"detail": errs})
		return
	}
	last := lastUserText(req.Messages)
	if strings.Contains(last, triggerNSFW) {
		writeJSON(w, http.StatusBadRequest, &openai.Error{
			Message: errorOf("content_policy_violation").msg, Type: openai.TypeInvalidRequest, Code: "content_policy_violation",
		})
		return
	}
	maxTokens := 0
	for _, p := range []*int{req.MaxCompletionTokens, req.MaxTokens} {
		if p != nil && *p > 0 {
			maxTokens = *p
			break
		}
	}
	reasoning := req.ReasoningEffort != "" && req.ReasoningEffort != "none"
	if out, ok := toolResult(req.Messages); ok {
		last = out
	}
	r := composeReply(req.Model, last, "", reasoning, maxTokens)
	r.promptTokens = chatPromptTokens(req.Messages)
	ch := chatRun{id: "chatcmpl-" + randomID(24), created: time.Now().Unix(), model: req.Model, reply: r,
		noUsage: strings.Contains(last, triggerNoUsage), stall: strings.Contains(last, triggerStall),
		stallAtEnd: strings.Contains(last, triggerStallAtEnd)}
	if ft, ok := f.faults.takeJob(OpChat, c.key, c.endpoint); ok {
		ch.failure = jobFailure(ft)
	} else if strings.Contains(last, triggerFail) {
		ch.failure = jobFailure(Fault{JobError: "runner_disconnected"})
	}
	if tc, ok := plannedToolCall(c.body, req.Messages); ok {
		ch.toolCall = &tc
	}
	slow := strings.Contains(last, triggerSlow)
	ch.reply.costMicros = f.tokenCostMicros(openAIApp, req.Model, ch.reply.usage().TotalTokens)
	if ch.failure == nil { // fal bills an answer that did not fail
		f.billMicros(c.key, ch.reply.costMicros)
	}
	if req.Stream && ch.toolCall != nil {
		ch.streamToolCall(w, c, stretch(f.opts.TokenDelay, slow), req.StreamOptions != nil && req.StreamOptions.IncludeUsage)
		return
	}
	if req.Stream {
		ch.stream(w, c, stretch(f.opts.TokenDelay, slow), req.StreamOptions != nil && req.StreamOptions.IncludeUsage)
		return
	}
	if !sleep(c.r.Context(), stretch(f.opts.GenerationTime, slow)) {
		return
	}
	if ch.failure != nil {
		writeJSON(w, ch.failure.Status, ch.failure)
		return
	}
	if ch.toolCall != nil {
		writeJSON(w, http.StatusOK, ch.toolCompletion())
		return
	}
	writeJSON(w, http.StatusOK, ch.completion())
}

// parseChat checks the two fields fal's layer requires and decodes the
// request.
func parseChat(body []byte) (openai.ChatRequest, []detail) {
	var req openai.ChatRequest
	raw, errs := decodeInput(body)
	if len(errs) > 0 {
		return req, errs
	}
	if v, ok := raw["model"]; !ok {
		errs = append(errs, detail{Type: "missing", Loc: []any{"body", "model"}, Msg: "Field required", Input: raw})
	} else if s, ok := v.(string); !ok || s == "" {
		errs = append(errs, detail{Type: "string_type", Loc: []any{"body", "model"}, Msg: "Input should be a valid string", Input: v})
	}
	if v, ok := raw["messages"]; !ok {
		errs = append(errs, detail{Type: "missing", Loc: []any{"body", "messages"}, Msg: "Field required", Input: raw})
	} else if list, ok := v.([]any); !ok {
		errs = append(errs, detail{Type: "list_type", Loc: []any{"body", "messages"}, Msg: "Input should be a valid list", Input: v})
	} else if len(list) == 0 {
		errs = append(errs, detail{
			Type: "too_short", Loc: []any{"body", "messages"}, Msg: "List should have at least 1 item after validation, not 0", Input: v,
			Ctx: map[string]any{"field_type": "List", "min_length": 1, "actual_length": 0},
		})
	}
	if len(errs) > 0 {
		return req, errs
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		return req, []detail{{Type: "value_error", Loc: []any{"body"}, Msg: "Value error, " + err.Error(), Input: raw}}
	}
	return req, nil
}

// lastUserText is the text of the newest user message.
func lastUserText(msgs []openai.Message) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "user" {
			return contentText(msgs[i].Content)
		}
	}
	return ""
}

// contentText joins a message's text parts.
func contentText(c openai.Content) string {
	if !c.IsParts {
		return c.Text
	}
	var texts []string
	for _, p := range c.Parts {
		if p.Type == "text" {
			texts = append(texts, p.Text)
		}
	}
	return strings.Join(texts, "\n")
}

// chatPromptTokens counts the words of every message as prompt tokens.
func chatPromptTokens(msgs []openai.Message) int {
	n := 0
	for _, m := range msgs {
		n += len(strings.Fields(contentText(m.Content)))
	}
	return n
}

// jobFailure is the OpenAI-shaped error of a chat that fails like a job
// with ft.JobError (a "[fail]" prompt or a job fault).
func jobFailure(ft Fault) *openai.Error {
	e := errorOf(ft.JobError)
	status := e.status
	if ft.Status != 0 {
		status = ft.Status
	}
	typ := openai.TypeServer
	if status < 500 {
		typ = openai.TypeInvalidRequest
	}
	return &openai.Error{Status: status, Message: e.msg, Type: typ, Code: ft.JobError}
}

// chatRun is one chat answer; id and created stay the same on every chunk.
type chatRun struct {
	id      string
	created int64
	model   string
	reply   reply
	failure *openai.Error // the run fails with this, mid-stream if streaming
	noUsage bool          // answer without usage
	stall   bool          // the stream stops after its first content chunk
	// stallAtEnd: the stream stops before [DONE]
	stallAtEnd bool
	toolCall   *toolCall // the answer calls this tool instead of writing text
}

// chatCompletion, chatChoice, chatChunk, chunkChoice, chatMessage and
// chatDelta are OpenAI's types with the "reasoning" field OpenRouter uses.
type chatCompletion struct {
	openai.ChatCompletion
	Choices []chatChoice `json:"choices"`
	Usage   *llmUsage    `json:"usage,omitempty"` // with OpenRouter's cost
}

type chatChoice struct {
	openai.ChatChoice
	Message chatMessage `json:"message"`
}

type chatMessage struct {
	openai.ResponseMessage
	Reasoning string `json:"reasoning,omitempty"`
}

type chatChunk struct {
	openai.ChatChunk
	Choices []chunkChoice `json:"choices"`
	Usage   *llmUsage     `json:"usage,omitempty"` // with OpenRouter's cost
}

type chunkChoice struct {
	openai.ChunkChoice
	Delta chatDelta `json:"delta"`
}

type chatDelta struct {
	openai.Delta
	Reasoning string `json:"reasoning,omitempty"`
}

func (ch chatRun) finishReason() string {
	if ch.reply.truncated {
		return "length"
	}
	return "stop"
}

// usage is the run's usage with its cost in USD, as OpenRouter reports it.
func (ch chatRun) usage() *llmUsage {
	if ch.noUsage {
		return nil
	}
	return new(ch.reply.usage())
}

// completion is the non-streaming answer.
func (ch chatRun) completion() chatCompletion {
	return chatCompletion{
		ChatCompletion: openai.ChatCompletion{
			ID: ch.id, Object: "chat.completion", Created: ch.created, Model: ch.model,
		},
		Usage: ch.usage(),
		Choices: []chatChoice{{
			ChatChoice: openai.ChatChoice{Index: 0, FinishReason: ch.finishReason()},
			Message: chatMessage{
				ResponseMessage: openai.ResponseMessage{Role: "assistant", Content: new(ch.reply.text())},
				Reasoning:       ch.reply.reasoningText(),
			},
		}},
	}
}

// chunk is a streaming event with one choice.
func (ch chatRun) chunk(delta chatDelta, finish *string) chatChunk {
	return chatChunk{
		ChatChunk: openai.ChatChunk{ID: ch.id, Object: "chat.completion.chunk", Created: ch.created, Model: ch.model},
		Choices:   []chunkChoice{{ChunkChoice: openai.ChunkChoice{Index: 0, FinishReason: finish}, Delta: delta}},
	}
}

// stream sends the role chunk, one chunk per piece (reasoning first), the
// finish chunk, the usage chunk when asked for (unless the run has no
// usage), and [DONE]. A failing run ends it with an OpenAI error event
// after two content chunks.
func (ch chatRun) stream(w http.ResponseWriter, c *call, delay time.Duration, includeUsage bool) {
	s := startSSE(w, c.rid)
	send := func(v any) bool { return s.data(mustJSON(v)) == nil }
	if !send(ch.chunk(chatDelta{Delta: openai.Delta{Role: "assistant", Content: new("")}}, nil)) {
		return
	}
	pace := newPacer(delay)
	for _, p := range ch.reply.reasoning {
		if !pace.next(c.r.Context()) || !send(ch.chunk(chatDelta{Reasoning: p}, nil)) {
			return
		}
	}
	for i, p := range ch.reply.output {
		if !pace.next(c.r.Context()) {
			return
		}
		if ch.failure != nil && i == 2 {
			send(ch.failure)
			return
		}
		if !send(ch.chunk(chatDelta{Delta: openai.Delta{Content: new(p)}}, nil)) {
			return
		}
		if ch.stall {
			<-c.r.Context().Done()
			return
		}
	}
	if !send(ch.chunk(chatDelta{}, new(ch.finishReason()))) {
		return
	}
	if includeUsage && !ch.noUsage {
		u := ch.chunk(chatDelta{}, nil)
		u.Choices, u.Usage = []chunkChoice{}, ch.usage()
		if !send(u) {
			return
		}
	}
	if ch.stallAtEnd {
		<-c.r.Context().Done()
		return
	}
	_ = s.data([]byte("[DONE]"))
}
