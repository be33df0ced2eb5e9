package chat

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/falproxy/falproxy/internal/falschema/schematest"
	"github.com/falproxy/falproxy/internal/openai"
)

// property is the part of a JSON schema the conformance tests read.
type property struct {
	Ref        string              `json:"$ref"`
	Type       string              `json:"type"`
	Enum       []any               `json:"enum"`
	Minimum    *float64            `json:"minimum"`
	Maximum    *float64            `json:"maximum"`
	Required   []string            `json:"required"`
	Properties map[string]property `json:"properties"`
}

// endpointDoc is an endpoint's OpenAPI document reduced to its input and
// output schemas.
type endpointDoc struct {
	input, output property
}

func loadEndpoint(t *testing.T, dir, id string) endpointDoc {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, strings.ReplaceAll(id, "/", "__")+".reconstructed.json"))
	if err != nil {
		t.Fatal(err)
	}
	type media struct {
		Schema property `json:"schema"`
	}
	var doc struct {
		Paths map[string]map[string]struct {
			RequestBody struct {
				Content map[string]media `json:"content"`
			} `json:"requestBody"`
			Responses map[string]struct {
				Content map[string]media `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]property `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", id, err)
	}
	resolve := func(p property) property {
		if name, ok := strings.CutPrefix(p.Ref, "#/components/schemas/"); ok {
			return doc.Components.Schemas[name]
		}
		return p
	}
	submit := doc.Paths["/"+id]["post"].RequestBody.Content["application/json"].Schema
	result := doc.Paths["/"+id+"/requests/{request_id}"]["get"].Responses["200"].Content["application/json"].Schema
	ep := endpointDoc{input: resolve(submit), output: resolve(result)}
	if len(ep.input.Properties) == 0 || len(ep.output.Properties) == 0 {
		t.Fatalf("%s: input or output schema not found", id)
	}
	return ep
}

// matchesType reports whether a Go value of FalInput fits a schema type.
func matchesType(v any, typ string) bool {
	switch v.(type) {
	case string:
		return typ == "string"
	case bool:
		return typ == "boolean"
	case int:
		return typ == "integer" || typ == "number"
	case float64:
		return typ == "number"
	}
	return false
}

// TestFalInputConformance checks FalInput against each backend's published
// input schema: every field exists with the right type and range, and every
// required field is sent. image_urls belongs to the /vision variants, which
// the documents do not describe, so the request here has no images.
func TestFalInputConformance(t *testing.T) {
	dir := schematest.FindDir(t, "../shared/fal-schemas")
	temp, maxTok, yes := 0.7, 512, true
	for _, backend := range []Backend{AnyLLM, Router} {
		t.Run(backend.String(), func(t *testing.T) {
			ep := loadEndpoint(t, dir, backend.String())
			req := openai.ChatRequest{Model: "google/gemini-2.5-flash", Temperature: &temp, MaxCompletionTokens: &maxTok, Reasoning: &yes}
			f, err := Fold([]openai.Message{msg("system", "Be brief."), msg("user", "hi")}, DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			in := FalInput(&req, f, backend)
			for key, v := range in {
				p, ok := ep.input.Properties[key]
				if !ok {
					t.Errorf("field %q is not in the input schema", key)
					continue
				}
				if !matchesType(v, p.Type) {
					t.Errorf("field %q = %#v does not fit schema type %q", key, v, p.Type)
				}
				if len(p.Enum) > 0 && !containsValue(p.Enum, v) {
					t.Errorf("field %q = %#v is outside the schema enum", key, v)
				}
				if n, isNum := v.(float64); isNum && (p.Minimum != nil && n < *p.Minimum || p.Maximum != nil && n > *p.Maximum) {
					t.Errorf("field %q = %v is out of the schema range", key, n)
				}
			}
			for _, key := range ep.input.Required {
				if _, ok := in[key]; !ok {
					t.Errorf("required field %q is missing", key)
				}
			}
		})
	}
}

func containsValue(enum []any, v any) bool {
	for _, e := range enum {
		if reflect.DeepEqual(e, v) {
			return true
		}
	}
	return false
}

// sample builds a JSON value for a schema, with fixed values per type.
func sample(p property) any {
	switch p.Type {
	case "string":
		return "text"
	case "boolean":
		return true
	case "integer":
		return 7
	case "number":
		return 1.5
	}
	obj := make(map[string]any, len(p.Properties))
	for name, sub := range p.Properties {
		obj[name] = sample(sub)
	}
	return obj
}

// TestFalOutputConformance decodes a document built from each backend's
// output schema and checks that every field arrives in FalOutput.
func TestFalOutputConformance(t *testing.T) {
	dir := schematest.FindDir(t, "../shared/fal-schemas")
	for _, backend := range []Backend{AnyLLM, Router} {
		t.Run(backend.String(), func(t *testing.T) {
			ep := loadEndpoint(t, dir, backend.String())
			known := map[string]bool{"output": true, "reasoning": true, "partial": true, "error": true, "usage": true}
			for name := range ep.output.Properties {
				if !known[name] {
					t.Errorf("output field %q is not read by FalOutput", name)
				}
			}
			raw, err := json.Marshal(sample(ep.output))
			if err != nil {
				t.Fatal(err)
			}
			var out FalOutput
			if err := json.Unmarshal(raw, &out); err != nil {
				t.Fatalf("decoding %s: %v", raw, err)
			}
			if out.Output != "text" || out.Reasoning != "text" || !out.Partial || out.ErrorMessage() != "text" {
				t.Errorf("decoded %s as %+v", raw, out)
			}
			if _, ok := ep.output.Properties["usage"]; ok {
				want := &FalUsage{PromptTokens: 7, CompletionTokens: 7, TotalTokens: 7, Cost: 1.5}
				if !reflect.DeepEqual(out.Usage, want) {
					t.Errorf("usage decoded as %+v, want %+v", out.Usage, want)
				}
			}
		})
	}
}
