package chat

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/falproxy/falproxy/internal/openai"
)

// small limits make the hand-computed cases readable. Block lengths used
// below: "Human: aaaa\n\n" = 13, "Assistant: bbbb\n\n" = 17,
// "Human: cccc\n\n" = 13 characters.
var small = Limits{Prompt: 30, System: 100, Separator: " | "}

// foldCase is one table row: messages and limits in, the exact folding out.
type foldCase struct {
	name string
	msgs []openai.Message
	lim  Limits
	want Folded
}

// runFoldCases checks every row, and that no output is invalid UTF-8.
func runFoldCases(t *testing.T, tests []foldCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Fold(tt.msgs, tt.lim)
			if err != nil {
				t.Fatalf("Fold: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Fold:\n got %#v\nwant %#v", got, tt.want)
			}
			if !utf8.ValidString(got.Prompt) || !utf8.ValidString(got.SystemPrompt) {
				t.Errorf("output is not valid UTF-8")
			}
		})
	}
}

func TestFold(t *testing.T) {
	a, b, c := msg("user", "aaaa"), msg("assistant", "bbbb"), msg("user", "cccc")
	long := strings.Repeat("x", 4780) // "Human: " + 4780 + "\n\n" = 4789
	tests := []foldCase{
		{
			name: "system only becomes the prompt",
			msgs: []openai.Message{msg("system", "Be brief.")},
			want: Folded{Prompt: "System: Be brief."},
		},
		{
			name: "system and developer messages are concatenated",
			msgs: []openai.Message{msg("system", "A"), msg("developer", "B"), msg("user", "hi")},
			want: Folded{Prompt: "Human: hi", SystemPrompt: "System: A\n\nSystem: B"},
		},
		{
			name: "single user message",
			msgs: []openai.Message{msg("user", "hi")},
			want: Folded{Prompt: "Human: hi"},
		},
		{
			name: "short chat stays in the prompt",
			msgs: []openai.Message{msg("system", "S1"), msg("user", "hi"), msg("assistant", "hello"), msg("user", "how?")},
			want: Folded{Prompt: "Human: hi\n\nAssistant: hello\n\nHuman: how?", SystemPrompt: "System: S1"},
		},
		{
			name: "prompt filled exactly to its limit",
			msgs: []openai.Message{a, b, c}, // 13 + 17 = 30 fits, + 13 does not
			lim:  small,
			want: Folded{Prompt: "Assistant: bbbb\n\nHuman: cccc", SystemPrompt: "Human: aaaa"},
		},
		{
			name: "one character under: the first misfit and all older go to history",
			msgs: []openai.Message{a, b, c},
			lim:  Limits{Prompt: 29, System: 100, Separator: " | "},
			want: Folded{Prompt: "Human: cccc", SystemPrompt: "Human: aaaa\n\nAssistant: bbbb"},
		},
		{
			name: "older blocks never return to the prompt once it is full",
			msgs: []openai.Message{msg("user", "x"), b, c}, // "Human: x\n\n" = 10 would fit 30-13
			lim:  Limits{Prompt: 29, System: 100, Separator: " | "},
			want: Folded{Prompt: "Human: cccc", SystemPrompt: "Human: x\n\nAssistant: bbbb"},
		},
		{
			name: "history after the system text and separator, oldest dropped",
			// S = "System: rules" (13), room R = 40 - (13+4) = 23.
			msgs: []openai.Message{msg("system", "rules"), a, b, c},
			lim:  Limits{Prompt: 13, System: 40, Separator: " | "},
			want: Folded{Prompt: "Human: cccc", SystemPrompt: "System: rules | Assistant: bbbb", DroppedMessages: 1},
		},
		{
			name: "history filled exactly to its room",
			// "Assistant: bbbbbbbbbb\n\n" = 23 = R.
			msgs: []openai.Message{msg("system", "rules"), msg("assistant", "bbbbbbbbbb"), c},
			lim:  Limits{Prompt: 13, System: 40, Separator: " | "},
			want: Folded{Prompt: "Human: cccc", SystemPrompt: "System: rules | Assistant: bbbbbbbbbb"},
		},
		{
			name: "history one character over its room is dropped",
			msgs: []openai.Message{msg("system", "rules"), msg("assistant", "bbbbbbbbbbb"), c},
			lim:  Limits{Prompt: 13, System: 40, Separator: " | "},
			want: Folded{Prompt: "Human: cccc", SystemPrompt: "System: rules", DroppedMessages: 1},
		},
		{
			name: "both parts full: every older message is counted as dropped",
			// prompt: c (13); history room 30: b (17) + a (13) = 30; the rest dropped.
			msgs: []openai.Message{msg("user", "old1"), msg("assistant", "old2"), a, b, c},
			lim:  Limits{Prompt: 13, System: 30, Separator: " | "},
			want: Folded{Prompt: "Human: cccc", SystemPrompt: "Human: aaaa\n\nAssistant: bbbb", DroppedMessages: 2},
		},
		{
			name: "the walk ends at the first block that fits neither part",
			// a newer big block ends the walk even though the oldest is small
			msgs: []openai.Message{msg("user", "s"), msg("assistant", strings.Repeat("b", 40)), c},
			lim:  Limits{Prompt: 13, System: 30, Separator: " | "},
			want: Folded{Prompt: "Human: cccc", DroppedMessages: 2},
		},
		{
			name: "system text longer than its limit leaves no room for history",
			// "System: 0123456789\n\n" cut to 12 = "System: 0123"; R = 12 - 16 < 0.
			msgs: []openai.Message{msg("system", "0123456789"), a, c},
			lim:  Limits{Prompt: 13, System: 12, Separator: " | "},
			want: Folded{Prompt: "Human: cccc", SystemPrompt: "System: 0123", DroppedMessages: 1, TruncatedSystem: 8},
		},
		{
			name: "default limits and separator, zero Limits mean the same",
			msgs: []openai.Message{msg("system", "S"), msg("user", "aaaa"), msg("user", long)},
			want: Folded{Prompt: "Human: " + long, SystemPrompt: "System: S" + DefaultSeparator + "Human: aaaa"},
		},
		{
			name: "newest user message exactly at the default prompt limit",
			msgs: []openai.Message{msg("user", strings.Repeat("q", 4791))},
			want: Folded{Prompt: "Human: " + strings.Repeat("q", 4791)},
		},
		{
			name: "white space is trimmed at the ends of each part only",
			msgs: []openai.Message{msg("system", "  s  "), msg("user", " u \n")},
			want: Folded{Prompt: "Human:  u", SystemPrompt: "System:   s"},
		},
		{
			name: "invalid UTF-8 becomes U+FFFD",
			msgs: []openai.Message{msg("user", "a\xffb")},
			want: Folded{Prompt: "Human: a\uFFFDb"},
		},
		{
			name: "no user message: the newest message takes the prompt",
			msgs: []openai.Message{msg("system", "S"), msg("assistant", "A")},
			want: Folded{Prompt: "Assistant: A", SystemPrompt: "System: S"},
		},
		{
			name: "messages after the newest user message stay in the prompt",
			// tail = a, b (30); c is older than a and does not fit.
			msgs: []openai.Message{c, a, b},
			lim:  small,
			want: Folded{Prompt: "Human: aaaa\n\nAssistant: bbbb", SystemPrompt: "Human: cccc"},
		},
	}
	runFoldCases(t, tests)
}

