package falfake

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/falproxy/falproxy/internal/ciskip"
	"github.com/falproxy/falproxy/internal/falschema/schematest"
)

func TestSchemaRoute(t *testing.T) {
	f, c := start(t, Options{})
	ids := f.Endpoints()
	if len(ids) < 20 || !slices.IsSorted(ids) {
		t.Fatalf("endpoints %v", ids)
	}
	for _, id := range ids {
		r := c.withKey("").do("GET", f.OpenAPIURL()+"?endpoint_id="+id, nil)
		if r.status != 200 || r.header.Get("Content-Type") != "application/json" {
			t.Fatalf("%s: %d", id, r.status)
		}
		// The proxy finds the input schema exactly like this.
		var doc struct {
			Paths map[string]struct {
				Post *struct {
					RequestBody struct {
						Content map[string]struct {
							Schema struct {
								Ref string `json:"$ref"`
							} `json:"schema"`
						} `json:"content"`
					} `json:"requestBody"`
				} `json:"post"`
			} `json:"paths"`
			Components struct {
				Schemas map[string]json.RawMessage `json:"schemas"`
			} `json:"components"`
		}
		if err := json.Unmarshal(r.body, &doc); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		post := doc.Paths["/"+id].Post
		if post == nil {
			t.Fatalf("%s: no POST at /%s", id, id)
		}
		ref := post.RequestBody.Content["application/json"].Schema.Ref
		name, ok := strings.CutPrefix(ref, "#/components/schemas/")
		if !ok || doc.Components.Schemas[name] == nil || !strings.HasSuffix(name, "Input") {
			t.Errorf("%s: input ref %q", id, ref)
		}
	}
	for _, q := range []string{"?endpoint_id=fal-ai/nope", ""} {
		if r := c.do("GET", f.OpenAPIURL()+q, nil); r.status != 404 || string(r.body) != "null" {
			t.Errorf("%q: %d %s", q, r.status, r.body)
		}
	}
	if got := f.Counts(); got.Schemas != len(ids)+2 || got.ByEndpoint["fal-ai/flux/dev"] != 1 {
		t.Errorf("counts %+v", got)
	}
}

// tinyDoc is a minimal document in fal's shape for an extra endpoint.
const tinyDoc = `{
  "openapi": "3.0.4",
  "paths": {
    "/acme/tiny": {"post": {"requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/TinyInput"}}}}}},
    "/acme/tiny/requests/{request_id}": {"get": {"responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/TinyOutput"}}}}}}}
  },
  "components": {"schemas": {
    "TinyInput": {"type": "object", "required": ["prompt"], "properties": {
      "prompt": {"type": "string"},
      "size": {"type": "string", "enum": ["s", "m"]}
    }},
    "TinyOutput": {"type": "object", "properties": {"images": {"type": "array"}}}
  }}
}`

func TestExtraSchemas(t *testing.T) {
	f, c := start(t, Options{Schemas: map[string][]byte{"acme/tiny": []byte(tinyDoc)}})
	if !slices.Contains(f.Endpoints(), "acme/tiny") {
		t.Fatalf("endpoints %v", f.Endpoints())
	}
	r := c.do("POST", f.RunURL()+"/acme/tiny", map[string]any{"prompt": "x"})
	out := r.json(t)
	if r.status != 200 || len(out["images"].([]any)) != 1 || len(out) != 1 {
		t.Errorf("extra endpoint run: %d %s", r.status, r.body)
	}
	if r := c.do("POST", f.RunURL()+"/acme/tiny", map[string]any{"prompt": "x", "size": "xl"}); r.status != 422 {
		t.Errorf("extra endpoint validation: %d %s", r.status, r.body)
	}
	if r := c.do("GET", f.OpenAPIURL()+"?endpoint_id=acme/tiny", nil); string(r.body) != tinyDoc {
		t.Errorf("served document differs")
	}

	for name, doc := range map[string]string{
		"not json":     `{`,
		"no post":      `{"paths":{}}`,
		"no output":    strings.ReplaceAll(tinyDoc, `"images"`, `"pictures"`),
		"no input ref": strings.ReplaceAll(tinyDoc, `"$ref": "#/components/schemas/TinyInput"`, `"type":"string"`),
	} {
		if f, err := New(Options{Schemas: map[string][]byte{"acme/tiny": []byte(doc)}}); err == nil {
			f.Close()
			t.Errorf("%s: New accepted a broken document", name)
		}
	}
}

