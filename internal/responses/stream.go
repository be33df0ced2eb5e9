package responses

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/openai"
)

// Event is one server-sent event of a Responses stream: its name and the
// JSON of its data.
type Event struct {
	Name string
	Data []byte
}

// Stream turns the chunks of one chat completion stream into the events of
// a Responses stream: response.created and response.in_progress, then for
// each output item (reasoning, message, function calls, in the order they
// start) its added, delta, done events, and at the end response.completed
// or response.incomplete carrying the whole response. Every event has a
// sequence_number one above the one before. A Stream is not safe for
// concurrent use.
type Stream struct {
	resp     Response
	seq      int
	open     *openItem         // the reasoning or message item receiving deltas
	calls    map[int]*openItem // function calls by their chat tool_call index
	order    []*openItem       // every item, in output order
	finish   string
	usage    *chatUsage
	finished bool
	// tools and filter read calls out of the text of a model that can
	// only answer text (see TextTools); tools is nil otherwise.
	tools  []Tool
	filter textCallFilter
}

// openItem is an output item still receiving deltas.
type openItem struct {
	index int
	item  OutputItem
	text  strings.Builder // message or reasoning text, or function arguments
	done  bool
}

// NewStream starts the stream of the response to req, bridged to a
// backend that takes function tools as tools says.
func NewStream(req *Request, created int64, tools ToolMode) *Stream {
	s := &Stream{resp: newResponse(req, created), calls: map[int]*openItem{}}
	if req.usesTextTools(tools) {
		s.tools = req.Tools
	}
	return s
}

// Response is the response as the events so far describe it; whole after
// End.
func (s *Stream) Response() Response { return s.resp }

