package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestAdminWarnsOfUnservedModels: a key whose model list names an alias
// this falproxy does not serve is created (another replica may serve it)
// and changed as asked, with a warning naming that alias only.
func TestAdminWarnsOfUnservedModels(t *testing.T) {
	h := newHarness(t, withTeams(&teamsSetup{url: sqliteURL(t)}), quick)
	var created struct {
		ID       string   `json:"id"`
		Models   []string `json:"models"`
		Warnings []string `json:"warnings"`
	}
	spec := map[string]any{"name": "typo", "models": []string{"flux-dev", "gtp-4o"}}
	if status := h.admin(http.MethodPost, "/admin/keys", spec, &created); status != http.StatusCreated ||
		len(created.Models) != 2 || len(created.Warnings) != 1 || !strings.Contains(created.Warnings[0], `"gtp-4o"`) {
		t.Fatalf("create: %d %+v", status, created)
	}
	var updated struct {
		Warnings []string `json:"warnings"`
	}
	if status := h.admin(http.MethodPatch, "/admin/keys/"+created.ID, map[string]any{"models": []string{"flux-dev", "gpt-4o"}}, &updated); status != http.StatusOK || len(updated.Warnings) != 0 {
		t.Fatalf("update to served models: %d %+v", status, updated)
	}
	if status := h.admin(http.MethodPatch, "/admin/keys/"+created.ID, map[string]any{"models": []string{"dall-e-2"}}, &updated); status != http.StatusOK ||
		len(updated.Warnings) != 1 || !strings.Contains(updated.Warnings[0], `"dall-e-2"`) {
		t.Fatalf("update to an unserved model: %d %+v", status, updated)
	}
}
