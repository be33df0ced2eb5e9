package chat

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/falproxy/falproxy/internal/jsonscan"
	"github.com/falproxy/falproxy/internal/jsonstr"
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
	names := make([]string, 0, len(fields)+2)
	size := len(falModel) + len(`{"model":"","reasoning_effort":"medium"}`)
	for name, v := range fields {
		switch {
		case !passthroughFields[name]:
			dropped = append(dropped, name)
		case name != "model":
			names = append(names, name)
			size += len(name) + len(v) + len(`"":,`)
		}
	}
	_, effortSet := fields["reasoning_effort"]
	medium := !effortSet && bytes.Equal(bytes.TrimSpace(fields["reasoning"]), []byte("true"))
	if names = append(names, "model"); medium {
		names = append(names, "reasoning_effort")
	}
	slices.Sort(names)
	slices.Sort(dropped)
	// Written as json.Marshal writes a map[string]json.RawMessage: names
	// sorted, values compacted and HTML-escaped.
	body = append(make([]byte, 0, size), '{')
	for i, name := range names {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(jsonstr.Marshal.Append(body, name), ':')
		switch {
		case name == "model":
			body = jsonstr.Marshal.Append(body, falModel)
		case name == "reasoning_effort" && medium:
			body = append(body, `"medium"`...)
		default:
			body = appendValid(body, fields[name])
		}
	}
	return append(body, '}'), dropped, nil
}

// PassthroughAnswer rewrites fal's whole OpenAI-compatible answer for the
// client: "model" is the name the client asked for, reasoning that fal
// returned as "reasoning" is returned as "reasoning_content", and usage,
// when fal reported none (or only zeros), is estimated from promptChars
// and the text returned (see EstimateUsage). The answer is written as
// json.Marshal writes the maps json.Unmarshal makes of it: members sorted
// by name, values compacted and HTML-escaped.
//
// usage holds the values, as written in the answer, of the members that
// encoding/json reads as the answer's "usage" (it matches names
// regardless of case), in order: the caller reads the usage reported
// from them without decoding the whole answer again.
func PassthroughAnswer(body []byte, model string, promptChars int) (answer []byte, usage []json.RawMessage, err error) {
	var buf [16]member
	top, err := documentMembers(buf[:], body)
	if err != nil {
		return nil, nil, err
	}
	r := rewrite{model: model, key: "message", promptChars: promptChars, usage: &usage}
	if i, ok := findMember(top, "usage"); !ok || !reportsUsage(top[i].value) {
		r.estimate = true
		top = withMember(top, "usage")
	}
	if answer, err = r.appendDocument(body, top); err != nil {
		return nil, nil, err
	}
	return answer, usage, nil
}

// errNotJSONObject is a passthrough answer, or a part of it, that is not
// the JSON object it must be.
var errNotJSONObject = errors.New("not a JSON object")

// documentMembers returns the members of the JSON object doc (see
// objectMembers), checking first that doc is valid JSON.
func documentMembers(buf []member, doc []byte) ([]member, error) {
	if !json.Valid(doc) {
		return nil, errNotJSONObject
	}
	ms, ok := objectMembers(buf, doc)
	if !ok {
		return nil, errNotJSONObject
	}
	return ms, nil
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
	var buf [16]member
	top, err := documentMembers(buf[:], data)
	if err != nil {
		return data
	}
	r := rewrite{model: p.model, key: "delta", promptChars: p.promptChars, sent: p.chars}
	u, hasUsage := findMember(top, "usage")
	hasUsage = hasUsage && !isNull(top[u].value)
	reported := hasUsage && reportsUsage(top[u].value)
	r.estimate = hasUsage && p.includeUsage && !reported
	out, err := r.appendDocument(data, top)
	if err != nil {
		return data
	}
	p.chars += r.chars
	if p.id == "" {
		if i, ok := findMember(top, "id"); ok {
			_ = json.Unmarshal(top[i].value, &p.id)
		}
		if i, ok := findMember(top, "created"); ok {
			_ = json.Unmarshal(top[i].value, &p.created)
		}
	}
	p.usageSent = p.usageSent || hasUsage
	return out
}

