// Package schematest provides OpenAPI documents in the shape fal publishes,
// written for falproxy's own tests (one per size family and input style),
// and functions that load optional reference documents from outside the
// package for conformance tests.
package schematest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/falproxy/falproxy/internal/ciskip"
)

// Case is one test document.
type Case struct {
	Name     string // what the document exercises
	Endpoint string // the endpoint id it describes
	Doc      []byte
}

// imageSize is fal's shared {width, height} schema.
const imageSize = `{"type":"object","title":"ImageSize","properties":{
	"width":{"type":"integer","exclusiveMinimum":0,"maximum":14142,"default":512},
	"height":{"type":"integer","exclusiveMinimum":0,"maximum":14142,"default":512}}}`

const queueStatus = `{"type":"object","required":["status","request_id"],"properties":{
	"status":{"type":"string","enum":["IN_QUEUE","IN_PROGRESS","COMPLETED"]},
	"request_id":{"type":"string"}}}`

const output = `{"type":"object","required":["images"],"properties":{
	"images":{"type":"array","items":{"type":"object","properties":{"url":{"type":"string"}}}},
	"seed":{"type":"integer"}}}`

// Doc wraps an input schema into a fal-shaped document for endpoint. The
// input is stored as components.schemas.Input; extra holds further
// component schemas by name. ImageSize, QueueStatus and Output are always
// present.
func Doc(endpoint, input string, extra map[string]string) []byte {
	schemas := map[string]json.RawMessage{
		"ImageSize":   json.RawMessage(imageSize),
		"QueueStatus": json.RawMessage(queueStatus),
		"Output":      json.RawMessage(output),
		"Input":       json.RawMessage(input),
	}
	for k, v := range extra {
		schemas[k] = json.RawMessage(v)
	}
	ref := func(name string) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`{"200":{"description":"ok","content":{"application/json":{"schema":{"$ref":"#/components/schemas/%s"}}}}}`, name))
	}
	post := map[string]any{
		"requestBody": json.RawMessage(`{"required":true,"content":{"application/json":{"schema":{"$ref":"#/components/schemas/Input"}}}}`),
		"responses":   ref("QueueStatus"),
	}
	doc := map[string]any{
		"openapi": "3.0.4",
		"info":    map[string]string{"title": "Queue OpenAPI for " + endpoint, "version": "1.0.0"},
		"components": map[string]any{
			"schemas":         schemas,
			"securitySchemes": map[string]any{"apiKeyAuth": map[string]string{"type": "apiKey", "in": "header", "name": "Authorization"}},
		},
		"paths": map[string]any{
			"/" + endpoint: map[string]any{"post": post},
			"/" + endpoint + "/requests/{request_id}": map[string]any{
				"get": map[string]any{"responses": ref("Output")},
			},
		},
		"servers": []map[string]string{{"url": "https://queue.fal.run"}},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(fmt.Sprintf("schematest: %s: invalid test schema: %v", endpoint, err))
	}
	return b
}

// Cases returns the project's own test documents, a fresh copy each call.
func Cases() []Case {
	out := make([]Case, len(cases))
	for i, c := range cases {
		out[i] = Case{Name: c.name, Endpoint: c.endpoint, Doc: Doc(c.endpoint, c.input, c.extra)}
	}
	return out
}

// Get returns the test document for endpoint; it panics on an unknown id,
// which is a mistake in the test.
func Get(endpoint string) Case {
	for _, c := range Cases() {
		if c.Endpoint == endpoint {
			return c
		}
	}
	panic("schematest: no test document for " + endpoint)
}

// FindDir locates a folder given relative to the module root (the nearest
// parent of the working directory holding go.mod) and skips the test when
// it does not exist, so that tests depending on documents outside the
// package pass on a fresh clone without them; in CI it fails instead (see
// ciskip).
func FindDir(tb testing.TB, rel string) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		ciskip.Skipf(tb, "no working directory: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			ciskip.Skipf(tb, "module root not found")
		}
		dir = parent
	}
	target := filepath.Join(dir, filepath.FromSlash(rel))
	if st, err := os.Stat(target); err != nil || !st.IsDir() {
		ciskip.Skipf(tb, "%s is absent; skipping", target)
	}
	return target
}

// LoadDir reads every *.json document of dir. File names are endpoint ids
// with "/" written as "__", optionally ending in ".reconstructed.json".
func LoadDir(tb testing.TB, dir string) []Case {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		tb.Fatal(err)
	}
	sort.Strings(files)
	var out []Case
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		base := filepath.Base(f)
		base = strings.TrimSuffix(strings.TrimSuffix(base, ".json"), ".reconstructed")
		out = append(out, Case{Name: base, Endpoint: strings.ReplaceAll(base, "__", "/"), Doc: b})
	}
	if len(out) == 0 {
		ciskip.Skipf(tb, "no documents in %s", dir)
	}
	return out
}
