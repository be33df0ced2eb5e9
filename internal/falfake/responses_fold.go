package falfake

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/falproxy/falproxy/internal/responses"
)

// foldedToolReply is how the emulated LLM endpoints follow tools declared
// in the system prompt: a folded conversation whose newest turn is the
// user's asking to "call <name>" of a declared function is answered with
// the tagged call the declaration asks for; one whose newest turn is a
// tool's output, with that output. It reports false for any other
// conversation, which gets the usual reply.
func foldedToolReply(prompt, system string) (reply string, isCall, ok bool) {
	turns := strings.Split(strings.TrimSpace(prompt), "\n\n")
	last := turns[len(turns)-1]
	if _, out, found := strings.Cut(last, "): "); strings.HasPrefix(last, "Tool (") && found {
		return "the tool answered " + out, false, true
	}
	human, isHuman := strings.CutPrefix(last, "Human: ")
	if !isHuman {
		return "", false, false
	}
	call, found := callFor(human, promptTools(system))
	if !found {
		return "", false, false
	}
	// The call is written with spaces, so that a stream sends it in several
	// pieces, as a model does.
	args := strings.ReplaceAll(call.arguments, `":"`, `": "`)
	return `<tool_call>{"name": "` + call.name + `", "arguments": ` + args + `}</tool_call>`, true, true
}

// promptTools reads the functions a system prompt declares after
// responses.ToolsPromptIntro (as falproxy's Responses bridge writes it for
// the folding LLM endpoints, which take no tools), one a line: "- name:
// description Parameters (JSON Schema): {...}".
func promptTools(system string) []declaredTool {
	_, decl, ok := strings.Cut(system, responses.ToolsPromptIntro)
	if !ok {
		return nil
	}
	var tools []declaredTool
	for line := range strings.Lines(decl) {
		rest, isTool := strings.CutPrefix(line, "- ")
		name, rest, hasName := strings.Cut(rest, ": ")
		if !isTool || !hasName {
			continue
		}
		t := declaredTool{name: name}
		if _, schema, found := strings.Cut(rest, "Parameters (JSON Schema): "); found {
			var p struct {
				Properties map[string]json.RawMessage `json:"properties"`
			}
			if json.Unmarshal([]byte(strings.TrimSpace(schema)), &p) == nil {
				t.params = slices.Sorted(maps.Keys(p.Properties))
			}
		}
		tools = append(tools, t)
	}
	return tools
}
