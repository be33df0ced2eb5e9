package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/falproxy/falproxy/internal/registry"
)

// inspectedModels are the demo's image models plus one of each remaining
// size family the emulator serves.
const inspectedModels = demoModels + ",lcm:fal-ai/fast-lcm-diffusion,fill:fal-ai/flux-pro/v1/fill"

// blocks splits the text report into its paragraphs, keyed by their first
// word (an alias, or "Image"/"Chat" for the headings).
func blocks(out string) map[string]string {
	m := map[string]string{}
	for _, b := range strings.Split(out, "\n\n") {
		if f := strings.Fields(b); len(f) > 0 {
			m[f[0]] += b
		}
	}
	return m
}

func TestModelsText(t *testing.T) {
	env := testEnv(t, map[string]string{"SUPPORTED_MODELS": inspectedModels})
	out, _, err := runCmd(t, env, "models")
	if err != nil {
		t.Fatalf("models: %v\n%s", err, out)
	}
	got := blocks(out)
	tests := []struct {
		alias string
		want  []string
	}{
		{"flux-dev", []string{
			"flux-dev → fal-ai/flux/dev  (default)",
			"image_size (field image_size); presets square_hd,",
			"{width, height} object",
			"num_images 1–4",
			"output_format: jpeg, png",
			`1024x1024  → image_size="square_hd"`,
			`1536x1024  → image_size={"height":1024,"width":1536}`,
			`1024x1536  → image_size={"height":1536,"width":1024}`,
			"guidance_scale",
		}},
		{"gpt-image-1", []string{
			"pixels (field image_size)", "sizes 1024x1024, 1536x1024, 1024x1536",
			"quality  ", "background  ", `auto       → image_size="auto"`,
		}},
		{"flux-ultra", []string{"aspect_ratio (field aspect_ratio)", "any W:H ratio", `1536x1024  → aspect_ratio="3:2"`}},
		{"imagen4", []string{"resolution tiers (field resolution) 1K, 2K", `aspect_ratio="4:3" resolution="2K"`}},
		{"ideogram-v2", []string{"none: falproxy splits n into jobs of one image", "style  "}},
		{"sdxl", []string{"format: jpeg, png"}},
		{"lcm", []string{"width_height (fields width, height); width 256–2048, height 256–2048, multiple of 8", "height=1024 width=1536"}},
		{"kontext", []string{"generates  no: edit-only", "edit       image_url (one image)"}},
		{"seedream-edit", []string{"image_urls (a list of up to 10)"}},
		{"fill", []string{"none: the model picks its size", "mask mask_url (required)", "nothing (the model's default)"}},
		{"Chat", []string{"Chat models (2), served by openrouter/router"}},
		{"gpt-4o", []string{"gpt-4o                   → openai/gpt-4o", "google/gemini-2.5-flash  → google/gemini-2.5-flash"}},
	}
	for _, tt := range tests {
		block, ok := got[tt.alias]
		if !ok {
			t.Errorf("no paragraph for %s in:\n%s", tt.alias, out)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(block, w) {
				t.Errorf("%s: lacks %q:\n%s", tt.alias, w, block)
			}
		}
	}
	assertNoSecrets(t, env, out)
}

func TestModelsJSON(t *testing.T) {
	env := testEnv(t, map[string]string{"SUPPORTED_MODELS": inspectedModels, "CHAT_ENDPOINT": "fal-ai/any-llm"})
	for _, flag := range []string{"--json", "-json"} {
		out, _, err := runCmd(t, env, "models", flag)
		if err != nil {
			t.Fatalf("models %s: %v", flag, err)
		}
		var r report
		dec := json.NewDecoder(strings.NewReader(out))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("models %s: not a report: %v\n%s", flag, err, out)
		}
		if n := strings.Count(inspectedModels, ",") + 1; len(r.ImageModels) != n || len(r.ChatModels) != 2 {
			t.Fatalf("%d image and %d chat models, want %d and 2", len(r.ImageModels), len(r.ChatModels), n)
		}
		families := map[string]string{}
		for _, m := range r.ImageModels {
			if m.Error != "" || m.Capabilities == nil {
				t.Fatalf("%s: %+v", m.Alias, m)
			}
			families[m.Alias] = string(m.Capabilities.Size.Kind)
		}
		for alias, kind := range map[string]string{"flux-dev": "image_size", "gpt-image-1": "pixels", "flux-ultra": "aspect_ratio", "lcm": "width_height", "fill": "none"} {
			if families[alias] != kind {
				t.Errorf("%s: family %q, want %q", alias, families[alias], kind)
			}
		}
		ex := r.ImageModels[0].Capabilities.Examples[1]
		if b, _ := json.Marshal(ex); string(b) != `{"size":"1536x1024","sent":{"image_size":{"height":1024,"width":1536}}}` {
			t.Errorf("flux-dev 1536x1024 example: %s", b)
		}
		if c := r.ChatModels[0]; c.Alias != "gpt-4o" || c.Model != "openai/gpt-4o" || c.Backend != "fal-ai/any-llm" || r.ChatBackend != "fal-ai/any-llm" {
			t.Errorf("chat: %+v, backend %q", c, r.ChatBackend)
		}
		if r.DefaultImageModel != "flux-dev" {
			t.Errorf("default image model %q", r.DefaultImageModel)
		}
	}
}

