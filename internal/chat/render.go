package chat

import (
	"strings"
	"unicode/utf8"

	"github.com/falproxy/falproxy/internal/openai"
)

// kind groups the chat roles by how they are rendered.
type kind uint8

const (
	kindUnknown   kind = iota
	kindSystem         // system, developer
	kindUser           // user
	kindAssistant      // assistant
	kindTool           // tool, function (the deprecated name for a tool result)
)

// roleKind maps a message role to its kind. Roles are matched exactly, as
// OpenAI does.
func roleKind(role string) kind {
	switch role {
	case "system", "developer":
		return kindSystem
	case "user":
		return kindUser
	case "assistant":
		return kindAssistant
	case "tool", "function":
		return kindTool
	}
	return kindUnknown
}

// Placeholders written into the text for content parts fal cannot read as
// text. Images are also sent to fal as image_urls; the placeholder keeps
// their position in the conversation visible to the model.
const (
	imagePlaceholder = "[image]"
	audioPlaceholder = "[audio]"
	filePlaceholder  = "[file]"
)

// block is one conversation message rendered into transcript.text, starting
// at byte offset start and ending where the next block starts.
type block struct {
	start int  // byte offset in transcript.text
	runes int  // length in Unicode characters
	msg   int  // index of the message in the request
	user  bool // a user message
}

// imageRef is an image URL found in message msg.
type imageRef struct {
	msg    int
	system bool // found in a system message, which Fold always keeps
	url    string
}

// transcript is a request's messages rendered as the seed's text blocks:
// "System: ...\n\n" blocks concatenated in system, and "Human: ...\n\n",
// "Assistant: ...\n\n" and "Tool (id): ...\n\n" blocks back to back in text.
// Rendering everything into two buffers keeps Fold to a handful of
// allocations however long the conversation is.
type transcript struct {
	system []byte
	text   []byte
	blocks []block
	images []imageRef
}

// add renders message i. It fails only for an unknown role or an unusable
// image URL.
func (t *transcript) add(m *openai.Message, i int) *openai.Error {
	k := roleKind(m.Role)
	if k == kindUnknown {
		return openai.InvalidRequest(messageParam(i, "role"), "invalid_value",
			"Invalid value %q for messages[%d].role: expected one of system, developer, user, assistant or tool.", m.Role, i)
	}
	if k == kindSystem {
		var err *openai.Error
		t.system = append(t.system, "System: "...)
		if t.system, err = t.appendContent(t.system, m.Content, i, true); err != nil {
			return err
		}
		t.system = append(t.system, "\n\n"...)
		return nil
	}
	start := len(t.text)
	var err *openai.Error
	switch k {
	case kindUser:
		t.text = append(t.text, "Human: "...)
		t.text, err = t.appendContent(t.text, m.Content, i, false)
	case kindAssistant:
		err = t.appendAssistant(m, i, start)
	case kindTool:
		t.text = appendToolHeader(t.text, m)
		t.text, err = t.appendContent(t.text, m.Content, i, false)
	}
	if err != nil {
		return err
	}
	t.text = append(t.text, "\n\n"...)
	t.blocks = append(t.blocks, block{
		start: start,
		runes: utf8.RuneCount(t.text[start:]),
		msg:   i,
		user:  k == kindUser,
	})
	return nil
}

// appendAssistant renders an assistant message: "Assistant: <content>",
// then one line per tool call, `Assistant called get_weather({"city":"Paris"}) (call_1)`.
// A message with tool calls and no content has only the call lines; one with
// neither keeps the seed's "Assistant: " so that every message leaves a trace.
func (t *transcript) appendAssistant(m *openai.Message, i, start int) *openai.Error {
	var err *openai.Error
	t.text = append(t.text, "Assistant: "...)
	mark := len(t.text)
	if t.text, err = t.appendContent(t.text, m.Content, i, false); err != nil {
		return err
	}
	if len(t.text) == mark && len(m.ToolCalls) > 0 {
		t.text = t.text[:start]
	}
	for _, c := range m.ToolCalls {
		if len(t.text) > start {
			t.text = append(t.text, '\n')
		}
		t.text = append(t.text, "Assistant called "...)
		t.text = appendText(t.text, c.Function.Name)
		t.text = append(t.text, '(')
		t.text = appendText(t.text, c.Function.Arguments)
		t.text = append(t.text, ')')
		if c.ID != "" {
			t.text = append(t.text, " ("...)
			t.text = appendText(t.text, c.ID)
			t.text = append(t.text, ')')
		}
	}
	return nil
}

// appendToolHeader writes "Tool (<tool_call_id>): ", naming the call the
// result answers so the model can pair them; the deprecated function role
// is named by its function name instead.
func appendToolHeader(dst []byte, m *openai.Message) []byte {
	ref := m.ToolCallID
	if ref == "" {
		ref = m.Name
	}
	if ref == "" {
		return append(dst, "Tool: "...)
	}
	dst = append(dst, "Tool ("...)
	dst = appendText(dst, ref)
	return append(dst, "): "...)
}

// appendContent renders message content: a string as is, an array with its
// parts joined by "\n". Text parts give their text; image_url parts give
// "[image]" and record their URL; input_audio and file parts give "[audio]"
// and "[file]"; any other part gives its text, or "[<type>]" when it has
// none.
func (t *transcript) appendContent(dst []byte, c openai.Content, i int, system bool) ([]byte, *openai.Error) {
	if !c.IsParts {
		return appendText(dst, c.Text), nil
	}
	for j, p := range c.Parts {
		if j > 0 {
			dst = append(dst, '\n')
		}
		switch p.Type {
		case "text":
			dst = appendText(dst, p.Text)
		case "image_url":
			url, err := imageURL(p.ImageURL, i, j)
			if err != nil {
				return dst, err
			}
			t.images = append(t.images, imageRef{msg: i, system: system, url: url})
			dst = append(dst, imagePlaceholder...)
		case "input_audio":
			dst = append(dst, audioPlaceholder...)
		case "file":
			dst = append(dst, filePlaceholder...)
		default:
			if p.Text != "" {
				dst = appendText(dst, p.Text)
				break
			}
			dst = append(dst, '[')
			dst = appendText(dst, p.Type)
			dst = append(dst, ']')
		}
	}
	return dst, nil
}

// imageURL returns the URL of part j of message i, which must be an http,
// https or data: URL: those are what fal's image_urls accept.
func imageURL(u *openai.ImageURL, i, j int) (string, *openai.Error) {
	var url string
	if u != nil {
		url = strings.TrimSpace(u.URL)
	}
	for _, scheme := range [...]string{"https://", "http://", "data:"} {
		if len(url) > len(scheme) && strings.EqualFold(url[:len(scheme)], scheme) {
			return url, nil
		}
	}
	return "", openai.InvalidRequest(partParam(i, j, "image_url"), "invalid_image_url",
		"messages[%d].content[%d].image_url.url must be an http(s) URL or a data: URL.", i, j)
}

// appendText appends s, replacing invalid UTF-8 with U+FFFD so that every
// count and cut in Fold works on whole characters.
func appendText(dst []byte, s string) []byte {
	if utf8.ValidString(s) {
		return append(dst, s...)
	}
	return append(dst, strings.ToValidUTF8(s, string(utf8.RuneError))...)
}
