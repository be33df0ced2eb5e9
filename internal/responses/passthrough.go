package responses

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"unicode/utf8"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/openai"
)

// passthroughFields are the Responses fields forwarded to fal's own
// responses route. store and previous_response_id stay here: falproxy
// keeps the conversation and sends it whole, since fal's route keeps
// nothing; any other field (OpenRouter's "models" fallback list, provider
// routing) could reach models EMBEDDING_MODELS or CHAT_MODELS do not list.
var passthroughFields = []string{
	"model", "input", "instructions", "stream", "max_output_tokens", "temperature", "top_p",
	"tools", "tool_choice", "parallel_tool_calls", "reasoning", "text", "metadata", "user",
}

// PassthroughFields lists the forwarded fields, sorted.
func PassthroughFields() []string { return slices.Sorted(slices.Values(passthroughFields)) }

// PassthroughBody is the body sent to fal's responses route: the forwarded
// fields with model set to falModel and, after a previous response,
// input holding the whole conversation (history, then this input).
// dropped lists the fields left out, sorted.
func PassthroughBody(req *Request, history []Item, falModel string) (body []byte, dropped []string, err error) {
	out, dropped := chat.SplitFields(req.Fields, func(name string) bool { return slices.Contains(passthroughFields, name) })
	if out["model"], err = json.Marshal(falModel); err != nil {
		return nil, nil, err
	}
	if len(history) > 0 {
		if out["input"], err = json.Marshal(append(slices.Clip(history), req.InputItems()...)); err != nil {
			return nil, nil, err
		}
	}
	body, err = json.Marshal(out)
	return body, dropped, err
}

// InputItems is the request's input as items: a string input is one user
// message.
func (r *Request) InputItems() []Item {
	if r.Input.Text != "" {
		return []Item{{Type: "message", Role: "user", Content: ItemContent{Text: r.Input.Text}}}
	}
	return r.Input.Items
}

// Relabel rewrites fal's whole response for the client: model is the
// name the client asked for, and usage, when fal reports none, is
// estimated from promptChars (see Request.PromptChars) and the output's
// text. Any JSON object is relayed: fields falproxy does not know, or
// knows in another type, pass as fal sent them. The response is returned
// for the store only when keepable (see keepable).
func Relabel(body []byte, model string, promptChars int) (answer []byte, keep Response, ok bool, err error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil || fields == nil {
		return nil, Response{}, false, errNotObject
	}
	if err := relabel(fields, model, promptChars, true); err != nil {
		return nil, Response{}, false, err
	}
	if answer, err = json.Marshal(fields); err != nil {
		return nil, Response{}, false, err
	}
	keep, ok = keepable(answer)
	return answer, keep, ok, nil
}

var errNotObject = errors.New("not a JSON object")

// relabel renames the model of a response object and, when final (a
// finished response) and fal reported no usage, estimates it.
func relabel(fields map[string]json.RawMessage, model string, promptChars int, final bool) error {
	var err error
	if fields["model"], err = json.Marshal(model); err != nil {
		return err
	}
	if !final || reportsUsage(fields["usage"]) {
		return nil
	}
	u := chat.EstimateUsage(promptChars, outputChars(fields["output"]))
	fields["usage"], err = json.Marshal(Usage{InputTokens: u.PromptTokens, OutputTokens: u.CompletionTokens, TotalTokens: u.TotalTokens})
	return err
}

// reportsUsage reports whether raw is a usage object with a token count.
func reportsUsage(raw json.RawMessage) bool {
	var u struct {
		TotalTokens float64 `json:"total_tokens"`
	}
	return json.Unmarshal(raw, &u) == nil && u.TotalTokens > 0
}

// outputChars counts the characters of an output's text: message and
// reasoning text, reasoning summaries and function call arguments. What
// cannot be read counts nothing.
func outputChars(raw json.RawMessage) int {
	var items []struct {
		Content, Summary []struct {
			Text any `json:"text"`
		}
		Arguments any `json:"arguments"`
	}
	_ = json.Unmarshal(raw, &items)
	n := 0
	for _, it := range items {
		for _, p := range slices.Concat(it.Content, it.Summary) {
			n += stringChars(p.Text)
		}
		n += stringChars(it.Arguments)
	}
	return n
}

// stringChars counts the characters of v when it is a string.
func stringChars(v any) int {
	s, _ := v.(string)
	return utf8.RuneCountInString(s)
}

// keepable decodes a response for the store: only one that has an id and
// completed, or stopped at the token limit, can be continued by
// previous_response_id; one that cannot be read as a Response is not kept.
func keepable(body []byte) (Response, bool) {
	var r Response
	if json.Unmarshal(body, &r) != nil || r.ID == "" || r.Status != "completed" && r.Status != "incomplete" {
		return Response{}, false
	}
	return r, true
}

