package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestSplitChatEntry(t *testing.T) {
	tests := []struct {
		entry string
		want  pair
	}{
		{"openai/gpt-4o", pair{"openai/gpt-4o", "openai/gpt-4o"}},
		{"gpt4", pair{"gpt4", "gpt4"}},
		{"deepseek/deepseek-r1:free", pair{"deepseek/deepseek-r1:free", "deepseek/deepseek-r1:free"}},
		{"r1:deepseek/deepseek-r1:free", pair{"r1", "deepseek/deepseek-r1:free"}},
		{"fast : openai/gpt-4o-mini", pair{"fast", "openai/gpt-4o-mini"}},
		{"mini:gpt-4o-mini", pair{"mini", "gpt-4o-mini"}},
		{":x", pair{"", "x"}},
		{"x:", pair{"x", ""}},
	}
	for _, tt := range tests {
		if got := splitChatEntry(tt.entry); got != tt.want {
			t.Errorf("splitChatEntry(%q) = %+v, want %+v", tt.entry, got, tt.want)
		}
	}
}

func TestSplitImageEntry(t *testing.T) {
	tests := []struct {
		entry string
		want  pair
	}{
		{"fal-ai/flux/dev", pair{"fal-ai/flux/dev", "fal-ai/flux/dev"}},
		{"flux-dev:fal-ai/flux/dev", pair{"flux-dev", "fal-ai/flux/dev"}},
		{"a:b:c", pair{"a", "b:c"}},
		// Unlike chat entries, an image entry always splits at its first colon.
		{"fal-ai/x:y", pair{"fal-ai/x", "y"}},
	}
	for _, tt := range tests {
		if got := splitImageEntry(tt.entry); got != tt.want {
			t.Errorf("splitImageEntry(%q) = %+v, want %+v", tt.entry, got, tt.want)
		}
	}
}

// FuzzParseChatModels checks that an accepted CHAT_MODELS value has unique,
// non-empty, space-free aliases and that writing the list back out (bare
// when alias and model agree) reads back the same list.
func FuzzParseChatModels(f *testing.F) {
	for _, s := range []string{
		defaultChatModels, "sonnet:anthropic/claude-3.7-sonnet", "deepseek/deepseek-r1:free,r1:deepseek/deepseek-r1:free",
		"a:a,b", ":x", "x:", "a,a", " , ", "a:b c", "x:y:z/w",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		models, err := parseChatModels(s)
		if err != nil {
			return
		}
		if len(models) != len(splitList(s)) {
			t.Fatalf("%q: %d models from %d entries", s, len(models), len(splitList(s)))
		}
		seen := map[string]bool{}
		entries := make([]string, len(models))
		for i, m := range models {
			if m.Alias == "" || m.Model == "" || hasSpace(m.Alias) || hasSpace(m.Model) || seen[m.Alias] {
				t.Fatalf("%q: bad model %+v", s, m)
			}
			seen[m.Alias] = true
			entries[i] = m.Alias + ":" + m.Model
			if m.Alias == m.Model {
				entries[i] = m.Model
			}
		}
		again, err := parseChatModels(strings.Join(entries, ","))
		if err != nil || !reflect.DeepEqual(again, models) {
			t.Fatalf("%q: round trip gave %+v, %v; want %+v", s, again, err, models)
		}
	})
}

// FuzzParseImageModels is FuzzParseChatModels for SUPPORTED_MODELS.
func FuzzParseImageModels(f *testing.F) {
	for _, s := range []string{
		"flux-dev:fal-ai/flux/dev,flux-schnell:fal-ai/flux/schnell", "fal-ai/recraft/v3", "a:b:c", ":x", "x:", "a:1,a:2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		models, err := parseImageModels(s)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		entries := make([]string, len(models))
		for i, m := range models {
			if m.Alias == "" || m.Endpoint == "" || hasSpace(m.Alias) || hasSpace(m.Endpoint) ||
				strings.Contains(m.Alias, ":") || seen[m.Alias] {
				t.Fatalf("%q: bad model %+v", s, m)
			}
			seen[m.Alias] = true
			entries[i] = m.Alias + ":" + m.Endpoint
		}
		again, err := parseImageModels(strings.Join(entries, ","))
		if err != nil || !reflect.DeepEqual(again, models) {
			t.Fatalf("%q: round trip gave %+v, %v; want %+v", s, again, err, models)
		}
	})
}
