package config

import (
	"reflect"
	"strings"
	"testing"

	"github.com/falproxy/falproxy/internal/registry"
)

func TestVideoModels(t *testing.T) {
	env := map[string]string{
		"CUSTOM_ACCESS_KEY": "sk-0123456789abcdef",
		"AI_KEYS":           "id:secret",
		"VIDEO_MODELS":      "sora-2:fal-ai/sora-2/text-to-video|fal-ai/sora-2/image-to-video, veo:fal-ai/veo3.1||x/remix, kling:fal-ai/kling",
		"SIGNING_KEY":       "signing-key-0123456789, signing-key-abcdefghij",
	}
	c, err := Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	want := []registry.VideoModel{
		{Alias: "sora-2", Text: "fal-ai/sora-2/text-to-video", Image: "fal-ai/sora-2/image-to-video"},
		{Alias: "veo", Text: "fal-ai/veo3.1", Remix: "x/remix"},
		{Alias: "kling", Text: "fal-ai/kling"},
	}
	if !reflect.DeepEqual(c.VideoModels, want) || len(c.SigningKeys) != 2 {
		t.Errorf("video models %+v, signing keys %d", c.VideoModels, len(c.SigningKeys))
	}
	if got := c.Redact("key signing-key-0123456789"); strings.Contains(got, "signing-key-0123456789") {
		t.Errorf("a signing key is not redacted: %q", got)
	}
	for _, bad := range []string{"v:a|b|c|d", "v:a||", "v:|b"} {
		env["VIDEO_MODELS"] = bad
		if _, err := Load(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "VIDEO_MODELS") {
			t.Errorf("VIDEO_MODELS=%q: %v", bad, err)
		}
	}
	env["VIDEO_MODELS"] = ""
	env["SIGNING_KEY"] = "tinykey"
	if _, err := Load(func(k string) string { return env[k] }); err == nil || strings.Contains(err.Error(), "tinykey") {
		t.Errorf("a short SIGNING_KEY: %v", err)
	}
}

// TestAliasesNameOneModel: an alias given in two model lists, of any two
// kinds, is a problem of the later list; QUEUE_PRIORITY takes the aliases
// of every kind.
func TestAliasesNameOneModel(t *testing.T) {
	base := map[string]string{"CUSTOM_ACCESS_KEY": "sk-0123456789abcdef", "AI_KEYS": "id:secret",
		"SUPPORTED_MODELS": "flux-dev:fal-ai/flux/dev", "CHAT_MODELS": "gpt-4o:openai/gpt-4o",
		"VIDEO_MODELS": "sora-2:fal-ai/sora-2/text-to-video", "AUDIO_MODELS": "tts-1:fal-ai/kokoro/american-english",
		"EMBEDDING_MODELS": "embed:fal-ai/embed"}
	load := func(extra map[string]string) error {
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		for k, v := range extra {
			env[k] = v
		}
		_, err := Load(func(k string) string { return env[k] })
		return err
	}
	if err := load(map[string]string{"QUEUE_PRIORITY": "sora-2:low,tts-1:low,flux-dev:normal,gpt-4o:low,embed:low"}); err != nil {
		t.Errorf("priorities of every kind: %v", err)
	}
	for _, tc := range []struct{ name, value, clash string }{
		{"VIDEO_MODELS", "flux-dev:fal-ai/veo3.1", "SUPPORTED_MODELS"},
		{"VIDEO_MODELS", "gpt-4o:fal-ai/veo3.1", "CHAT_MODELS"},
		{"AUDIO_MODELS", "sora-2:fal-ai/wizper", "VIDEO_MODELS"},
		{"AUDIO_MODELS", "gpt-4o:fal-ai/wizper", "CHAT_MODELS"},
		{"CHAT_MODELS", "flux-dev:openai/gpt-4o", "SUPPORTED_MODELS"},
		{"EMBEDDING_MODELS", "tts-1:fal-ai/embed", "AUDIO_MODELS"},
	} {
		err := load(map[string]string{tc.name: tc.value})
		if err == nil || !strings.Contains(err.Error(), tc.name+" alias") || !strings.Contains(err.Error(), "also in "+tc.clash) {
			t.Errorf("%s=%s: %v", tc.name, tc.value, err)
		}
	}
}
