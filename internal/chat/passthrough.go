package chat

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"unicode/utf8"

	"github.com/falproxy/falproxy/internal/openai"
)

// passthroughFields are the OpenAI chat-completion fields the passthrough
// forwards to fal's OpenAI-compatible route. Every other field is dropped:
// OpenRouter's extensions such as "models" (a fallback list of other
// models), "route" or "provider" would let a client reach models that
// CHAT_MODELS does not list, or change how the call is routed and billed.
var passthroughFields = map[string]bool{
	"model": true, "messages": true, "stream": true, "stream_options": true,
	"temperature": true, "top_p": true, "max_tokens": true, "max_completion_tokens": true,
	"stop": true, "presence_penalty": true, "frequency_penalty": true, "logit_bias": true,
	"logprobs": true, "top_logprobs": true, "n": true, "seed": true,
	"response_format": true, "tools": true, "tool_choice": true, "parallel_tool_calls": true,
	"functions": true, "function_call": true, "reasoning_effort": true, "verbosity": true,
	"user": true, "safety_identifier": true, "prompt_cache_key": true,
}

// PassthroughFields lists the forwarded fields, sorted.
func PassthroughFields() []string {
	return slices.Sorted(func(yield func(string) bool) {
		for f := range passthroughFields {
			if !yield(f) {
				return
			}
		}
	})
}

// SplitFields divides a request's top-level fields into those forwarded
// to one of fal's OpenAI-compatible routes (allowed) and the names of the
// others, sorted, for the log.
func SplitFields(fields map[string]json.RawMessage, allowed func(name string) bool) (kept map[string]json.RawMessage, dropped []string) {
	kept = make(map[string]json.RawMessage, len(fields))
	for name, v := range fields {
		if allowed(name) {
			kept[name] = v
			continue
		}
		dropped = append(dropped, name)
	}
	slices.Sort(dropped)
	return kept, dropped
}

// PassthroughBody is the body sent to fal's OpenAI-compatible route for a
// request with the given top-level fields: the forwarded fields, with
// "model" set to falModel. The seed's `"reasoning": true` becomes
// reasoning_effort "medium" when the request names no effort, so that it
// turns reasoning on here as on the other backends. dropped lists the
// fields left out, sorted.
func PassthroughBody(fields map[string]json.RawMessage, falModel string) (body []byte, dropped []string, err error) {
	out, dropped := SplitFields(fields, func(name string) bool { return passthroughFields[name] })
	if out["model"], err = json.Marshal(falModel); err != nil {
		return nil, nil, err
	}
	if _, set := out["reasoning_effort"]; !set && bytes.Equal(bytes.TrimSpace(fields["reasoning"]), []byte("true")) {
		out["reasoning_effort"] = json.RawMessage(`"medium"`)
	}
	return appendObject(nil, out), dropped, nil
}

// PassthroughAnswer rewrites fal's whole OpenAI-compatible answer for the
// client: "model" is the name the client asked for, reasoning that fal
// returned as "reasoning" is returned as "reasoning_content", and usage,
// when fal reported none (or only zeros), is estimated from promptChars
// and the text returned (see EstimateUsage).
func PassthroughAnswer(body []byte, model string, promptChars int) ([]byte, error) {
	c, err := splitDocument(body)
	if err != nil {
		return nil, err
	}
	chars, err := relabel(c, model, "message")
	if err != nil {
		return nil, err
	}
	if !reportsUsage(c["usage"]) {
		if c["usage"], err = json.Marshal(EstimateUsage(promptChars, chars)); err != nil {
			return nil, err
		}
	}
	return appendObject(nil, c), nil
}

// errNotJSONObject is a passthrough answer, or a part of it, that is not
// the JSON object it must be.
var errNotJSONObject = errors.New("not a JSON object")

// splitDocument returns the members of the JSON object doc, checking
// first that doc is valid JSON.
func splitDocument(doc []byte) (map[string]json.RawMessage, error) {
	if !json.Valid(doc) {
		return nil, errNotJSONObject
	}
	c, ok := splitObject(doc)
	if !ok || c == nil {
		return nil, errNotJSONObject
	}
	return c, nil
}

