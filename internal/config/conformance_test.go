package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/falproxy/falproxy/internal/chat"
	"github.com/falproxy/falproxy/internal/falschema/schematest"
)

// TestDefaultEndpointsAreRealFalEndpoints checks that the default image
// models and the prompt-folding chat endpoints are endpoints fal documents,
// each with a POST operation at /<endpoint id>.
func TestDefaultEndpointsAreRealFalEndpoints(t *testing.T) {
	dir := schematest.FindDir(t, "../shared/fal-schemas")
	c := mustLoad(t, nil)
	ids := []string{chat.Router.String(), chat.AnyLLM.String()}
	for _, m := range c.ImageModels {
		ids = append(ids, m.Endpoint)
	}
	for _, id := range ids {
		t.Run(id, func(t *testing.T) {
			base := filepath.Join(dir, strings.ReplaceAll(id, "/", "__"))
			data, err := os.ReadFile(base + ".json")
			if os.IsNotExist(err) {
				data, err = os.ReadFile(base + ".reconstructed.json")
			}
			if err != nil {
				t.Fatalf("no OpenAPI document for %s: %v", id, err)
			}
			var doc struct {
				Paths map[string]map[string]json.RawMessage `json:"paths"`
			}
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatalf("decoding the document of %s: %v", id, err)
			}
			if _, ok := doc.Paths["/"+id]["post"]; !ok {
				t.Errorf("the document of %s has no POST /%s", id, id)
			}
		})
	}
}
