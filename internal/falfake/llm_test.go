package falfake

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// streamLLM runs an LLM stream and decodes its events.
func streamLLM(t *testing.T, f *Fake, c *tclient, endpoint string, input map[string]any) []llmEvent {
	t.Helper()
	res, ch := c.openStream("POST", f.RunURL()+"/"+endpoint+"/stream", input)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream answered %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var events []llmEvent
	for _, d := range dataEvents(ch) {
		var ev llmEvent
		if err := json.Unmarshal([]byte(d), &ev); err != nil {
			t.Fatalf("event %q: %v", d, err)
		}
		events = append(events, ev)
	}
	return events
}

func TestLLMStream(t *testing.T) {
	tests := []struct {
		endpoint  string
		input     map[string]any
		reasoning bool
		usage     bool
	}{
		{"fal-ai/any-llm", map[string]any{"prompt": "tell me a joke", "model": "openai/gpt-4o"}, false, false},
		{"fal-ai/any-llm/enterprise", map[string]any{"prompt": "tell me a joke", "reasoning": true}, true, false},
		{"fal-ai/any-llm/vision", map[string]any{"prompt": "what is this", "image_urls": []string{"https://example.com/cat.png"}}, false, false},
		{"openrouter/router", map[string]any{"prompt": "tell me a joke", "model": "acme/m1", "system_prompt": "be brief"}, false, true},
		{"openrouter/router/vision", map[string]any{"prompt": "what is this", "model": "acme/m1", "image_urls": []string{"data:image/png;base64,iVBORw0KGgo="}, "reasoning": true}, true, true},
		{"openrouter/router/enterprise", map[string]any{"prompt": "hi", "model": "acme/m1", "enable_web_search": true}, false, true},
	}
	f, c := start(t, Options{TokenDelay: time.Millisecond})
	for _, tt := range tests {
		t.Run(tt.endpoint, func(t *testing.T) {
			events := streamLLM(t, f, c, tt.endpoint, tt.input)
			if len(events) < 3 {
				t.Fatalf("only %d events", len(events))
			}
			prev := llmEvent{}
			for i, ev := range events {
				last := i == len(events)-1
				if ev.Partial == last || ev.Error != nil {
					t.Errorf("event %d: partial=%v error=%v", i, ev.Partial, ev.Error)
				}
				if !strings.HasPrefix(ev.Output, prev.Output) {
					t.Errorf("event %d output %q does not extend %q", i, ev.Output, prev.Output)
				}
				if (ev.Reasoning != nil) != tt.reasoning {
					t.Errorf("event %d reasoning %v", i, ev.Reasoning)
				}
				if (ev.Usage != nil) != (last && tt.usage) {
					t.Errorf("event %d usage %v", i, ev.Usage)
				}
				prev = ev
			}
			prompt := tt.input["prompt"].(string)
			if !strings.HasSuffix(prev.Output, "You said: "+prompt) {
				t.Errorf("final output %q", prev.Output)
			}
			if tt.usage && prev.Usage.TotalTokens != prev.Usage.PromptTokens+prev.Usage.CompletionTokens {
				t.Errorf("usage %+v", prev.Usage)
			}
			// A sync run of the same input returns the same final text.
			r := c.do("POST", f.RunURL()+"/"+tt.endpoint, tt.input)
			if out := r.json(t); str(out, "output") != prev.Output {
				t.Errorf("sync output %q, stream %q", str(out, "output"), prev.Output)
			}
		})
	}
	if got := f.Counts().Streams; got != len(tests) {
		t.Errorf("Streams = %d", got)
	}
}

func TestLLMStreamFailures(t *testing.T) {
	f, c := start(t, Options{})
	events := streamLLM(t, f, c, "fal-ai/any-llm", map[string]any{"prompt": "boom [fail]"})
	if len(events) != 3 || events[2].Error == nil || *events[2].Error != "Runner disconnected" || events[2].Output != events[1].Output {
		t.Errorf("[fail] events %+v", events)
	}

	f.Inject(Fault{JobError: "runner_server_error", Op: OpLLMStream, Times: 1})
	events = streamLLM(t, f, c, "openrouter/router", map[string]any{"prompt": "hello", "model": "m"})
	if last := events[len(events)-1]; last.Error == nil || last.Partial {
		t.Errorf("job fault events %+v", events)
	}

	tests := []struct {
		endpoint string
		input    map[string]any
		code     int
		contains string
	}{
		{"fal-ai/any-llm", map[string]any{"system_prompt": "x"}, 422, `"missing"`},
		{"openrouter/router", map[string]any{"prompt": "x", "model": "m", "messages": []string{}}, 422, `"extra_forbidden"`},
		{"openrouter/router", map[string]any{"prompt": "x [nsfw]", "model": "m"}, 422, `"content_policy_violation"`},
		{"openrouter/router/vision", map[string]any{"prompt": "x", "model": "m", "image_urls": []string{"not a url"}}, 422, `"file_download_error"`},
		{"fal-ai/flux/dev", map[string]any{"prompt": "x"}, 404, `not found`},
		{"fal-ai/nope", map[string]any{"prompt": "x"}, 404, `not found`},
	}
	for _, tt := range tests {
		r := c.do("POST", f.RunURL()+"/"+tt.endpoint+"/stream", tt.input)
		if r.status != tt.code || !strings.Contains(string(r.body), tt.contains) {
			t.Errorf("%s %v: %d %s", tt.endpoint, tt.input, r.status, r.body)
		}
	}
}

func TestComposeReply(t *testing.T) {
	long := strings.Repeat("word ", 100) + "end"
	tests := []struct {
		name      string
		prompt    string
		reasoning bool
		max       int
		wantText  string
		truncated bool
	}{
		{"echo", "hi  there\n you", false, 0, "Hello from m on the fal emulator. You said: hi there you", false},
		{"empty", "", false, 0, "Hello from m on the fal emulator.", false},
		{"capped", "hi", false, 3, "Hello from m ", true},
		{"last words only", long, true, 0, "Hello from m on the fal emulator. You said: " + strings.Repeat("word ", maxEcho-1) + "end", false},
	}
	for _, tt := range tests {
		r := composeReply("m", tt.prompt, "sys tem", tt.reasoning, tt.max)
		if r.text() != tt.wantText || r.truncated != tt.truncated || (len(r.reasoning) > 0) != tt.reasoning {
			t.Errorf("%s: %q truncated=%v reasoning=%q", tt.name, r.text(), r.truncated, r.reasoningText())
		}
		if r.promptTokens != len(strings.Fields(tt.prompt))+2 {
			t.Errorf("%s: prompt tokens %d", tt.name, r.promptTokens)
		}
	}
}
