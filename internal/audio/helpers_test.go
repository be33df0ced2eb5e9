package audio

import (
	"encoding/json"
	"testing"

	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/falschema/schematest"
)

// audioSpec reduces fal's reference document for endpoint, in
// ../shared/fal-schemas/media beside the repository (absent, the test is
// skipped, and fails under CI=true).
func audioSpec(t *testing.T, endpoint string) *falschema.Audio {
	t.Helper()
	dir := schematest.FindDir(t, "../shared/fal-schemas/media")
	for _, c := range schematest.LoadDir(t, dir) {
		if c.Endpoint != endpoint {
			continue
		}
		caps, err := falschema.Reduce(c.Doc, endpoint)
		if err != nil {
			t.Fatal(err)
		}
		if caps.Audio == nil {
			t.Fatalf("%s is not an audio model", endpoint)
		}
		return caps.Audio
	}
	t.Fatalf("%s has no document in %s", endpoint, dir)
	return nil
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