// TestModelsFetchFailure checks that a model whose schema cannot be had is
// reported, the others are still shown, and the command fails.
func TestModelsFetchFailure(t *testing.T) {
	env := testEnv(t, map[string]string{"SUPPORTED_MODELS": "ghost:fal-ai/no-such-model,flux-dev:fal-ai/flux/dev"})
	for _, args := range [][]string{{"models"}, {"models", "--json"}} {
		out, _, err := runCmd(t, env, args...)
		if exitStatus(err) != 1 || !strings.Contains(err.Error(), "1 of 2 image models") {
			t.Fatalf("%v: err %v, want exit 1 naming 1 of 2 models", args, err)
		}
		for _, w := range []string{"fal-ai/no-such-model", "unknown fal endpoint", "square_hd"} {
			if !strings.Contains(out, w) {
				t.Errorf("%v: output lacks %q:\n%s", args, w, out)
			}
		}
	}
}

func TestModelsUsage(t *testing.T) {
	env := testEnv(t, nil)
	tests := []struct {
		args   []string
		status int
		stderr string
	}{
		{[]string{"models", "--yaml"}, 2, "flag provided but not defined: -yaml"},
		{[]string{"models", "extra"}, 2, ""},
		{[]string{"check", "--json"}, 2, "flag provided but not defined: -json"},
		{[]string{"models", "--help"}, 0, "-json"},
		{[]string{"check", "-h"}, 0, "Usage of falproxy check"},
	}
	for _, tt := range tests {
		out, errOut, err := runCmd(t, env, tt.args...)
		if exitStatus(err) != tt.status || !strings.Contains(errOut, tt.stderr) {
			t.Errorf("%v: err %v, stderr %q; want exit %d and %q", tt.args, err, errOut, tt.status, tt.stderr)
		}
		if tt.status == 0 && out != "" {
			t.Errorf("%v: help ran the command too:\n%s", tt.args, out)
		}
	}
}

// TestModelsKinds checks that `falproxy models` says what each alias is
// for: image or edit (the schema requires an input image) and chat.
func TestModelsKinds(t *testing.T) {
	env := testEnv(t, map[string]string{"SUPPORTED_MODELS": inspectedModels})
	out, _, err := runCmd(t, env, "models")
	if err != nil {
		t.Fatalf("models: %v\n%s", err, out)
	}
	got := blocks(out)
	for alias, kind := range map[string]string{"flux-dev": "image", "gpt-image-1": "image", "kontext": "edit", "seedream-edit": "edit", "fill": "edit"} {
		if !regexp.MustCompile(`(?m)^  kind +` + kind + `$`).MatchString(got[alias]) {
			t.Errorf("%s: no kind %s in:\n%s", alias, kind, got[alias])
		}
	}
	if !regexp.MustCompile(`(?m)^  gpt-4o +→ openai/gpt-4o +chat$`).MatchString(got["gpt-4o"]) {
		t.Errorf("chat models without their kind:\n%s", got["gpt-4o"])
	}

	out, _, err = runCmd(t, env, "models", "--json")
	if err != nil {
		t.Fatalf("models --json: %v", err)
	}
	var r report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	for _, m := range r.ImageModels {
		want := registry.Image
		if !m.Capabilities.Generates {
			want = registry.Edit
		}
		if m.Kind != want {
			t.Errorf("%s: kind %q, want %q", m.Alias, m.Kind, want)
		}
	}
	for _, m := range r.ChatModels {
		if m.Kind != registry.Chat {
			t.Errorf("chat model %s: kind %q in --json", m.Alias, m.Kind)
		}
	}
}
