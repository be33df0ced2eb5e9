package falfake

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/falproxy/falproxy/internal/openai"
)

// responsesEndpoint is fal's OpenAI-compatible Responses route of
// openrouter/router.
const responsesEndpoint = "openrouter/router/openai/v1/responses"

// Triggers in the input of a Responses request that pick how the route
// answers, each a shape OpenAI's (or another provider's) Responses API
// really sends through OpenRouter.
const (
	// triggerSummary reasons, and sends the reasoning as a summary
	// (reasoning_summary_* events), as OpenAI's reasoning models do.
	triggerSummary = "[summary]"
	// triggerNoSeq sends events without sequence_number.
	triggerNoSeq = "[noseq]"
	// triggerLoose answers with instructions as a list of items and a
	// fractional created_at.
	triggerLoose = "[loose]"
)

// responsesRequest is the part of a Responses request the route reads.
type responsesRequest struct {
	Model              string          `json:"model"`
	Input              json.RawMessage `json:"input"`
	Instructions       json.RawMessage `json:"instructions"`
	Stream             bool            `json:"stream"`
	MaxOutputTokens    int             `json:"max_output_tokens"`
	PreviousResponseID string          `json:"previous_response_id"`
	Reasoning          *struct {
		Effort string `json:"effort"`
	} `json:"reasoning"`
	Tools []struct {
		Type       string `json:"type"`
		Name       string `json:"name"`
		Parameters struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"parameters"`
	} `json:"tools"`
}

// responsesItem is the part of an input item the route reads.
type responsesItem struct {
	Type    string          `json:"type"`
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
	Output  json.RawMessage `json:"output"`
}

// responses answers the OpenAI-compatible Responses route as fal relays
// it from OpenRouter: answers shaped by hand as OpenAI's Responses API
// sends them (see responsesAnswer; triggerNoUsage answers without usage),
// independent of falproxy's own
// translation. The input is read as the chat route reads messages: a
// function call when the newest user text asks to "call <name>" of a
// declared function, an answer using a tool's output after one. A request
// with previous_response_id is refused: the route keeps nothing. "[fail]"
// in the input fails it: whole, with an OpenAI error; streamed, with an
// "error" event whose code is a number, after a few events.
func (f *Fake) responses(w http.ResponseWriter, c *call) {
	if !f.authorize(w, c) {
		return
	}
	var req responsesRequest
	if err := json.Unmarshal(c.body, &req); err != nil || req.Model == "" || len(req.Input) == 0 {
		writeJSON(w, http.StatusBadRequest, openai.InvalidRequest("input", "invalid_value", "model and input are required"))
		return
	}
	if req.PreviousResponseID != "" {
		writeJSON(w, http.StatusBadRequest, openai.InvalidRequest("previous_response_id", "invalid_value", "previous_response_id is not supported: this API is stateless."))
		return
	}
	a := newResponsesAnswer(&req, time.Now())
	in, out := a.tokens()
	a.costMicros = f.tokenCostMicros(openAIApp, req.Model, in+out)
	if !a.has(triggerFail) { // fal bills an answer that did not fail
		f.billMicros(c.key, a.costMicros)
	}
	if !req.Stream {
		if strings.Contains(a.userText, triggerFail) {
			writeJSON(w, http.StatusBadGateway, jobFailure(Fault{JobError: "runner_disconnected"}))
			return
		}
		if sleep(c.r.Context(), f.opts.GenerationTime) {
			writeJSON(w, http.StatusOK, a.response("completed"))
		}
		return
	}
	events := a.events()
	s := startSSE(w, c.rid)
	pace := newPacer(f.opts.TokenDelay)
	for i, ev := range events {
		if strings.Contains(a.userText, triggerFail) && i == failAfter {
			_ = s.event("error", mustJSON(a.stamp(map[string]any{"type": "error", "code": 502,
				"message": errorOf("runner_disconnected").msg, "param": nil})))
			return
		}
		if !pace.next(c.r.Context()) || s.event(ev["type"].(string), mustJSON(ev)) != nil {
			return
		}
		if ev["type"] == "response.output_text.delta" && strings.Contains(a.userText, triggerStall) {
			<-c.r.Context().Done()
			return
		}
	}
}

// failAfter is how many events a stream asked to fail ("[fail]") sends
// before its error event: a few, so that some text has arrived.
const failAfter = 6

// lastTurn reads the input: the text of the newest user message, the
// output of a function_call_output that ends it, and the number of words
// of every message (the prompt's "tokens").
func lastTurn(input json.RawMessage) (userText, toolOutput string, words int) {
	var s string
	if json.Unmarshal(input, &s) == nil {
		return s, "", len(strings.Fields(s))
	}
	var items []responsesItem
	_ = json.Unmarshal(input, &items)
	for i, it := range items {
		text := responsesText(it.Content)
		words += len(strings.Fields(text))
		switch {
		case it.Role == "user":
			userText, toolOutput = text, ""
		case it.Type == "function_call_output" && i == len(items)-1:
			toolOutput = responsesText(it.Output)
		}
	}
	return userText, toolOutput, words
}

// responsesText is the text of a content or output: a string, or the
// joined text of its parts.
func responsesText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal(raw, &parts)
	var texts []string
	for _, p := range parts {
		texts = append(texts, p.Text)
	}
	return strings.Join(texts, " ")
}

// plannedCall is the function call the request asks for, if any.
func (req *responsesRequest) plannedCall(userText string) (toolCall, bool) {
	var tools []declaredTool
	for _, t := range req.Tools {
		if t.Type == "function" {
			tools = append(tools, declaredTool{name: t.Name, params: slices.Sorted(maps.Keys(t.Parameters.Properties))})
		}
	}
	return callFor(userText, tools)
}