func TestFoldDefaultsEqualZeroLimits(t *testing.T) {
	msgs := []openai.Message{msg("system", "S"), msg("user", strings.Repeat("a", 3000)), msg("user", strings.Repeat("b", 3000))}
	zero, err1 := Fold(msgs, Limits{})
	def, err2 := Fold(msgs, DefaultLimits())
	if err1 != nil || err2 != nil {
		t.Fatalf("Fold: %v, %v", err1, err2)
	}
	if !reflect.DeepEqual(zero, def) {
		t.Errorf("zero Limits differ from DefaultLimits:\n%#v\n%#v", zero, def)
	}
	if !strings.Contains(def.SystemPrompt, DefaultSeparator) {
		t.Errorf("system prompt %q lacks the default separator", def.SystemPrompt[:40])
	}
}

// TestFoldMultiByte checks that limits count characters, not bytes or
// UTF-16 units, and that the system cut keeps whole characters.
func TestFoldMultiByte(t *testing.T) {
	tests := []foldCase{
		{
			name: "CJK prompt exactly at the limit",
			// "Human: 你好世界\n\n" = 7 + 4 + 2 = 13 characters, 21 bytes
			msgs: []openai.Message{msg("user", "早"), msg("user", "你好世界")},
			lim:  Limits{Prompt: 13, System: 100},
			want: Folded{Prompt: "Human: 你好世界", SystemPrompt: "Human: 早"},
		},
		{
			name: "emoji count one character each",
			// "Human: 😀😀😀😀\n\n" = 13 characters (UTF-16 would count 17)
			msgs: []openai.Message{msg("user", "😀😀😀😀")},
			lim:  Limits{Prompt: 13, System: 100},
			want: Folded{Prompt: "Human: 😀😀😀😀"},
		},
		{
			name: "system cut inside CJK text keeps whole characters",
			// "System: 你好世界你好\n\n" = 16 characters, cut to 10
			msgs: []openai.Message{msg("system", "你好世界你好"), msg("user", "q")},
			lim:  Limits{Prompt: 100, System: 10},
			want: Folded{Prompt: "Human: q", SystemPrompt: "System: 你好", TruncatedSystem: 6},
		},
		{
			name: "system cut between emoji",
			msgs: []openai.Message{msg("system", "😀😀😀"), msg("user", "q")},
			lim:  Limits{Prompt: 100, System: 9},
			want: Folded{Prompt: "Human: q", SystemPrompt: "System: 😀", TruncatedSystem: 4},
		},
		{
			name: "CJK history exactly at its room",
			// S = "System: 规则" (10), R = 30 - 14 = 16 = "Human: 一二三四五六七\n\n"
			msgs: []openai.Message{msg("system", "规则"), msg("user", "一二三四五六七"), msg("user", "问")},
			lim:  Limits{Prompt: 10, System: 30, Separator: "——"},
			want: Folded{Prompt: "Human: 问", SystemPrompt: "System: 规则——Human: 一二三四五六七"},
		},
	}
	runFoldCases(t, tests)
}

