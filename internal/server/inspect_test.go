package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/registry"
	"github.com/falproxy/falproxy/internal/server"
)

// modelBody is GET /v1/models/{model} as a client decodes it.
type modelBody struct {
	ID     string          `json:"id"`
	Object string          `json:"object"`
	Fal    json.RawMessage `json:"fal"`
}

func (h *harness) getModel(id string) (int, modelBody) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodGet, h.url+"/v1/models/"+id, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+accessKey)
	code, _, body := h.do(req)
	var m modelBody
	if code == http.StatusOK {
		if err := json.Unmarshal(body, &m); err != nil {
			h.t.Fatalf("model body: %v: %s", err, body)
		}
	}
	return code, m
}

func TestGetModelCarriesFal(t *testing.T) {
	h := newHarness(t, func(s *setup) {
		s.server.ImageModels = append(s.server.ImageModels, registry.ImageModel{Alias: "ghost", Endpoint: "fal-ai/no-such-model"})
		s.server.SafetyChecker = true
	})
	tests := []struct {
		id       string
		endpoint string
		kind     string // size family, "" when no capabilities are expected
		example  string // JSON of the size fields 1536x1024 becomes
		err      string // part of the error, for a failed fetch
	}{
		{id: "flux-dev", endpoint: "fal-ai/flux/dev", kind: "image_size", example: `{"image_size":{"height":1024,"width":1536}}`},
		{id: "fal-ai/flux/schnell", endpoint: "fal-ai/flux/schnell", kind: "image_size"},
		{id: "ultra", endpoint: "fal-ai/flux-pro/v1.1-ultra", kind: "aspect_ratio", example: `{"aspect_ratio":"3:2"}`},
		{id: "gpt-image-1", endpoint: "fal-ai/gpt-image-1/text-to-image", kind: "pixels", example: `{"image_size":"1536x1024"}`},
		{id: "ghost", endpoint: "fal-ai/no-such-model", err: "fal has no schema for this model"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			code, m := h.getModel(tt.id)
			if code != http.StatusOK || m.ID != tt.id || m.Object != "model" {
				t.Fatalf("status %d, model %+v", code, m)
			}
			var info server.ImageModelInfo
			if err := json.Unmarshal(m.Fal, &info); err != nil {
				t.Fatalf("fal: %v: %s", err, m.Fal)
			}
			if info.Endpoint != tt.endpoint || info.Alias != "" {
				t.Errorf("fal = %s, want endpoint %q and no alias", m.Fal, tt.endpoint)
			}
			if tt.err != "" {
				if info.Capabilities != nil || !strings.Contains(info.Error, tt.err) {
					t.Errorf("fal = %s, want an error containing %q", m.Fal, tt.err)
				}
				return
			}
			c := info.Capabilities
			if c == nil || info.Error != "" {
				t.Fatalf("fal = %s, want capabilities", m.Fal)
			}
			if string(c.Size.Kind) != tt.kind || !c.Generates {
				t.Errorf("size kind %q, generates %v; want %q, true", c.Size.Kind, c.Generates, tt.kind)
			}
			if tt.example == "" {
				return
			}
			found := false
			for _, ex := range c.Examples {
				if ex.Size != "1536x1024" {
					continue
				}
				found = true
				if got, _ := json.Marshal(ex.Sent); string(got) != tt.example {
					t.Errorf("1536x1024 sends %s, want %s", got, tt.example)
				}
			}
			if !found {
				t.Errorf("no 1536x1024 example in %+v", c.Examples)
			}
		})
	}
}

func TestGetModelEditOnly(t *testing.T) {
	h := newHarness(t)
	code, m := h.getModel("kontext")
	var info server.ImageModelInfo
	if err := json.Unmarshal(m.Fal, &info); code != http.StatusOK || err != nil {
		t.Fatalf("status %d, %v: %s", code, err, m.Fal)
	}
	c := info.Capabilities
	if c == nil || c.Generates || c.Edit == nil || c.Edit.Field == "" {
		t.Fatalf("kontext = %s, want an edit-only model with its image field", m.Fal)
	}
}

func TestGetChatModelCarriesFal(t *testing.T) {
	h := newHarness(t, func(s *setup) { s.server.ChatBackend = chat.AnyLLM })
	code, m := h.getModel("gpt-4o")
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	var info server.ChatModelInfo
	if err := json.Unmarshal(m.Fal, &info); err != nil {
		t.Fatalf("fal: %v: %s", err, m.Fal)
	}
	if info != (server.ChatModelInfo{Kind: registry.Chat, Model: "openai/gpt-4o", Backend: chat.AnyLLM.String()}) {
		t.Errorf("fal = %s, want model openai/gpt-4o on %s", m.Fal, chat.AnyLLM.String())
	}
	if code, _ := h.getModel("nope"); code != http.StatusNotFound {
		t.Errorf("unknown model: status %d, want 404", code)
	}
}