// PromptChars counts the characters of the text sent as the prompt:
// instructions, then history and input (message text, function call
// arguments and outputs), for a usage estimate.
func (r *Request) PromptChars(history []Item) int {
	n := utf8.RuneCountInString(r.Instructions)
	for _, it := range slices.Concat(history, r.InputItems()) {
		n += utf8.RuneCountInString(it.Content.Text) + utf8.RuneCountInString(joinText(it.Content.Parts)) +
			utf8.RuneCountInString(it.Arguments) + utf8.RuneCountInString(outputText(it.Output))
	}
	return n
}

// PassthroughStream rewrites the events of fal's responses stream as
// Relabel rewrites a whole response, and notes how the stream ended so
// that one fal cut short can still end with response.failed.
type PassthroughStream struct {
	model       string
	promptChars int
	relayed     int                        // events relayed: the next sequence number
	last        map[string]json.RawMessage // the newest response an event carried, relabelled
	keep        Response                   // the final response, when keepable
	kept        bool
	final       bool // a final event (completed, incomplete, failed) was relayed
	chars       int  // characters of the text deltas relayed (see deltaEvents)
}

// deltaEvents are the events whose "delta" is text the model wrote:
// message text, a refusal, reasoning, reasoning summaries and function
// call arguments.
var deltaEvents = []string{
	"response.output_text.delta", "response.refusal.delta", "response.reasoning_text.delta",
	"response.reasoning_summary_text.delta", "response.function_call_arguments.delta",
}

// NewPassthroughStream starts rewriting one stream for model, the name the
// client asked for; promptChars is the request's PromptChars.
func NewPassthroughStream(model string, promptChars int) *PassthroughStream {
	return &PassthroughStream{model: model, promptChars: promptChars}
}

// Event returns the event to send for one data payload of fal's stream:
// its name (the payload's type) and data, with the model of the response
// it carries, if any, renamed (and its usage estimated in a final event
// without one). fal's "error" event ends the stream as response.failed,
// which every client of the Responses API reads.
func (p *PassthroughStream) Event(data []byte) Event {
	var ev map[string]json.RawMessage
	if json.Unmarshal(data, &ev) != nil || ev == nil {
		p.relayed++
		return Event{Data: data}
	}
	var name string
	_ = json.Unmarshal(ev["type"], &name)
	if name == "error" {
		return p.Fail(openai.EventError(data))
	}
	if slices.Contains(deltaEvents, name) {
		var delta string
		_ = json.Unmarshal(ev["delta"], &delta)
		p.chars += utf8.RuneCountInString(delta)
	}
	final := name == "response.completed" || name == "response.incomplete" || name == "response.failed"
	var resp map[string]json.RawMessage
	if json.Unmarshal(ev["response"], &resp) == nil && resp != nil && relabel(resp, p.model, p.promptChars, final) == nil {
		if b, err := json.Marshal(resp); err == nil {
			ev["response"], p.last = b, resp
			if b, err := json.Marshal(ev); err == nil {
				data = b
			}
			if final {
				p.keep, p.kept = keepable(ev["response"])
			}
		}
	}
	p.final = p.final || final
	p.relayed++
	return Event{Name: name, Data: data}
}

// Final returns the response of a stream that completed (or stopped at
// the token limit), for the store.
func (p *PassthroughStream) Final() (Response, bool) { return p.keep, p.kept }

// Streamed is the estimated usage of the stream so far, the prompt and
// the text of the deltas relayed, for a stream the client left before
// its final event: fal bills what the model wrote until then.
func (p *PassthroughStream) Streamed() Usage {
	u := chat.EstimateUsage(p.promptChars, p.chars)
	return Usage{InputTokens: u.PromptTokens, OutputTokens: u.CompletionTokens, TotalTokens: u.TotalTokens}
}

// Ended reports whether the stream's final event was relayed.
func (p *PassthroughStream) Ended() bool { return p.final }

// Fail returns response.failed carrying e, for a stream fal cut short or
// failed: the newest response fal sent, as relabelled, with the failure,
// numbered after the events relayed.
func (p *PassthroughStream) Fail(e *openai.Error) Event {
	r := maps.Clone(p.last)
	if r == nil {
		r = map[string]json.RawMessage{"object": json.RawMessage(`"response"`), "output": json.RawMessage(`[]`)}
		r["model"], _ = json.Marshal(p.model)
	}
	r["status"] = json.RawMessage(`"failed"`)
	r["error"], _ = json.Marshal(failure(e))
	b, _ := json.Marshal(map[string]any{"type": "response.failed", "sequence_number": p.relayed, "response": r})
	p.final = true
	p.relayed++
	return Event{Name: "response.failed", Data: b}
}
