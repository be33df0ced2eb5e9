package config

import (
	"reflect"
	"strings"
	"testing"

	"github.com/falproxy/falproxy/internal/registry"
)

func TestAudioModels(t *testing.T) {
	base := map[string]string{"CUSTOM_ACCESS_KEY": "sk-a-long-enough-key", "AI_KEYS": "id:secret"}
	load := func(audio string) (*Config, error) {
		env := map[string]string{"AUDIO_MODELS": audio}
		for k, v := range base {
			env[k] = v
		}
		return Load(func(k string) string { return env[k] })
	}
	c, err := load("")
	if err != nil || c.AudioModels != nil {
		t.Fatalf("unset: %v %v", c.AudioModels, err)
	}
	c, err = load(" tts-1:fal-ai/kokoro/american-english , fal-ai/wizper ")
	if err != nil {
		t.Fatal(err)
	}
	want := []registry.AudioModel{{Alias: "tts-1", Endpoint: "fal-ai/kokoro/american-english"}, {Alias: "fal-ai/wizper", Endpoint: "fal-ai/wizper"}}
	if !reflect.DeepEqual(c.AudioModels, want) {
		t.Errorf("got %+v", c.AudioModels)
	}
	for _, bad := range []string{"flux-dev:fal-ai/wizper", "a:x,a:y", "a:"} {
		if _, err := load(bad); err == nil || !strings.Contains(err.Error(), "AUDIO_MODELS") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
