package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/falproxy/falproxy/internal/config"
	"github.com/falproxy/falproxy/internal/shutdown"
)

// instruction is one Dockerfile instruction with its continuation lines
// joined.
type instruction struct {
	cmd  string // upper case, e.g. "RUN"
	args string
}

// parseDockerfile splits a Dockerfile into instructions, dropping comments
// and blank lines.
func parseDockerfile(text string) []instruction {
	var out []instruction
	var cur strings.Builder
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if more, ok := strings.CutSuffix(trimmed, `\`); ok {
			cur.WriteString(more + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}

// readRepoFile reads a file at the module root.
func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDockerfileInvariants checks by reading it what the image must
// guarantee: a static build, a non-root numeric user, a health check that
// needs no tools the base lacks, and the right entry point.
func TestDockerfileInvariants(t *testing.T) {
	all := parseDockerfile(readRepoFile(t, "Dockerfile"))
	last := -1
	for i, in := range all {
		if in.cmd == "FROM" {
			last = i
		}
	}
	if last < 0 {
		t.Fatal("no FROM in Dockerfile")
	}
	final := all[last:]
	has := func(in []instruction, cmd string, re *regexp.Regexp) bool {
		for _, i := range in {
			if i.cmd == cmd && re.MatchString(i.args) {
				return true
			}
		}
		return false
	}
	tests := []struct {
		what  string
		stage []instruction
		cmd   string
		re    string
	}{
		{"final stage on distroless static or scratch", final[:1], "FROM", `^(gcr\.io/distroless/static\S*|scratch)(\s|$)`},
		{"static build", all, "RUN", `CGO_ENABLED=0 .*go build -trimpath -ldflags="-s -w"`},
		{"health check runs falproxy healthcheck", final, "HEALTHCHECK", `CMD \["/falproxy",\s*"healthcheck"\]$`},
		{"health checked often while the container starts", final, "HEALTHCHECK", `--start-interval=\d+s\b`},
		{"entry point", final, "ENTRYPOINT", `^\["/falproxy"\]$`},
		{"serve by default", final, "CMD", `^\["serve"\]$`},
		{"port", final, "EXPOSE", `^8000$`},
		{"working directory for a mounted .env", final, "WORKDIR", `^/\S+$`},
		{"working directory writable by the runtime user, for falproxy.db", final, "COPY", `--chown=65532:65532 \S+ /app$`},
	}
	for _, tt := range tests {
		if !has(tt.stage, tt.cmd, regexp.MustCompile(tt.re)) {
			t.Errorf("%s: no %s matching %s", tt.what, tt.cmd, tt.re)
		}
	}
	users := 0
	for _, in := range final {
		if in.cmd != "USER" {
			continue
		}
		users++
		uid, _, _ := strings.Cut(in.args, ":")
		if n, err := strconv.Atoi(uid); err != nil || n == 0 {
			t.Errorf("USER %s: want a numeric, non-root user id", in.args)
		}
	}
	if users == 0 {
		t.Error("the final stage sets no USER")
	}
	for _, in := range all {
		if regexp.MustCompile(`(?i)\b(curl|wget)\b`).MatchString(in.args) {
			t.Errorf("%s %s: the image must not need curl or wget", in.cmd, in.args)
		}
	}
}

// TestComposeAndIgnore checks the hardening compose.yaml promises of the
// single falproxy service, on its own fields rather than anywhere in the
// file, where the fleet's replicas repeat most of them, and that .env
// never enters the build context.
func TestComposeAndIgnore(t *testing.T) {
	var compose struct {
		Services map[string]struct {
			EnvFile         string   `yaml:"env_file"`
			ReadOnly        bool     `yaml:"read_only"`
			Tmpfs           []string `yaml:"tmpfs"`
			SecurityOpt     []string `yaml:"security_opt"`
			CapDrop         []string `yaml:"cap_drop"`
			Restart         string   `yaml:"restart"`
			MemLimit        string   `yaml:"mem_limit"`
			Ports           []string `yaml:"ports"`
			Volumes         []string `yaml:"volumes"`
			StopGracePeriod string   `yaml:"stop_grace_period"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal([]byte(readRepoFile(t, "compose.yaml")), &compose); err != nil {
		t.Fatal(err)
	}
	s, ok := compose.Services["falproxy"]
	if !ok {
		t.Fatal("compose.yaml has no falproxy service")
	}
	checks := []struct {
		what string
		ok   bool
	}{
		{"env_file .env", s.EnvFile == ".env"},
		{"a read-only root", s.ReadOnly},
		{"a tmpfs at /tmp", slices.Contains(s.Tmpfs, "/tmp")},
		{"no new privileges", slices.Contains(s.SecurityOpt, "no-new-privileges:true")},
		{"every capability dropped", slices.Equal(s.CapDrop, []string{"ALL"})},
		{"restart unless stopped", s.Restart == "unless-stopped"},
		{"a memory limit", s.MemLimit != ""},
		{"port 8000 on loopback only", slices.Equal(s.Ports, []string{"127.0.0.1:8000:8000"})},
		{"a volume at /app for falproxy.db", slices.ContainsFunc(s.Volumes, func(v string) bool { return strings.HasSuffix(v, ":/app") })},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("the falproxy service of compose.yaml lacks %s: %+v", c.what, s)
		}
	}
	grace, err := time.ParseDuration(defaultOf(t, "SHUTDOWN_GRACE"))
	if err != nil {
		t.Fatal(err)
	}
	if stop, err := time.ParseDuration(s.StopGracePeriod); err != nil || stop <= grace+shutdown.Tail {
		t.Errorf("the falproxy service's stop_grace_period %q, want more than SHUTDOWN_GRACE %v + %v", s.StopGracePeriod, grace, shutdown.Tail)
	}
	ignored := strings.Split(readRepoFile(t, ".dockerignore"), "\n")
	if !containsLine(ignored, ".env") || !containsLine(ignored, ".git") {
		t.Error(".dockerignore must exclude .env and .git")
	}
}

