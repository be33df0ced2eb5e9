package server_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/falproxy/falproxy/internal/falfake"
)

// listedKinds lists the models as a client would and returns each alias's
// fal.kind, checking that the OpenAI fields are all there.
func (h *harness) listedKinds() map[string]string {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodGet, h.url+"/v1/models", nil)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+accessKey)
	code, _, body := h.do(req)
	var list struct {
		Object string `json:"object"`
		Data   []struct {
			ID      string `json:"id"`
			Object  string `json:"object"`
			Created int64  `json:"created"`
			OwnedBy string `json:"owned_by"`
			Fal     struct {
				Kind string `json:"kind"`
			} `json:"fal"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &list); code != http.StatusOK || err != nil || list.Object != "list" {
		h.t.Fatalf("models: %d %v: %s", code, err, body)
	}
	kinds := map[string]string{}
	for _, m := range list.Data {
		if m.Object != "model" || m.Created == 0 || m.OwnedBy == "" {
			h.t.Errorf("%s lacks an OpenAI field: %+v", m.ID, m)
		}
		kinds[m.ID] = m.Fal.Kind
	}
	return kinds
}

// TestListModelsKinds checks that every listed alias says what it is for,
// that an edit-only model is listed as edit once its schema is known, and
// that listing asks fal for nothing.
func TestListModelsKinds(t *testing.T) {
	h := newHarness(t)
	kinds := h.listedKinds()
	want := map[string]string{"flux-dev": "image", "dall-e-3": "image", "fal-ai/flux/schnell": "image", "sdxl": "image",
		"ultra": "image", "ideogram": "image", "imagen4": "image", "gpt-image-1": "image", "recraft": "image", "seedream": "image",
		"kontext": "image", "gpt-4o": "chat", "google/gemini-2.5-flash": "chat"}
	if len(kinds) != len(want) {
		t.Errorf("listed %v, want %v", kinds, want)
	}
	for id, kind := range want {
		if kinds[id] != kind {
			t.Errorf("%s: kind %q, want %q", id, kinds[id], kind)
		}
	}
	if n := len(h.falCalls(falfake.OpSchema)); n != 0 {
		t.Fatalf("listing fetched %d schemas, want none", n)
	}

	if code, _ := h.getModel("kontext"); code != http.StatusOK {
		t.Fatalf("kontext: status %d", code)
	}
	kinds = h.listedKinds()
	if kinds["kontext"] != "edit" || kinds["flux-dev"] != "image" || kinds["gpt-4o"] != "chat" {
		t.Errorf("after kontext's schema is known: %v, want kontext edit", kinds)
	}
	if n := len(h.falCalls(falfake.OpSchema)); n != 1 {
		t.Errorf("fal received %d schema fetches, want 1 (for GET kontext)", n)
	}
}

// TestGetModelKinds checks the kind under "fal" of GET /v1/models/{model}:
// from the schema for image models, also when the schema cannot be had.
func TestGetModelKinds(t *testing.T) {
	h := newEditHarness(t, nil)
	for id, want := range map[string]string{"flux-dev": "image", "gpt-image-1": "image", "kontext": "edit",
		"seedream-edit": "edit", "fill": "edit", "gpt-4o": "chat", "google/gemini-2.5-flash": "chat"} {
		code, m := h.getModel(id)
		var fal struct {
			Kind string `json:"kind"`
		}
		if err := json.Unmarshal(m.Fal, &fal); code != http.StatusOK || err != nil || fal.Kind != want {
			t.Errorf("%s: status %d, fal %s, want kind %q", id, code, m.Fal, want)
		}
	}
}