func TestFoldContent(t *testing.T) {
	tests := []foldCase{
		{
			name: "text and image parts",
			msgs: []openai.Message{partsMsg("user",
				textPart("what is this"), imagePart("https://example.com/a.png"),
				textPart("and this"), imagePart("data:image/png;base64,AAAA"))},
			want: Folded{
				Prompt:    "Human: what is this\n[image]\nand this\n[image]",
				ImageURLs: []string{"https://example.com/a.png", "data:image/png;base64,AAAA"},
			},
		},
		{
			name: "image URL given as a bare http URL with upper-case scheme",
			msgs: []openai.Message{partsMsg("user", imagePart(" HTTP://example.com/b.jpg "))},
			want: Folded{Prompt: "Human: [image]", ImageURLs: []string{"HTTP://example.com/b.jpg"}},
		},
		{
			name: "audio, file and unknown parts become placeholders",
			msgs: []openai.Message{partsMsg("user",
				openai.ContentPart{Type: "input_audio"}, openai.ContentPart{Type: "file"},
				openai.ContentPart{Type: "video"}, openai.ContentPart{Type: "input_text", Text: "typed"})},
			want: Folded{Prompt: "Human: [audio]\n[file]\n[video]\ntyped"},
		},
		{
			name: "array content in system messages",
			msgs: []openai.Message{partsMsg("developer", textPart("one"), textPart("two")), msg("user", "q")},
			want: Folded{Prompt: "Human: q", SystemPrompt: "System: one\ntwo"},
		},
		{
			name: "empty parts array",
			msgs: []openai.Message{partsMsg("user")},
			want: Folded{Prompt: "Human:"},
		},
		{
			name: "images of dropped messages are not sent, system images are",
			// prompt: "Human: [image]\n\n" = 16; the older user message does
			// not fit the prompt or the history room (30 - (20+4) = 6).
			msgs: []openai.Message{
				partsMsg("user", imagePart("https://old.example/1.png")),
				partsMsg("system", textPart("look"), imagePart("https://sys.example/s.png")),
				partsMsg("user", imagePart("https://new.example/2.png")),
			},
			lim: Limits{Prompt: 16, System: 30},
			want: Folded{
				Prompt:          "Human: [image]",
				SystemPrompt:    "System: look\n[image]",
				ImageURLs:       []string{"https://sys.example/s.png", "https://new.example/2.png"},
				DroppedMessages: 1,
			},
		},
		{
			name: "images of messages moved to the system prompt are sent",
			msgs: []openai.Message{
				partsMsg("user", imagePart("https://a.example/1.png")),
				partsMsg("user", imagePart("https://a.example/2.png")),
			},
			lim: Limits{Prompt: 16, System: 30},
			want: Folded{
				Prompt:       "Human: [image]",
				SystemPrompt: "Human: [image]",
				ImageURLs:    []string{"https://a.example/1.png", "https://a.example/2.png"},
			},
		},
	}
	runFoldCases(t, tests)
}

