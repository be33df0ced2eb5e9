package falfake

import (
	"fmt"
	"strings"
	"time"
)

// responsesAnswer is one answer of the Responses route, written by hand in
// the shapes of OpenAI's Responses API: the whole response object and the
// events of its stream (response.created, in_progress, per output item its
// added, delta, done events, then response.completed or incomplete).
type responsesAnswer struct {
	req      *responsesRequest
	userText string
	id       string
	created  time.Time
	reasoning,
	output []string // pieces of the reasoning and the message text
	call      *toolCall
	truncated bool
	words     int
	seq       int
	// costMicros is what the answer's tokens cost, reported in its usage.
	costMicros int64
}

func newResponsesAnswer(req *responsesRequest, now time.Time) *responsesAnswer {
	userText, toolOutput, words := lastTurn(req.Input)
	a := &responsesAnswer{req: req, userText: userText, id: "resp_" + randomID(24), created: now, words: words}
	if toolOutput != "" {
		a.output = pieces("the tool answered " + toolOutput)
		return a
	}
	if tc, ok := req.plannedCall(userText); ok {
		a.call = &tc
		return a
	}
	reasoning := req.Reasoning != nil && req.Reasoning.Effort != "" && req.Reasoning.Effort != "none" || strings.Contains(userText, triggerSummary)
	r := composeReply(req.Model, userText, "", reasoning, req.MaxOutputTokens)
	a.reasoning, a.output, a.truncated = r.reasoning, r.output, r.truncated
	return a
}

func (a *responsesAnswer) has(trigger string) bool { return strings.Contains(a.userText, trigger) }

// Output item ids, stable within one answer.
func (a *responsesAnswer) itemID(prefix string) string { return prefix + "_" + a.id[len("resp_"):] }

// items are the output items, whole: a reasoning item (its text as
// reasoning_text content, or as a summary), a message, or a function call.
func (a *responsesAnswer) items() []map[string]any {
	var out []map[string]any
	if len(a.reasoning) > 0 {
		out = append(out, a.reasoningItem(strings.Join(a.reasoning, "")))
	}
	if a.call != nil {
		return append(out, a.callItem(a.call.arguments, "completed"))
	}
	return append(out, a.messageItem([]any{outputText(strings.Join(a.output, ""))}, "completed"))
}

func (a *responsesAnswer) reasoningItem(text string) map[string]any {
	it := map[string]any{"id": a.itemID("rs"), "type": "reasoning", "summary": []any{}}
	if a.has(triggerSummary) {
		if text != "" {
			it["summary"] = []any{map[string]any{"type": "summary_text", "text": text}}
		}
		return it
	}
	it["content"] = []any{map[string]any{"type": "reasoning_text", "text": text}}
	return it
}

func (a *responsesAnswer) messageItem(content []any, status string) map[string]any {
	return map[string]any{"id": a.itemID("msg"), "type": "message", "status": status, "role": "assistant", "content": content}
}

func (a *responsesAnswer) callItem(args, status string) map[string]any {
	return map[string]any{"id": a.itemID("fc"), "type": "function_call", "status": status, "arguments": args,
		"call_id": a.call.id, "name": a.call.name}
}

func outputText(text string) map[string]any {
	return map[string]any{"type": "output_text", "text": text, "annotations": []any{}, "logprobs": []any{}}
}

// response is the response object with the given status; the output is
// whole unless the response is in progress.
func (a *responsesAnswer) response(status string) map[string]any {
	var created any = a.created.Unix()
	var instructions any
	if len(a.req.Instructions) > 0 {
		instructions = a.req.Instructions
	}
	if a.has(triggerLoose) {
		created = float64(a.created.UnixMilli()) / 1000
		instructions = []any{map[string]any{"type": "message", "role": "developer",
			"content": []any{map[string]any{"type": "input_text", "text": "Be brief."}}}}
	}
	r := map[string]any{"id": a.id, "object": "response", "created_at": created, "status": status, "error": nil,
		"incomplete_details": nil, "instructions": instructions, "model": a.req.Model, "output": []any{},
		"parallel_tool_calls": true, "tool_choice": "auto", "tools": []any{}, "temperature": 1.0, "top_p": 1.0,
		"text": map[string]any{"format": map[string]any{"type": "text"}}, "usage": nil, "metadata": map[string]any{}}
	if status == "in_progress" {
		return r
	}
	r["output"] = a.items()
	if status == "incomplete" {
		r["incomplete_details"] = map[string]any{"reason": "max_output_tokens"}
	}
	if !a.has(triggerNoUsage) {
		in, out := a.tokens()
		r["usage"] = map[string]any{"input_tokens": in, "input_tokens_details": map[string]any{"cached_tokens": 0},
			"output_tokens": out, "output_tokens_details": map[string]any{"reasoning_tokens": len(a.reasoning)},
			"total_tokens": in + out, "cost": float64(a.costMicros) / 1e6}
	}
	return r
}

