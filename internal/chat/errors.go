package chat

import (
	"fmt"

	"github.com/falproxy/falproxy/internal/openai"
)

// CodeContextLengthExceeded is the error code OpenAI uses when the input is
// too long for the model; Fold returns it when the newest user message does
// not fit the prompt limit.
const CodeContextLengthExceeded = "context_length_exceeded"

// messageParam names a field of message i, e.g. "messages[2].role".
func messageParam(i int, field string) string {
	return fmt.Sprintf("messages[%d].%s", i, field)
}

// partParam names a field of content part j of message i.
func partParam(i, j int, field string) string {
	return fmt.Sprintf("messages[%d].content[%d].%s", i, j, field)
}

// errNoMessages is the answer to an empty messages array.
func errNoMessages() *openai.Error {
	return openai.InvalidRequest("messages", "empty_array", "messages must contain at least one message.")
}

// errTooLong reports a part of the conversation that must go into the prompt
// whole but takes n characters, more than limit. what names that part.
func errTooLong(what string, n, limit int) *openai.Error {
	return openai.InvalidRequest("messages", CodeContextLengthExceeded,
		"%s takes %d characters, %d more than the prompt limit of %d characters; shorten it by at least %d characters.",
		what, n, n-limit, limit, n-limit)
}
