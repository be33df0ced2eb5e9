package server_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestAdminPageInBrowser drives the admin page in headless Chromium
// (test/browser/admin.mjs): a key created on the page works on the
// playground and the API, its spend appears, and once revoked it is
// refused; the store agrees.
func TestAdminPageInBrowser(t *testing.T) {
	node, dir := findBrowser(t)
	ts := &teamsSetup{url: sqliteURL(t)}
	h := newHarness(t, withTeams(ts), quick, func(s *setup) { s.server.Playground = true })
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "admin.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "FALPROXY_URL="+h.url, "FALPROXY_ADMIN_KEY="+adminKey)
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the admin page failed in the browser: %v\n%s", err, out)
	}
	t.Logf("%s", strings.TrimSpace(string(out)))
	keys, err := ts.store.Keys(context.Background())
	if err != nil || len(keys) != 0 {
		t.Fatalf("keys left in the store: %+v %v", keys, err)
	}
	if n := h.falSubmits("fal-ai/flux/dev"); n != 1 {
		t.Fatalf("fal received %d jobs, want the one the key paid for", n)
	}
}

func TestAdminPageNeedsAdminKeyAndPlayground(t *testing.T) {
	for name, mod := range map[string]func(*setup){
		"playground without ADMIN_KEY": func(s *setup) { s.server.Playground = true },
		"ADMIN_KEY without playground": withTeams(&teamsSetup{url: sqliteURL(t)}),
	} {
		h := newHarness(t, mod)
		req, _ := http.NewRequest(http.MethodGet, h.url+"/admin", nil)
		if status, _, _ := h.do(req); status != http.StatusNotFound {
			t.Errorf("%s: /admin answered %d", name, status)
		}
	}
}
