package chat

import (
	"unicode/utf8"

	"github.com/falproxy/falproxy/internal/openai"
)

// charsPerToken is the rule of thumb for English text under GPT-style
// tokenizers. fal-ai/any-llm (and an OpenAI-compatible answer without
// usage) reports no token counts; clients that budget or bill by usage
// get this estimate instead of zeros.
const charsPerToken = 4

// EstimateUsage estimates token usage from the characters (Unicode
// characters) of the prompt sent to fal and of the text it returned:
// a quarter of each, rounded up.
func EstimateUsage(promptChars, completionChars int) *openai.Usage {
	p := (promptChars + charsPerToken - 1) / charsPerToken
	c := (completionChars + charsPerToken - 1) / charsPerToken
	return &openai.Usage{PromptTokens: p, CompletionTokens: c, TotalTokens: p + c}
}

// Usage is fal's reported usage, or, when fal reported none or only
// zeros, EstimateUsage of the prompt and answer characters.
func Usage(reported *FalUsage, promptChars, completionChars int) *openai.Usage {
	if reported == nil || reported.TotalTokens == 0 {
		return EstimateUsage(promptChars, completionChars)
	}
	return reported.OpenAI()
}

// Chars counts the characters of the answer: its output and reasoning.
func (o FalOutput) Chars() int {
	return utf8.RuneCountInString(o.Output) + utf8.RuneCountInString(o.Reasoning)
}

// PromptChars counts the characters of the prompt fal receives for f.
func (f Folded) PromptChars() int {
	return utf8.RuneCountInString(f.Prompt) + utf8.RuneCountInString(f.SystemPrompt)
}

// MessageChars counts the characters of the messages' text: string
// content, text parts and tool-call arguments.
func MessageChars(msgs []openai.Message) int {
	n := 0
	for _, m := range msgs {
		n += utf8.RuneCountInString(m.Content.Text)
		for _, p := range m.Content.Parts {
			n += utf8.RuneCountInString(p.Text)
		}
		for _, tc := range m.ToolCalls {
			n += utf8.RuneCountInString(tc.Function.Arguments)
		}
	}
	return n
}

// Chars counts the characters the stream has sent so far: content and
// reasoning.
func (s *Stream) Chars() int { return s.texts.Chars() }

// Chars counts the characters of the deltas so far: content and
// reasoning.
func (d *Deltas) Chars() int {
	return utf8.RuneCountInString(d.output) + utf8.RuneCountInString(d.reasoning)
}
