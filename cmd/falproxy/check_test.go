package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/falproxy/falproxy/internal/fleet/redistest"
	"github.com/falproxy/falproxy/internal/store"
	"github.com/falproxy/falproxy/internal/store/pgtest"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		vars    map[string]string
		status  int
		stdout  []string // lines expected on stdout
		errText []string // lines expected in the error (what main prints)
		hidden  []string // never printed
	}{
		{
			name: "demo models, edit-only ones warned about",
			stdout: []string{
				"warning: kontext (fal-ai/flux-pro/kontext): edit-only model: generations will be refused; edits work",
				"warning: seedream-edit (fal-ai/bytedance/seedream/v4/edit): edit-only model: generations will be refused; edits work",
				"warning: flux-fill (fal-ai/flux-pro/v1/fill): edit-only model: generations will be refused; edits work",
				"ok: 13 image models, 2 chat models",
			},
		},
		{
			name:   "unknown endpoint",
			vars:   map[string]string{"SUPPORTED_MODELS": "flux-dev:fal-ai/flux/dev,flux-typo:fal-ai/flux/deev"},
			status: 1,
			errText: []string{
				"flux-typo (fal-ai/flux/deev): schema fetch failed: falschema: fetch fal-ai/flux/deev: unknown fal endpoint (HTTP 404)",
			},
		},
		{
			name:   "edit-only default model",
			vars:   map[string]string{"SUPPORTED_MODELS": "kontext:fal-ai/flux-pro/kontext,flux-dev:fal-ai/flux/dev"},
			status: 1,
			errText: []string{
				"kontext (fal-ai/flux-pro/kontext): edit-only model is the default image model: generations without a model will be refused",
			},
		},
		{
			name:   "schema service unreachable",
			vars:   map[string]string{"SUPPORTED_MODELS": "a:fal-ai/flux/dev,b:fal-ai/fast-sdxl", "FAL_OPENAPI_URL": "http://127.0.0.1:1/openapi.json"},
			status: 1,
			errText: []string{
				"a (fal-ai/flux/dev): schema fetch failed: ",
				"b (fal-ai/fast-sdxl): schema fetch failed: ",
			},
		},
		{
			name:    "invalid configuration",
			vars:    map[string]string{"PORT": "eighty", "AI_KEYS": "dupid:dupsecret,dupid:dupsecret"},
			status:  2,
			errText: []string{"config: AI_KEYS ", "config: PORT must be an integer between 1 and 65535"},
		},
		{
			name:    "database unreachable, its password not shown",
			vars:    map[string]string{"DATABASE_URL": "postgres://falproxy:s3cretdbpassword@127.0.0.1:1/falproxy?sslmode=disable"},
			status:  1,
			errText: []string{"database postgres://127.0.0.1:1/falproxy: unreachable: "},
			hidden:  []string{"s3cretdbpassword"},
		},
		{
			name:    "SQLite file in a missing directory",
			vars:    map[string]string{"DATABASE_URL": "sqlite:///nonexistent-dir/falproxy.db"},
			status:  1,
			errText: []string{"database sqlite:///nonexistent-dir/falproxy.db: unreachable: the directory of the SQLite file is missing"},
		},
		{
			name:    "required Redis unreachable, its password not shown",
			vars:    map[string]string{"REDIS_URL": "redis://:s3cretredispassword@127.0.0.1:1/0", "REDIS_REQUIRED": "true"},
			status:  1,
			errText: []string{"redis redis://127.0.0.1:1/0: unreachable: "},
			hidden:  []string{"s3cretredispassword"},
		},
		{
			name:    "malformed Redis URL, its password not shown",
			vars:    map[string]string{"REDIS_URL": "redis://user:s3cretpassword@host:badport/0"},
			status:  2,
			errText: []string{"config: REDIS_URL is not a valid Redis URL"},
			hidden:  []string{"s3cretpassword", "badport"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := testEnv(t, tt.vars)
			out, errOut, err := runCmd(t, env, "check")
			if got := exitStatus(err); got != tt.status {
				t.Fatalf("exit %d (%v), want %d\n%s", got, err, tt.status, out)
			}
			lines := strings.Split(out, "\n")
			for _, w := range tt.stdout {
				if !containsLine(lines, w) {
					t.Errorf("stdout lacks the line %q:\n%s", w, out)
				}
			}
			if err != nil {
				errLines := strings.Split(err.Error(), "\n")
				if len(errLines) != len(tt.errText) {
					t.Errorf("%d problem lines, want %d:\n%v", len(errLines), len(tt.errText), err)
				}
				for _, w := range tt.errText {
					if !hasLinePrefix(errLines, w) {
						t.Errorf("error lacks a line starting %q:\n%v", w, err)
					}
				}
				assertNoSecrets(t, env, err.Error())
			}
			assertNoSecrets(t, env, out+errOut)
			for _, h := range tt.hidden {
				if strings.Contains(out+errOut+fmt.Sprint(err), h) {
					t.Errorf("the output shows %q", h)
				}
			}
		})
	}
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

func hasLinePrefix(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

// TestCheckReachesDatabaseAndRedis: with a database and a Redis that
// answer, check says so, each on a line naming no user or password, and
// leaves the database unmigrated: serve migrates it.
func TestCheckReachesDatabaseAndRedis(t *testing.T) {
	pg := pgtest.URL(t)
	r := redistest.Start(t)
	withPassword := strings.Replace(r.URL(), "redis://", "redis://:unused-password@", 1) // the server takes any
	env := testEnv(t, map[string]string{"DATABASE_URL": pg, "REDIS_URL": withPassword})
	out, _, err := runCmd(t, env, "check")
	if err != nil {
		t.Fatalf("check: %v\n%s", err, out)
	}
	u, _ := url.Parse(pg)
	lines := strings.Split(out, "\n")
	for _, want := range []string{
		fmt.Sprintf("database postgres://%s%s: reachable, empty or not created yet: serve creates its schema at start", u.Host, u.Path),
		"redis " + r.URL() + ": reachable",
	} {
		if !containsLine(lines, want) {
			t.Errorf("stdout lacks the line %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "unused-password") {
		t.Errorf("the output shows Redis's password:\n%s", out)
	}
	if have, _, err := store.Probe(context.Background(), pg); err != nil || have != 0 {
		t.Errorf("after check the database is at version %d (%v), want 0: check must not migrate", have, err)
	}
}
