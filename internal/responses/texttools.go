package responses

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// The folding backends (openrouter/router, fal-ai/any-llm) take a prompt,
// not tools. For them the bridge declares the function tools in a system
// message that asks the model to answer a call as a tagged line of JSON,
//
//	<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>
//
// and reads such lines back out of the answer as function calls. Earlier
// calls and their outputs reach the model as the folded conversation
// renders them.
const (
	callOpen  = "<tool_call>"
	callClose = "</tool_call>"
)

// ToolsPromptIntro opens the system message that declares the tools; the
// fal emulator's folding LLMs find the declarations by it.
const ToolsPromptIntro = "You can call functions."

// toolsPrompt is the system message declaring tools to a model that can
// only answer text; choice is the request's tool_choice.
func toolsPrompt(tools []Tool, choice json.RawMessage) string {
	var b strings.Builder
	b.WriteString(ToolsPromptIntro + " To call one, answer with nothing but one line per call:\n")
	b.WriteString(callOpen + `{"name": "<function name>", "arguments": {<the arguments as JSON>}}` + callClose + "\n")
	b.WriteString("Each call's result comes back in a later message. The functions:\n")
	for _, t := range tools {
		fmt.Fprintf(&b, "- %s: %s", t.Name, t.Description)
		if len(t.Parameters) > 0 {
			fmt.Fprintf(&b, " Parameters (JSON Schema): %s", t.Parameters)
		}
		b.WriteByte('\n')
	}
	var mode string
	var fn struct {
		Name string `json:"name"`
	}
	switch {
	case json.Unmarshal(choice, &mode) == nil && mode == "required":
		b.WriteString("You must call at least one of them now.\n")
	case json.Unmarshal(choice, &fn) == nil && fn.Name != "":
		fmt.Fprintf(&b, "You must call %s now.\n", fn.Name)
	}
	return b.String()
}

// usesTextTools reports whether req declares tools to a model that answers
// only text (TextTools) and lets it call them.
func (r *Request) usesTextTools(tools ToolMode) bool {
	var mode string
	return tools == TextTools && len(r.Tools) > 0 && (json.Unmarshal(r.ToolChoice, &mode) != nil || mode != "none")
}

// textCall is a function call read from a model's text.
type textCall struct {
	name, arguments string
}

// parseTextCalls splits a model's text into the text outside the tagged
// calls and the calls of declared functions. A tagged block that is not
// such a call leaves the whole text as text: the model meant something
// else.
func parseTextCalls(text string, tools []Tool) (rest string, calls []textCall) {
	var outside strings.Builder
	s := text
	for {
		i := strings.Index(s, callOpen)
		if i < 0 {
			break
		}
		j := strings.Index(s[i:], callClose)
		if j < 0 {
			return text, nil
		}
		call, ok := readTextCall(s[i+len(callOpen):i+j], tools)
		if !ok {
			return text, nil
		}
		calls = append(calls, call)
		outside.WriteString(s[:i])
		s = s[i+j+len(callClose):]
	}
	if len(calls) == 0 {
		return text, nil
	}
	outside.WriteString(s)
	rest = strings.TrimSpace(outside.String())
	if strings.TrimSpace(unfence(rest)) == "" {
		rest = "" // the calls were wrapped in a code block
	}
	return rest, calls
}

// unfence is s without the Markdown code fence lines (```, ```json) that
// open and close it, when it has them; models often wrap a call in one.
func unfence(s string) string {
	s = strings.TrimSpace(s)
	if body, ok := strings.CutPrefix(s, "```"); ok {
		_, body, _ = strings.Cut(body, "\n") // the fence line, with its language
		s = body
	}
	return strings.TrimSuffix(strings.TrimSpace(s), "```")
}

// readTextCall reads the JSON inside one tagged block.
func readTextCall(body string, tools []Tool) (textCall, bool) {
	var c struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	}
	if json.Unmarshal([]byte(unfence(body)), &c) != nil || !slices.ContainsFunc(tools, func(t Tool) bool { return t.Name == c.Name }) {
		return textCall{}, false
	}
	args := "{}"
	var s string
	var compact bytes.Buffer
	switch {
	case json.Unmarshal(c.Arguments, &s) == nil:
		args = s
	case len(c.Arguments) > 0 && string(c.Arguments) != "null" && json.Compact(&compact, c.Arguments) == nil:
		args = compact.String()
	}
	return textCall{name: c.Name, arguments: args}, true
}

// textCallFilter holds back the part of a streamed text that is, or may
// become, a tagged call, and passes the rest on as it comes.
type textCallFilter struct {
	held    strings.Builder
	calling bool // a call's opening tag arrived: hold everything to the end
}

// write returns the text that can be sent now.
func (f *textCallFilter) write(delta string) string {
	f.held.WriteString(delta)
	if f.calling {
		return ""
	}
	s := f.held.String()
	if strings.Contains(s, callOpen) {
		f.calling = true
		i := strings.Index(s, callOpen)
		f.held.Reset()
		f.held.WriteString(s[i:])
		return s[:i]
	}
	keep := partialTagAt(s)
	f.held.Reset()
	f.held.WriteString(s[keep:])
	return s[:keep]
}

// partialTagAt is where the longest end of s that begins the opening tag
// starts; len(s) when none does.
func partialTagAt(s string) int {
	for n := min(len(callOpen)-1, len(s)); n > 0; n-- {
		if strings.HasSuffix(s, callOpen[:n]) {
			return len(s) - n
		}
	}
	return len(s)
}

// finish returns what was held: the text after the calls (or all of it
// when it held no valid call) and the calls.
func (f *textCallFilter) finish(tools []Tool) (string, []textCall) {
	return parseTextCalls(f.held.String(), tools)
}