// chatChunk is the part of a chat stream chunk Stream reads.
type chatChunk struct {
	Choices []struct {
		Delta struct {
			Content          string `json:"content"`
			ReasoningContent string `json:"reasoning_content"`
			Reasoning        string `json:"reasoning"` // OpenRouter's name for it
			ToolCalls        []struct {
				Index    int    `json:"index"`
				ID       string `json:"id"`
				Function struct {
					Name      string `json:"name"`
					Arguments string `json:"arguments"`
				} `json:"function"`
			} `json:"tool_calls"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *chatUsage `json:"usage"`
}

// Streamed is the estimated usage of the stream so far, the prompt of
// promptChars characters and the text of every output item (message,
// reasoning, function arguments), for a stream the client left before its
// end before fal's usage was charged: fal bills what the model wrote
// until then.
func (s *Stream) Streamed(promptChars int) *openai.Usage {
	n := 0
	for _, it := range s.order {
		n += utf8.RuneCountInString(it.text.String())
	}
	return chat.EstimateUsage(promptChars, n)
}

// Start returns response.created and response.in_progress.
func (s *Stream) Start() []Event {
	return []Event{
		s.event("response.created", map[string]any{"response": s.resp}),
		s.event("response.in_progress", map[string]any{"response": s.resp}),
	}
}

// Chunk returns the events for one chat chunk (its JSON), as chat's
// OpenAI-compatible backend sends it: its reasoning as reasoning_content
// or, as OpenRouter names it, reasoning. A chunk that is not JSON adds
// nothing.
func (s *Stream) Chunk(data []byte) []Event {
	var c chatChunk
	if json.Unmarshal(data, &c) != nil {
		return nil
	}
	if c.Usage != nil {
		s.usage = c.Usage
	}
	var evs []Event
	for _, ch := range c.Choices {
		d := ch.Delta
		if d.ReasoningContent == "" {
			d.ReasoningContent = d.Reasoning
		}
		evs = s.appendDelta(evs, d.Content, d.ReasoningContent)
		for _, tc := range d.ToolCalls {
			evs = s.callDelta(evs, tc.Index, tc.ID, tc.Function.Name, tc.Function.Arguments)
		}
		if ch.FinishReason != nil {
			s.finish = *ch.FinishReason
		}
	}
	return evs
}

// Delta returns the events for a delta of an answer's text and reasoning,
// as the folding backends' streams give them (Chunk reads the same from
// a chat chunk).
func (s *Stream) Delta(content, reasoning string) []Event {
	return s.appendDelta(nil, content, reasoning)
}

func (s *Stream) appendDelta(evs []Event, content, reasoning string) []Event {
	if reasoning != "" {
		evs = s.textDelta(evs, "reasoning", reasoning)
	}
	if text := s.visible(content); text != "" {
		evs = s.textDelta(evs, "message", text)
	}
	return evs
}

// Finish returns the last events, as End, of an answer that finished for
// reason ("" keeps the reason a chunk gave) with usage (nil keeps the
// usage a chunk gave).
func (s *Stream) Finish(reason string, usage *openai.Usage) []Event {
	if reason != "" {
		s.finish = reason
	}
	if usage != nil {
		s.usage = &chatUsage{Usage: *usage}
	}
	return s.End()
}

// visible is the part of a text delta to send now: all of it, unless
// calls are read from the text, which then holds back what may be one.
func (s *Stream) visible(delta string) string {
	if s.tools == nil || delta == "" {
		return delta
	}
	return s.filter.write(delta)
}

// textDelta adds text to the open item of kind ("message" or
// "reasoning"), opening it first (and closing another open one).
func (s *Stream) textDelta(evs []Event, kind, text string) []Event {
	if s.open == nil || s.open.item.Type != kind {
		evs = s.closeOpen(evs)
		it := &openItem{index: len(s.order)}
		part := map[string]any{"type": "reasoning_text", "text": ""}
		if kind == "message" {
			it.item = messageItem(newMessageID(), "", "in_progress")
			it.item.Content = []OutputPart{}
			part = map[string]any{"type": "output_text", "text": "", "annotations": []any{}, "logprobs": []any{}}
		} else {
			it.item = reasoningItem(newReasonID(), "")
			it.item.Content = []OutputPart{}
		}
		s.open = it
		s.order = append(s.order, it)
		evs = append(evs,
			s.event("response.output_item.added", map[string]any{"output_index": it.index, "item": it.item}),
			s.event("response.content_part.added", map[string]any{"item_id": it.item.ID, "output_index": it.index, "content_index": 0, "part": part}))
	}
	if text == "" {
		return evs
	}
	s.open.text.WriteString(text)
	d := deltaEvent{ItemID: s.open.item.ID, OutputIndex: s.open.index, ContentIndex: new(0), Delta: text}
	if kind == "message" {
		d.Logprobs = &[]struct{}{}
		return append(evs, s.delta("response.output_text.delta", d))
	}
	return append(evs, s.delta("response.reasoning_text.delta", d))
}

// callDelta adds to the function call at chat's tool_call index, opening
// it on its first chunk.
func (s *Stream) callDelta(evs []Event, index int, callID, name, args string) []Event {
	it, ok := s.calls[index]
	if !ok {
		evs = s.closeOpen(evs)
		if callID == "" {
			callID = fmt.Sprintf("call_%d", index)
		}
		it = &openItem{index: len(s.order), item: functionCallItem(newCallID(), callID, name, "", "in_progress")}
		s.calls[index] = it
		s.order = append(s.order, it)
		evs = append(evs, s.event("response.output_item.added", map[string]any{"output_index": it.index, "item": it.item}))
	} else if name != "" && it.item.Name == "" {
		it.item.Name = name
	}
	if args == "" {
		return evs
	}
	it.text.WriteString(args)
	return append(evs, s.delta("response.function_call_arguments.delta", deltaEvent{ItemID: it.item.ID, OutputIndex: it.index, Delta: args}))
}

// closeOpen ends the open message or reasoning item.
func (s *Stream) closeOpen(evs []Event) []Event {
	it := s.open
	if it == nil {
		return evs
	}
	s.open = nil
	text := it.text.String()
	if it.item.Type == "message" {
		it.item = messageItem(it.item.ID, text, "completed")
		evs = append(evs, s.event("response.output_text.done", map[string]any{
			"item_id": it.item.ID, "output_index": it.index, "content_index": 0, "text": text, "logprobs": []any{}}))
	} else {
		it.item = reasoningItem(it.item.ID, text)
		evs = append(evs, s.event("response.reasoning_text.done", map[string]any{
			"item_id": it.item.ID, "output_index": it.index, "content_index": 0, "text": text}))
	}
	return s.itemDone(append(evs, s.event("response.content_part.done", map[string]any{
		"item_id": it.item.ID, "output_index": it.index, "content_index": 0, "part": it.item.Content[0]})), it)
}

// itemDone sends output_item.done and puts the item into the response at
// its output_index: items finish in another order than they start (a
// message written after a function call began finishes first), and
// clients, the store included, read the output by index.
func (s *Stream) itemDone(evs []Event, it *openItem) []Event {
	it.done = true
	out := make([]OutputItem, 0, len(s.order))
	for _, o := range s.order {
		if o.done {
			out = append(out, o.item)
		}
	}
	s.resp.Output = out
	return append(evs, s.event("response.output_item.done", map[string]any{"output_index": it.index, "item": it.item}))
}

// End closes every open item and returns the last events, ending in
// response.completed, or response.incomplete when the answer was cut at
// max_output_tokens. An answer with no output at all gets an empty
// message, so that clients find the text they look for.
func (s *Stream) End() []Event {
	if s.finished {
		return nil
	}
	s.finished = true
	var evs []Event
	if s.tools != nil {
		text, calls := s.filter.finish(s.tools)
		if text != "" {
			evs = s.textDelta(evs, "message", text)
		}
		for i, c := range calls {
			evs = s.callDelta(evs, len(s.calls)+i, newToolCallID(), c.name, c.arguments)
		}
		if len(calls) > 0 {
			s.finish = "tool_calls"
		}
	}
	if len(s.order) == 0 {
		evs = s.textDelta(evs, "message", "")
	}
	evs = s.closeOpen(evs)
	for _, it := range s.order {
		if it.done {
			continue
		}
		args := it.text.String()
		it.item.Arguments, it.item.Status = &args, "completed"
		evs = append(evs, s.event("response.function_call_arguments.done", map[string]any{
			"item_id": it.item.ID, "output_index": it.index, "name": it.item.Name, "arguments": args}))
		evs = s.itemDone(evs, it)
	}
	s.resp.finish(s.finish, s.usage.responsesUsage())
	name := "response.completed"
	if s.resp.Status == "incomplete" {
		name = "response.incomplete"
	}
	return append(evs, s.event(name, map[string]any{"response": s.resp}))
}

// Fail returns response.failed carrying e, the event that ends a stream
// whose answer broke off; the output so far stays in the response. It
// reports false, with no event, once the stream has ended.
func (s *Stream) Fail(e *openai.Error) (Event, bool) {
	if s.finished {
		return Event{}, false
	}
	s.finished = true
	s.resp.Status, s.resp.Error = "failed", failure(e)
	return s.event("response.failed", map[string]any{"response": s.resp}), true
}

// failure is the error a failed response carries: e's code, or
// "server_error" when it has none, and its message.
func failure(e *openai.Error) *ResponseError {
	code := e.Code
	if code == "" {
		code = "server_error"
	}
	return &ResponseError{Code: code, Message: e.Message}
}

// deltaEvent is the data of the events that carry a piece of text or
// arguments: the most frequent events of a stream, encoded from a struct
// rather than a map. ContentIndex is absent from function call deltas,
// Logprobs present in output text deltas only.
type deltaEvent struct {
	Type           string      `json:"type"`
	SequenceNumber int         `json:"sequence_number"`
	ItemID         string      `json:"item_id"`
	OutputIndex    int         `json:"output_index"`
	ContentIndex   *int        `json:"content_index,omitempty"`
	Delta          string      `json:"delta"`
	Logprobs       *[]struct{} `json:"logprobs,omitempty"`
}

// delta stamps d with its type and the next sequence number.
func (s *Stream) delta(name string, d deltaEvent) Event {
	d.Type, d.SequenceNumber = name, s.seq
	s.seq++
	b, err := json.Marshal(d)
	if err != nil {
		panic(fmt.Sprintf("responses: encoding an event: %v", err)) // strings and numbers only
	}
	return Event{Name: name, Data: b}
}

// event stamps data with its type and the next sequence number.
func (s *Stream) event(name string, data map[string]any) Event {
	data["type"] = name
	data["sequence_number"] = s.seq
	s.seq++
	b, err := json.Marshal(data)
	if err != nil {
		// Only strings, numbers and the package's own types are
		// marshalled here, for which encoding/json cannot fail.
		panic(fmt.Sprintf("responses: encoding an event: %v", err))
	}
	return Event{Name: name, Data: b}
}