// TestConformsToReferenceSchemas checks the built-in documents against
// fal's (one real, the rest reconstructed): every field the emulator
// declares must exist there with the same type, enum values and bounds,
// and the emulator must be able to serve fal's own documents.
func TestConformsToReferenceSchemas(t *testing.T) {
	dir := schematest.FindDir(t, "../shared/fal-schemas")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		ciskip.Skipf(t, "no reference documents in %s", dir)
	}
	ours := builtinModels(t)
	extra := map[string][]byte{}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := parseModel("", b)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(file), err)
			continue
		}
		extra[ref.id] = b
		m := ours[ref.id]
		if m == nil {
			continue
		}
		for _, name := range sortedKeys(m.input["properties"].(node)) {
			compareField(t, ref.id+"."+name, m, m.property(name), ref, ref.property(name))
		}
	}

	// fal's documents drive the emulator as well as its own.
	f, c := start(t, Options{Schemas: extra, AllowUnknownFields: true})
	for id, b := range extra {
		ref, _ := parseModel(id, b)
		input := map[string]any{"prompt": "a fox"}
		if ref.kind == kindLLM && ref.has("model") && ref.property("model")["enum"] == nil {
			input["model"] = "acme/m"
		}
		for _, req := range ref.input["required"].([]any) {
			switch name := req.(string); {
			case strings.HasSuffix(name, "_urls"):
				input[name] = []string{"https://example.com/in.png"}
			case strings.HasSuffix(name, "_url"):
				input[name] = "https://example.com/in.png"
			}
		}
		if r := c.do("POST", f.RunURL()+"/"+id, input); r.status != 200 {
			t.Errorf("%s with fal's document: %d %s", id, r.status, r.body)
		}
	}
}

// compareField reports where a field of ours disagrees with fal's.
func compareField(t *testing.T, where string, m *model, ours node, ref *model, theirs node) {
	t.Helper()
	if theirs == nil {
		t.Errorf("%s: not in fal's document", where)
		return
	}
	o, r := flatten(m, ours), flatten(ref, theirs)
	for _, k := range []string{"type", "minimum", "maximum", "exclusiveMinimum", "multipleOf"} {
		if r[k] != nil && o[k] != nil && r[k] != o[k] {
			t.Errorf("%s: %s is %v here, %v at fal", where, k, o[k], r[k])
		}
	}
	if oe, re := o["enum"], r["enum"]; oe != nil && re != nil {
		for _, v := range oe.([]any) {
			if !slices.Contains(re.([]any), v) {
				t.Errorf("%s: enum value %v not at fal", where, v)
			}
		}
	}
}

// flatten merges a field's schema with its anyOf/allOf members (skipping
// null), so that "an enum or an object" compares by its parts.
func flatten(m *model, s node) map[string]any {
	out := map[string]any{}
	var walk func(n node)
	walk = func(n node) {
		n = m.deref(n)
		for _, k := range []string{"anyOf", "allOf"} {
			if subs, ok := n[k].([]any); ok {
				for _, sub := range subs {
					if sn, ok := sub.(node); ok && sn["type"] != "null" {
						walk(sn)
					}
				}
			}
		}
		for k, v := range n {
			if k == "enum" {
				prev, _ := out["enum"].([]any)
				out["enum"] = append(prev, v.([]any)...)
			} else if _, seen := out[k]; !seen {
				out[k] = v
			}
		}
	}
	walk(s)
	return out
}
