package falfake

import (
	"fmt"
	"iter"
	"strings"
)

// reply is the emulator's deterministic answer to a prompt, cut into the
// pieces (one per token) that streams send.
type reply struct {
	reasoning    []string
	output       []string
	truncated    bool // max_tokens cut the output
	promptTokens int
	model        string
	costMicros   int64 // what the tokens cost, reported in usage.cost
}

// maxEcho is how many of the prompt's last words the answer repeats.
const maxEcho = 40

// composeReply builds the answer of model to a prompt: a greeting naming
// the model that repeats the end of the prompt, so callers can check what
// arrived. With reasoning, a short reasoning text comes first. maxTokens,
// when positive, caps the output pieces.
func composeReply(modelName, prompt, system string, reasoning bool, maxTokens int) reply {
	words := strings.Fields(prompt)
	text := fmt.Sprintf("Hello from %s on the fal emulator.", modelName)
	if len(words) > 0 {
		text += " You said: " + strings.Join(words[max(0, len(words)-maxEcho):], " ")
	}
	r := reply{output: pieces(text), promptTokens: len(words) + len(strings.Fields(system)), model: modelName}
	if reasoning {
		r.reasoning = pieces(fmt.Sprintf("The message has %d words. A short answer that repeats it will do.", len(words)))
	}
	if maxTokens > 0 && len(r.output) > maxTokens {
		r.output, r.truncated = r.output[:maxTokens], true
	}
	return r
}

// pieces splits text into words that keep their trailing space, so that
// joining them gives the text back.
func pieces(text string) []string { return strings.SplitAfter(text, " ") }

func (r reply) text() string          { return strings.Join(r.output, "") }
func (r reply) reasoningText() string { return strings.Join(r.reasoning, "") }

// llmUsage is the token accounting openrouter/router returns.
type llmUsage struct {
	PromptTokens     int     `json:"prompt_tokens"`
	CompletionTokens int     `json:"completion_tokens"`
	TotalTokens      int     `json:"total_tokens"`
	Cost             float64 `json:"cost"`
}

// usage counts words as tokens, at the price set by pricedReply.
func (r reply) usage() llmUsage {
	completion := len(r.output) + len(r.reasoning)
	total := r.promptTokens + completion
	return llmUsage{
		PromptTokens:     r.promptTokens,
		CompletionTokens: completion,
		TotalTokens:      total,
		Cost:             float64(r.costMicros) / 1e6,
	}
}

// llmEvent is one event of fal's LLM stream; output and reasoning are
// cumulative.
type llmEvent struct {
	Output    string    `json:"output"`
	Reasoning *string   `json:"reasoning,omitempty"`
	Partial   bool      `json:"partial"`
	Error     *string   `json:"error"`
	Usage     *llmUsage `json:"usage,omitempty"`
}

// events yields the stream: the reasoning growing (output still empty),
// then the output growing, then a final event with partial false and, when
// withUsage, the usage.
func (r reply) events(withReasoning, withUsage bool) iter.Seq[llmEvent] {
	return func(yield func(llmEvent) bool) {
		var reasoning string
		withR := func(e llmEvent) llmEvent {
			if withReasoning {
				e.Reasoning = new(reasoning)
			}
			return e
		}
		for _, p := range r.reasoning {
			reasoning += p
			if !yield(withR(llmEvent{Partial: true})) {
				return
			}
		}
		var out string
		for _, p := range r.output {
			out += p
			if !yield(withR(llmEvent{Output: out, Partial: true})) {
				return
			}
		}
		final := withR(llmEvent{Output: out})
		if withUsage {
			final.Usage = new(r.usage())
		}
		yield(final)
	}
}

// replyFor is the reply to an LLM endpoint's input.
func (m *model) replyFor(in node) reply {
	name, _ := m.param(in, "model").(string)
	if name == "" {
		name = m.id
	}
	prompt, _ := in["prompt"].(string)
	system, _ := in["system_prompt"].(string)
	reasoning, _ := m.param(in, "reasoning").(bool)
	maxTokens := intOf(m.param(in, "max_tokens"), 0)
	if text, isCall, ok := foldedToolReply(prompt, system); isCall {
		r := composeReply(name, prompt, system, reasoning, 0)
		r.output = pieces(text)
		return r
	} else if ok {
		prompt = text
	}
	return composeReply(name, prompt, system, reasoning, maxTokens)
}

// pricedReply is the reply of an LLM endpoint to its input, its usage
// costing what the emulator bills for it.
func (f *Fake) pricedReply(m *model, in node) reply {
	r := m.replyFor(in)
	r.costMicros = f.tokenCostMicros(m.id, r.model, r.usage().TotalTokens)
	return r
}

// llmOutcome is an LLM endpoint's whole output, as a sync run or a queue
// result returns it.
func (f *Fake) llmOutcome(x execution, in node) outcome {
	m := x.model
	r := f.pricedReply(m, in)
	out := node{"output": r.text(), "partial": false, "error": nil, "usage": r.usage()}
	if len(r.reasoning) > 0 {
		out["reasoning"] = r.reasoningText()
	}
	o := successOutcome(m.pick(out))
	o.tokenMicros = r.costMicros
	return o
}