// Streamed is the estimated usage of the stream so far, the prompt and
// the content and reasoning sent, for a stream the client left before
// fal's usage was charged: fal bills what the model wrote until then.
func (p *PassthroughStream) Streamed() *openai.Usage {
	return EstimateUsage(p.promptChars, p.chars)
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

// rewrite is the rewrite of one answer or stream chunk of fal's
// OpenAI-compatible route, written in one pass over its members: "model"
// set to the client's name, each choice's message (or delta) with
// "reasoning" renamed "reasoning_content" when the latter is absent, and
// usage estimated when asked. Members are written sorted by name, so the
// choices, whose characters the estimate counts, come before "usage".
type rewrite struct {
	model       string // the name the client asked for
	key         string // "message" in a whole answer, "delta" in a chunk
	promptChars int
	sent        int  // characters of content and reasoning in earlier chunks
	chars       int  // characters of content and reasoning in the choices
	estimate    bool // "usage" is written as EstimateUsage of the characters
	// usage, when set, gets the values of the members encoding/json
	// reads as "usage" (see PassthroughAnswer).
	usage *[]json.RawMessage
}

// appendDocument writes the rewrite of doc, whose members are top, into a
// new buffer with room for a usage estimate.
func (r *rewrite) appendDocument(doc []byte, top []member) ([]byte, error) {
	top = withMember(top, "model")
	return appendMembers(make([]byte, 0, len(doc)+len(r.model)+128), top, r.appendTopValue)
}

// appendTopValue writes the value of a top-level member. The bytes of
// what it writes stay as they are when dst grows, so that usage can keep
// slices of them.
func (r *rewrite) appendTopValue(dst []byte, m member) ([]byte, error) {
	start := len(dst)
	var err error
	switch string(m.name) {
	case "model":
		dst = jsonstr.Marshal.Append(dst, r.model)
	case "choices":
		dst, err = r.appendChoices(dst, m.value)
	case "usage":
		if r.estimate {
			dst = appendUsage(dst, EstimateUsage(r.promptChars, r.sent+r.chars))
			break
		}
		dst = appendValid(dst, m.value)
	default:
		dst = appendValid(dst, m.value)
	}
	if r.usage != nil && bytes.EqualFold(m.name, []byte("usage")) {
		*r.usage = append(*r.usage, dst[start:len(dst):len(dst)])
	}
	return dst, err
}

// appendChoices writes the choices, each an object or null; null choices
// are left as they are.
func (r *rewrite) appendChoices(dst []byte, choices []byte) ([]byte, error) {
	if isNull(choices) {
		return append(dst, "null"...), nil
	}
	dst = append(dst, '[')
	n := 0
	ok, err := jsonscan.EachElement(choices, func(choice []byte) error {
		if n++; n > 1 {
			dst = append(dst, ',')
		}
		if isNull(choice) {
			dst = append(dst, "null"...)
			return nil
		}
		var buf [16]member
		ms, ok := objectMembers(buf[:], choice)
		if !ok {
			return errNotJSONObject
		}
		var err error
		dst, err = appendMembers(dst, ms, r.appendChoiceValue)
		return err
	})
	if !ok {
		return dst, errNotJSONObject
	}
	return append(dst, ']'), err
}

// appendChoiceValue writes the value of a member of a choice.
func (r *rewrite) appendChoiceValue(dst []byte, m member) ([]byte, error) {
	if string(m.name) != r.key {
		return appendMemberValue(dst, m)
	}
	var buf [16]member
	msg, ok := objectMembers(buf[:], m.value)
	if !ok {
		return appendValid(dst, m.value), nil
	}
	if i, ok := findMember(msg, "reasoning"); ok && !isNull(msg[i].value) {
		if _, has := findMember(msg, "reasoning_content"); !has {
			msg[i].name = reasoningContent
			sortMembers(msg)
		}
	}
	for _, name := range [...]string{"content", "reasoning_content"} {
		if i, ok := findMember(msg, name); ok {
			r.chars += stringChars(msg[i].value)
		}
	}
	return appendMembers(dst, msg, appendMemberValue)
}

var reasoningContent = []byte("reasoning_content")

// appendUsage appends u as json.Marshal writes it.
func appendUsage(dst []byte, u *openai.Usage) []byte {
	dst = strconv.AppendInt(append(dst, `{"prompt_tokens":`...), int64(u.PromptTokens), 10)
	dst = strconv.AppendInt(append(dst, `,"completion_tokens":`...), int64(u.CompletionTokens), 10)
	dst = strconv.AppendInt(append(dst, `,"total_tokens":`...), int64(u.TotalTokens), 10)
	return append(dst, '}')
}

// reportsUsage reports whether raw is a usage object with a token count,
// as FalUsage reads it. One of plain names and numbers, as fal writes it,
// is read without encoding/json's reflection.
func reportsUsage(raw []byte) bool {
	if u, ok := readPlainUsage(raw); ok {
		return u.TotalTokens > 0
	}
	var u *FalUsage
	return len(raw) > 0 && json.Unmarshal(raw, &u) == nil && u != nil && u.TotalTokens > 0
}

// readPlainUsage reads raw, a valid JSON value, as json.Unmarshal reads it
// into a FalUsage, when raw is an object whose names are ASCII and whose
// counts (and cost) are numbers or null: names matched regardless of case,
// members read in order, so that the last of duplicates stands and null
// clears a count. ok is false for any other value, left to encoding/json.
func readPlainUsage(raw []byte) (u FalUsage, ok bool) {
	var counts [len(usageNames) - 1]float64 // as usageCounts orders them
	var read [len(counts)]bool
	var cost float64
	ok, err := jsonscan.EachField(raw, usageNames[:], func(i int, value []byte) error {
		switch {
		case isNull(value):
			if i < len(read) {
				read[i] = false
			}
			return nil
		case value[0] != '-' && (value[0] < '0' || value[0] > '9'):
			return errNotPlain
		}
		f, err := strconv.ParseFloat(string(value), 64)
		switch {
		case err != nil:
			return errNotPlain
		case i == len(counts):
			cost = f
		default:
			counts[i], read[i] = f, true
		}
		return nil
	})
	if !ok || err != nil {
		return FalUsage{}, false
	}
	count := func(i int) *float64 {
		if !read[i] {
			return nil
		}
		return &counts[i]
	}
	w := usageCounts{PromptTokens: count(0), InputTokens: count(1), CompletionTokens: count(2), OutputTokens: count(3),
		TotalTokens: count(4), Cost: cost}
	return w.usage(), true
}

// errNotPlain stops readPlainUsage at what it leaves to encoding/json.
var errNotPlain = errors.New("not a plain usage object")

// usageNames are the names usageCounts reads, in the order of its counts,
// then "cost".
var usageNames = [...]string{"prompt_tokens", "input_tokens", "completion_tokens", "output_tokens", "total_tokens", "cost"}

// stringChars counts the characters of a JSON string; 0 for anything else.
// Only a string with escapes is decoded: utf8.RuneCount counts each byte
// of invalid UTF-8 as one character, as decoding turns each into U+FFFD.
func stringChars(raw []byte) int {
	if len(raw) >= 2 && raw[0] == '"' && bytes.IndexByte(raw, '\\') < 0 {
		return utf8.RuneCount(raw[1 : len(raw)-1])
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return 0
	}
	return utf8.RuneCountInString(s)
}

func isNull(raw []byte) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}
