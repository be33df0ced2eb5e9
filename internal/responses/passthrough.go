package responses

import (
	"encoding/json"
	"slices"

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

// Relabel rewrites fal's whole response for the client: model is the name
// the client asked for. It returns the response as read, for the store.
func Relabel(body []byte, model string) ([]byte, Response, error) {
	var fields map[string]json.RawMessage
	var r Response
	if err := json.Unmarshal(body, &fields); err != nil {
		return nil, r, err
	}
	var err error
	if fields["model"], err = json.Marshal(model); err != nil {
		return nil, r, err
	}
	if body, err = json.Marshal(fields); err != nil {
		return nil, r, err
	}
	err = json.Unmarshal(body, &r)
	return body, r, err
}

// PassthroughStream rewrites the events of fal's responses stream as
// Relabel rewrites a whole response, and notes how the stream ended so
// that one fal cut short can still end with response.failed.
type PassthroughStream struct {
	model string
	seq   int
	last  Response // the newest response an event carried
	final bool     // a final event (completed, incomplete, failed) was seen
}

// NewPassthroughStream starts rewriting one stream for model, the name the
// client asked for.
func NewPassthroughStream(model string) *PassthroughStream {
	return &PassthroughStream{model: model}
}

// Event returns the event to send for one data payload of fal's stream:
// its name (the payload's type) and data, with the model of the response
// it carries, if any, renamed. fal's "error" event ends the stream as
// response.failed, which every client of the Responses API reads.
func (p *PassthroughStream) Event(data []byte) Event {
	var ev map[string]json.RawMessage
	if json.Unmarshal(data, &ev) != nil {
		return Event{Data: data}
	}
	var name string
	_ = json.Unmarshal(ev["type"], &name)
	if name == "error" {
		return p.Fail(eventError(ev))
	}
	_ = json.Unmarshal(ev["sequence_number"], &p.seq)
	if raw, ok := ev["response"]; ok {
		if b, r, err := Relabel(raw, p.model); err == nil {
			ev["response"], p.last = b, r
			if b, err := json.Marshal(ev); err == nil {
				data = b
			}
		}
	}
	switch name {
	case "response.completed", "response.incomplete", "response.failed":
		p.final = true
	}
	return Event{Name: name, Data: data}
}

// Final returns the response of a stream that completed (or stopped at
// the token limit), for the store.
func (p *PassthroughStream) Final() (Response, bool) {
	return p.last, p.final && (p.last.Status == "completed" || p.last.Status == "incomplete")
}

// Ended reports whether the stream's final event was relayed.
func (p *PassthroughStream) Ended() bool { return p.final }

// Fail returns response.failed carrying e, for a stream fal cut short.
func (p *PassthroughStream) Fail(e *openai.Error) Event {
	r := p.last
	r.Status, r.Error = "failed", &ResponseError{Code: e.Code, Message: e.Message}
	b, _ := json.Marshal(map[string]any{"type": "response.failed", "sequence_number": p.seq + 1, "response": r})
	p.final = true
	return Event{Name: "response.failed", Data: b}
}

// eventError is the OpenAI error an "error" event carries, at its top
// level or under "error".
func eventError(ev map[string]json.RawMessage) *openai.Error {
	var e struct {
		Message string `json:"message"`
		Code    any    `json:"code"`
	}
	if json.Unmarshal(ev["error"], &e) != nil || e.Message == "" {
		_ = json.Unmarshal(ev["message"], &e.Message)
		_ = json.Unmarshal(ev["code"], &e.Code)
	}
	out := &openai.Error{Message: e.Message, Code: "upstream_error"}
	if code, ok := e.Code.(string); ok && code != "" {
		out.Code = code
	}
	if out.Message == "" {
		out.Message = "fal's stream reported an error."
	}
	return out
}