func TestFoldTools(t *testing.T) {
	weather := call("call_1", "get_weather", `{"city":"Paris"}`)
	named := msg("function", "sunny")
	named.Name = "get_weather"
	tests := []struct {
		name string
		msgs []openai.Message
		want string // the prompt; there is no system prompt
	}{
		{
			name: "call with null content and its result",
			msgs: []openai.Message{msg("user", "Weather?"), assistantCalls(weather), toolResult("call_1", `{"temp":20}`)},
			want: "Human: Weather?\n\n" +
				"Assistant called get_weather({\"city\":\"Paris\"}) (call_1)\n\n" +
				"Tool (call_1): {\"temp\":20}",
		},
		{
			name: "content and two calls",
			msgs: []openai.Message{msg("user", "Both?"), {
				Role:      "assistant",
				Content:   openai.Content{Text: "Checking."},
				ToolCalls: []openai.ToolCall{weather, call("", "get_time", "{}")},
			}},
			want: "Human: Both?\n\n" +
				"Assistant: Checking.\n" +
				"Assistant called get_weather({\"city\":\"Paris\"}) (call_1)\n" +
				"Assistant called get_time({})",
		},
		{
			name: "assistant with neither content nor calls keeps its label",
			msgs: []openai.Message{msg("user", "q"), assistantCalls(), msg("user", "again")},
			want: "Human: q\n\nAssistant: \n\nHuman: again",
		},
		{
			name: "tool result without id, deprecated function result by name",
			msgs: []openai.Message{msg("user", "q"), msg("tool", "42"), named},
			want: "Human: q\n\nTool: 42\n\nTool (get_weather): sunny",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Fold(tt.msgs, Limits{})
			if err != nil {
				t.Fatalf("Fold: %v", err)
			}
			want := Folded{Prompt: tt.want}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Fold:\n got %#v\nwant %#v", got, want)
			}
		})
	}
}

