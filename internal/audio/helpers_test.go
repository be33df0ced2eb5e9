package audio

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/falproxy/falproxy/internal/falschema"
)

// audioSpec reduces the emulator's copy of fal's document for endpoint.
func audioSpec(t *testing.T, endpoint string) *falschema.Audio {
	t.Helper()
	name := strings.ReplaceAll(endpoint, "/", "__") + ".json"
	doc, err := os.ReadFile(filepath.Join("..", "falfake", "schemas", name))
	if err != nil {
		t.Fatal(err)
	}
	caps, err := falschema.Reduce(doc, endpoint)
	if err != nil {
		t.Fatal(err)
	}
	if caps.Audio == nil {
		t.Fatalf("%s is not an audio model", endpoint)
	}
	return caps.Audio
}

// jsonOf encodes v with sorted keys, for comparing inputs.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var norm any
	_ = json.Unmarshal(b, &norm)
	b, _ = json.Marshal(norm)
	return string(b)
}
