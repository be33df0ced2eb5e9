package chat

import (
	"reflect"
	"strings"
	"testing"

	"github.com/falproxy/falproxy/internal/openai"
)

func TestFalInput(t *testing.T) {
	yes, no := true, false
	temp := 0.2
	small, big := 100, 2000
	folded := Folded{Prompt: "Human: hi", SystemPrompt: "System: s"}
	tests := []struct {
		name    string
		req     openai.ChatRequest
		f       Folded
		backend Backend
		want    map[string]any
	}{
		{
			name: "minimal",
			req:  openai.ChatRequest{Model: "google/gemini-2.5-flash"},
			f:    Folded{Prompt: "Human: hi"},
			want: map[string]any{"model": "google/gemini-2.5-flash", "prompt": "Human: hi"},
		},
		{
			name: "all fields",
			req: openai.ChatRequest{Model: "m", Temperature: &temp, MaxTokens: &small,
				MaxCompletionTokens: &big, Reasoning: &yes},
			f: Folded{Prompt: "Human: hi", SystemPrompt: "System: s", ImageURLs: []string{"https://x/a.png"}},
			want: map[string]any{"model": "m", "prompt": "Human: hi", "system_prompt": "System: s",
				"reasoning": true, "temperature": 0.2, "max_tokens": 2000, "image_urls": []string{"https://x/a.png"}},
		},
		{
			name: "max_tokens alone",
			req:  openai.ChatRequest{Model: "m", MaxTokens: &small},
			f:    folded,
			want: map[string]any{"model": "m", "prompt": "Human: hi", "system_prompt": "System: s", "max_tokens": 100},
		},
		{
			name: "reasoning_effort turns reasoning on",
			req:  openai.ChatRequest{Model: "m", Reasoning: &no, ReasoningEffort: "low"},
			f:    folded,
			want: map[string]any{"model": "m", "prompt": "Human: hi", "system_prompt": "System: s", "reasoning": true},
		},
		{
			name: "reasoning_effort none and reasoning false leave it out",
			req:  openai.ChatRequest{Model: "m", Reasoning: &no, ReasoningEffort: "none"},
			f:    folded,
			want: map[string]any{"model": "m", "prompt": "Human: hi", "system_prompt": "System: s"},
		},
		{
			name:    "any-llm without a model uses fal's default model",
			req:     openai.ChatRequest{},
			f:       Folded{Prompt: "Human: hi"},
			backend: AnyLLM,
			want:    map[string]any{"prompt": "Human: hi"},
		},
		{
			name:    "the router always gets a model",
			req:     openai.ChatRequest{},
			f:       Folded{Prompt: "Human: hi"},
			backend: Router,
			want:    map[string]any{"model": "", "prompt": "Human: hi"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FalInput(&tt.req, tt.f, tt.backend)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("FalInput:\n got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestEndpoint(t *testing.T) {
	tests := []struct {
		backend      Backend
		vision, strm bool
		want         string
	}{
		{AnyLLM, false, false, "fal-ai/any-llm"},
		{AnyLLM, true, false, "fal-ai/any-llm/vision"},
		{AnyLLM, false, true, "fal-ai/any-llm/stream"},
		{AnyLLM, true, true, "fal-ai/any-llm/vision/stream"},
		{Router, false, false, "openrouter/router"},
		{Router, true, false, "openrouter/router/vision"},
		{Router, false, true, "openrouter/router/stream"},
		{Router, true, true, "openrouter/router/vision/stream"},
	}
	for _, tt := range tests {
		if got := Endpoint(tt.backend, tt.vision, tt.strm); got != tt.want {
			t.Errorf("Endpoint(%v, %v, %v) = %q, want %q", tt.backend, tt.vision, tt.strm, got, tt.want)
		}
	}
}

func TestParseBackend(t *testing.T) {
	tests := []struct {
		in      string
		want    Backend
		wantErr bool
	}{
		{"openrouter/router", Router, false},
		{"router", Router, false},
		{"fal-ai/any-llm", AnyLLM, false},
		{"any-llm", AnyLLM, false},
		{"", Router, true},
		{"fal-ai/other", Router, true},
	}
	for _, tt := range tests {
		got, err := ParseBackend(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseBackend(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if back, _ := ParseBackend(got.String()); err == nil && back != got {
			t.Errorf("%v does not round-trip through its String", got)
		}
	}
}

// TestBackendIDsParse checks that every backend is read back from its
// endpoint id in any letter case, as CHAT_ENDPOINT is read.
func TestBackendIDsParse(t *testing.T) {
	ids := BackendIDs()
	if len(ids) != len(backends) {
		t.Fatalf("%d ids for %d backends", len(ids), len(backends))
	}
	for i, b := range backends {
		for _, s := range []string{ids[i], strings.ToUpper(ids[i])} {
			if got, err := ParseBackend(s); err != nil || got != b {
				t.Errorf("ParseBackend(%q) = %v, %v; want %v", s, got, err, b)
			}
		}
	}
	if ids[2] != "openrouter/router/openai/v1" {
		t.Errorf("passthrough id %q", ids[2])
	}
}