// PassthroughStream rewrites the events of fal's OpenAI-compatible stream
// as PassthroughAnswer rewrites a whole answer. Asked for usage
// (stream_options.include_usage), a stream in which fal reports none gets
// an estimate: in fal's usage chunk when it holds only zeros, else in a
// usage chunk of its own before [DONE].
type PassthroughStream struct {
	model        string
	includeUsage bool
	promptChars  int
	chars        int  // characters of content and reasoning sent
	usageSent    bool // a chunk carried real or estimated usage
	id           string
	created      int64
}

// NewPassthroughStream starts rewriting one stream for model, the name the
// client asked for.
func NewPassthroughStream(model string, includeUsage bool, promptChars int) *PassthroughStream {
	return &PassthroughStream{model: model, includeUsage: includeUsage, promptChars: promptChars}
}

// Event returns the data to send for one data payload of fal's stream
// other than [DONE]. A payload that is not a JSON object is passed on as
// it is.
func (p *PassthroughStream) Event(data []byte) []byte {
	c, err := splitDocument(data)
	if err != nil {
		return data
	}
	chars, err := relabel(c, p.model, "delta")
	if err != nil {
		return data
	}
	p.chars += chars
	if p.id == "" {
		_ = json.Unmarshal(c["id"], &p.id)
		_ = json.Unmarshal(c["created"], &p.created)
	}
	if u, ok := c["usage"]; ok && !isNull(u) {
		if !reportsUsage(u) && p.includeUsage {
			c["usage"], _ = json.Marshal(EstimateUsage(p.promptChars, p.chars))
		}
		p.usageSent = true
	}
	return appendObject(nil, c)
}

// End returns the last chunk of the stream, sent before [DONE]: an
// estimated usage chunk when the client asked for usage and fal sent none;
// nil otherwise.
func (p *PassthroughStream) End() []byte {
	if !p.includeUsage || p.usageSent {
		return nil
	}
	return appendJSON(nil, openai.ChatChunk{
		ID: p.id, Object: "chat.completion.chunk", Created: p.created, Model: p.model,
		Choices: []openai.ChunkChoice{}, Usage: EstimateUsage(p.promptChars, p.chars),
	})
}

// relabel sets a completion's or chunk's "model" to model and, in each
// choice's message (or delta), renames "reasoning" to "reasoning_content"
// when the latter is absent. It returns the characters of content and
// reasoning the choices carry.
func relabel(c map[string]json.RawMessage, model, key string) (int, error) {
	var err error
	if c["model"], err = json.Marshal(model); err != nil {
		return 0, err
	}
	raw, ok := c["choices"]
	if !ok || isNull(raw) {
		return 0, nil
	}
	elems, ok := splitArray(raw)
	if !ok {
		return 0, errNotJSONObject
	}
	choices := make([]map[string]json.RawMessage, len(elems))
	for i, e := range elems {
		if choices[i], ok = splitObject(e); !ok {
			return 0, errNotJSONObject
		}
	}
	chars := 0
	for _, choice := range choices {
		msg, ok := splitObject(choice[key])
		if !ok || msg == nil {
			continue
		}
		if r, ok := msg["reasoning"]; ok {
			if _, has := msg["reasoning_content"]; !has && !isNull(r) {
				msg["reasoning_content"] = r
				delete(msg, "reasoning")
			}
		}
		chars += stringChars(msg["content"]) + stringChars(msg["reasoning_content"])
		choice[key] = appendObject(nil, msg)
	}
	c["choices"] = appendArray(nil, choices)
	return chars, nil
}

// reportsUsage reports whether raw is a usage object with a token count.
func reportsUsage(raw json.RawMessage) bool {
	var u *FalUsage
	return len(raw) > 0 && json.Unmarshal(raw, &u) == nil && u != nil && u.TotalTokens > 0
}

// stringChars counts the characters of a JSON string; 0 for anything else.
func stringChars(raw json.RawMessage) int {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return 0
	}
	return utf8.RuneCountInString(s)
}

func isNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}