// tokens are the answer's input and output tokens: words, and pieces.
func (a *responsesAnswer) tokens() (in, out int) {
	out = len(a.output) + len(a.reasoning)
	if a.call != nil {
		out = 1
	}
	return a.words, out
}

// stamp numbers an event, unless the answer sends none ("[noseq]").
func (a *responsesAnswer) stamp(ev map[string]any) map[string]any {
	if !a.has(triggerNoSeq) {
		ev["sequence_number"] = a.seq
	}
	a.seq++
	return ev
}

// events is the stream of the answer, every event stamped in order.
func (a *responsesAnswer) events() []map[string]any {
	var evs []map[string]any
	add := func(typ string, fields map[string]any) {
		fields["type"] = typ
		evs = append(evs, a.stamp(fields))
	}
	add("response.created", map[string]any{"response": a.response("in_progress")})
	add("response.in_progress", map[string]any{"response": a.response("in_progress")})
	index := 0
	if len(a.reasoning) > 0 {
		a.reasoningEvents(add, index)
		index++
	}
	if a.call != nil {
		a.callEvents(add, index)
	} else {
		a.messageEvents(add, index)
	}
	status, final := "completed", "response.completed"
	if a.truncated {
		status, final = "incomplete", "response.incomplete"
	}
	add(final, map[string]any{"response": a.response(status)})
	return evs
}

// eventAdder appends one event of the given type.
type eventAdder func(typ string, fields map[string]any)

func (a *responsesAnswer) reasoningEvents(add eventAdder, index int) {
	id, text := a.itemID("rs"), strings.Join(a.reasoning, "")
	add("response.output_item.added", map[string]any{"output_index": index, "item": a.reasoningItem("")})
	if a.has(triggerSummary) {
		part := map[string]any{"item_id": id, "output_index": index, "summary_index": 0}
		add("response.reasoning_summary_part.added", with(part, "part", map[string]any{"type": "summary_text", "text": ""}))
		for _, p := range a.reasoning {
			add("response.reasoning_summary_text.delta", with(part, "delta", p))
		}
		add("response.reasoning_summary_text.done", with(part, "text", text))
		add("response.reasoning_summary_part.done", with(part, "part", map[string]any{"type": "summary_text", "text": text}))
	} else {
		part := map[string]any{"item_id": id, "output_index": index, "content_index": 0}
		for _, p := range a.reasoning {
			add("response.reasoning_text.delta", with(part, "delta", p))
		}
		add("response.reasoning_text.done", with(part, "text", text))
	}
	add("response.output_item.done", map[string]any{"output_index": index, "item": a.reasoningItem(text)})
}

func (a *responsesAnswer) messageEvents(add eventAdder, index int) {
	text := strings.Join(a.output, "")
	part := map[string]any{"item_id": a.itemID("msg"), "output_index": index, "content_index": 0}
	add("response.output_item.added", map[string]any{"output_index": index, "item": a.messageItem([]any{}, "in_progress")})
	add("response.content_part.added", with(part, "part", outputText("")))
	for _, p := range a.output {
		add("response.output_text.delta", with(with(part, "delta", p), "logprobs", []any{}))
	}
	add("response.output_text.done", with(with(part, "text", text), "logprobs", []any{}))
	add("response.content_part.done", with(part, "part", outputText(text)))
	add("response.output_item.done", map[string]any{"output_index": index, "item": a.messageItem([]any{outputText(text)}, "completed")})
}

// callEvents streams the call's arguments in two halves, as OpenAI does
// in several pieces.
func (a *responsesAnswer) callEvents(add eventAdder, index int) {
	args := a.call.arguments
	part := map[string]any{"item_id": a.itemID("fc"), "output_index": index}
	add("response.output_item.added", map[string]any{"output_index": index, "item": a.callItem("", "in_progress")})
	add("response.function_call_arguments.delta", with(part, "delta", args[:len(args)/2]))
	add("response.function_call_arguments.delta", with(part, "delta", args[len(args)/2:]))
	add("response.function_call_arguments.done", with(part, "arguments", args))
	add("response.output_item.done", map[string]any{"output_index": index, "item": a.callItem(args, "completed")})
}

// with is a copy of m with key set to v.
func with(m map[string]any, key string, v any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, x := range m {
		out[k] = x
	}
	out[key] = v
	return out
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