// TestDatabaseFilesIgnored: the default SQLite store, falproxy.db in the
// working directory with its -wal and -shm files, holds hashed keys and the
// ledger; it must stay out of commits and out of the image's build context.
func TestDatabaseFilesIgnored(t *testing.T) {
	for _, list := range []string{".gitignore", ".dockerignore"} {
		patterns := strings.Split(readRepoFile(t, list), "\n")
		for _, name := range []string{"falproxy.db", "falproxy.db-wal", "falproxy.db-shm"} {
			if !ignores(patterns, name) {
				t.Errorf("%s does not exclude %s", list, name)
			}
		}
	}
}

// ignores reports whether one of the ignore patterns matches a file at the
// repository's root.
func ignores(patterns []string, name string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool {
		ok, _ := filepath.Match(strings.TrimPrefix(p, "/"), name)
		return ok
	})
}

// TestHealthcheck checks that `falproxy healthcheck` passes against a
// running proxy, and fails before it starts and after it stops.
func TestHealthcheck(t *testing.T) {
	t.Cleanup(http.DefaultClient.CloseIdleConnections)
	env := testEnv(t, map[string]string{"PORT": freePort(t), "SHUTDOWN_GRACE": "1s"})
	health := func() error {
		return run(context.Background(), []string{"healthcheck"}, lookup(env), io.Discard, io.Discard)
	}

	if err := health(); err == nil {
		t.Fatal("healthcheck passed with nothing listening")
	}
	r := startRun(t, []string{"serve"}, env)
	if err := health(); err != nil {
		t.Fatalf("healthcheck against a running proxy: %v", err)
	}
	if err := r.shutdown(t); err != nil {
		t.Fatalf("serve: %v", err)
	}
	if err := health(); err == nil {
		t.Fatal("healthcheck passed after the proxy stopped")
	}
}

// defaultOf is the default of configuration variable name.
func defaultOf(t *testing.T, name string) string {
	t.Helper()
	for _, v := range config.Variables {
		if v.Name == name {
			return v.Default
		}
	}
	t.Fatalf("no variable %s", name)
	return ""
}
