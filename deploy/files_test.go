package deploy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/falproxy/falproxy/internal/config"
	"github.com/falproxy/falproxy/internal/shutdown"
)

// fleetVariables are the variables of the state that replicas share
// through Redis, which internal/config gains in a change of its own. They
// are allowed here by name so that these tests hold both before and after
// config.Variables lists them.
var fleetVariables = []string{"REDIS_URL", "REDIS_REQUIRED", "REPLICAS"}

// readRepoFile reads a file given by its path from the module root.
func readRepoFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(path)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// composeVariable is a ${NAME}, ${NAME-default} or ${NAME:-default}
// reference of a Compose file.
var composeVariable = regexp.MustCompile(`\$\{[A-Za-z_][A-Za-z0-9_]*(?::?-([^}]*))?\}`)

// interpolateUnset replaces each variable reference of a Compose file as
// Compose does when the variable is unset: with its default, else nothing.
func interpolateUnset(b []byte) []byte {
	return composeVariable.ReplaceAll(b, []byte("$1"))
}

// decodeDocuments decodes every YAML document of b, in order.
func decodeDocuments(t *testing.T, name string, b []byte) []*yaml.Node {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var docs []*yaml.Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		docs = append(docs, &doc)
	}
}

// decodeInto decodes node into out, failing the test with name on error.
func decodeInto(t *testing.T, name string, node *yaml.Node, out any) {
	t.Helper()
	if err := node.Decode(out); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// knownVariables is every name falproxy reads from its environment: the
// variables of internal/config with their aliases, and fleetVariables.
func knownVariables() map[string]bool {
	known := map[string]bool{}
	for _, v := range config.Variables {
		known[v.Name] = true
		for _, alias := range v.Aliases {
			known[alias] = true
		}
	}
	for _, name := range fleetVariables {
		known[name] = true
	}
	return known
}

// checkKnownVariables reports each name falproxy would not read: a
// misspelt variable is silently ignored, so its setting never applies.
func checkKnownVariables(t *testing.T, where string, names []string) {
	t.Helper()
	known := knownVariables()
	for _, name := range names {
		if !known[name] {
			t.Errorf("%s sets %s, which falproxy does not read", where, name)
		}
	}
}

// loadConfig loads env as falproxy would at start-up. The access and fal
// keys, which come from .env or a Secret that holds no real values here,
// are stood in for when env lacks them.
func loadConfig(env map[string]string) (*config.Config, error) {
	standIns := map[string]string{
		"CUSTOM_ACCESS_KEY": "stand-in-access-key",
		"AI_KEYS":           "stand-in-fal-key",
	}
	return config.Load(func(name string) string {
		if v, ok := env[name]; ok {
			return v
		}
		return standIns[name]
	})
}

// mustLoadConfig is loadConfig for settings that must be valid.
func mustLoadConfig(t *testing.T, where string, env map[string]string) *config.Config {
	t.Helper()
	cfg, err := loadConfig(env)
	if err != nil {
		t.Fatalf("%s: falproxy would not start: %v", where, err)
	}
	return cfg
}

// checkStopTime checks that a container given stop to shut down is not
// killed while falproxy may still be finishing requests or cancelling
// their fal jobs.
func checkStopTime(t *testing.T, where string, stop, shutdownGrace time.Duration) {
	t.Helper()
	if need := shutdownGrace + shutdown.Tail; stop <= need {
		t.Errorf("%s: %v before the kill, want more than SHUTDOWN_GRACE %v + %v", where, stop, shutdownGrace, shutdown.Tail)
	}
}