func TestFoldErrors(t *testing.T) {
	giant := strings.Repeat("x", 4800) // block 4809: 9 over the default limit
	tests := []struct {
		name      string
		msgs      []openai.Message
		lim       Limits
		param     string
		code      string
		inMessage []string
	}{
		{
			name:  "no messages",
			param: "messages", code: "empty_array",
		},
		{
			name:  "unknown role",
			msgs:  []openai.Message{msg("user", "hi"), msg("bot", "x")},
			param: "messages[1].role", code: "invalid_value",
			inMessage: []string{`"bot"`},
		},
		{
			name:  "role is case sensitive",
			msgs:  []openai.Message{msg("User", "hi")},
			param: "messages[0].role", code: "invalid_value",
		},
		{
			name:  "image URL with another scheme",
			msgs:  []openai.Message{partsMsg("user", textPart("x"), imagePart("ftp://example.com/a.png"))},
			param: "messages[0].content[1].image_url", code: "invalid_image_url",
		},
		{
			name:  "image part without URL",
			msgs:  []openai.Message{msg("system", "s"), partsMsg("user", openai.ContentPart{Type: "image_url"})},
			param: "messages[1].content[0].image_url", code: "invalid_image_url",
		},
		{
			name:  "giant newest user message",
			msgs:  []openai.Message{msg("system", "s"), msg("user", "old"), msg("user", giant)},
			param: "messages", code: CodeContextLengthExceeded,
			inMessage: []string{"newest user message takes 4809 characters", "9 more than the prompt limit of 4800"},
		},
		{
			name:  "multi-byte giant counted in characters",
			msgs:  []openai.Message{msg("user", strings.Repeat("你", 10))},
			lim:   Limits{Prompt: 18},
			param: "messages", code: CodeContextLengthExceeded,
			inMessage: []string{"takes 19 characters", "1 more than the prompt limit of 18"},
		},
		{
			name:  "the messages after the newest user message count too",
			msgs:  []openai.Message{msg("user", "aaaa"), msg("assistant", "bbbb"), msg("tool", "t")},
			lim:   Limits{Prompt: 30},
			param: "messages", code: CodeContextLengthExceeded,
			inMessage: []string{"with the 2 messages after it takes 39 characters", "9 more"},
		},
		{
			name:  "no user message and a giant newest message",
			msgs:  []openai.Message{msg("assistant", "bbbb")},
			lim:   Limits{Prompt: 10},
			param: "messages", code: CodeContextLengthExceeded,
			inMessage: []string{"the newest message takes 17 characters", "7 more"},
		},
		{
			name:  "system text as the prompt is bound by the prompt limit",
			msgs:  []openai.Message{msg("system", "rules")},
			lim:   Limits{Prompt: 10, System: 100},
			param: "messages", code: CodeContextLengthExceeded,
			inMessage: []string{"takes 13 characters", "3 more"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Fold(tt.msgs, tt.lim)
			if err == nil {
				t.Fatalf("Fold succeeded: %#v", got)
			}
			if err.Status != 400 || err.Type != openai.TypeInvalidRequest || err.Param != tt.param || err.Code != tt.code || !err.NoRetry {
				t.Errorf("error = %+v, want 400 %s param %q code %q", err, openai.TypeInvalidRequest, tt.param, tt.code)
			}
			for _, s := range tt.inMessage {
				if !strings.Contains(err.Message, s) {
					t.Errorf("message %q lacks %q", err.Message, s)
				}
			}
		})
	}
}

// TestFoldSystemLimitZero: SYSTEM_PROMPT_LIMIT=0 is honoured, not taken
// for "unset": nothing goes into system_prompt.
func TestFoldSystemLimitZero(t *testing.T) {
	msgs := []openai.Message{msg("system", "rules"), msg("user", "old"), msg("user", strings.Repeat("n", 20))}
	got, err := Fold(msgs, Limits{Prompt: 30, System: 0, Separator: "|"})
	if err != nil {
		t.Fatal(err)
	}
	if got.SystemPrompt != "" || got.Prompt != "Human: "+strings.Repeat("n", 20) || got.DroppedMessages != 1 {
		t.Fatalf("got %#v", got)
	}
}
