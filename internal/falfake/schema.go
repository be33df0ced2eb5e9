package falfake

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"sort"
	"strings"
)

// builtinSchemas are the emulator's own OpenAPI documents, one per endpoint,
// in the shape fal serves at /openapi/queue/openapi.json.
//
//go:embed schemas/*.json
var builtinSchemas embed.FS

// node is a decoded JSON Schema / OpenAPI object. Numbers are json.Number
// so that bounds keep their exact spelling.
type node = map[string]any

// modelKind is what an endpoint produces, read from its output schema.
type modelKind int

const (
	kindImage         modelKind = iota + 1 // output has "images"
	kindLLM                                // output has "output" text
	kindVideo                              // output has "video" (video.go)
	kindSpeech                             // output has an "audio" file
	kindTranscription                      // output has "text", input an "audio_url"
)

// model is one endpoint: its document, the input schema that drives
// validation and generation, and the output fields it declares.
type model struct {
	id       string
	doc      []byte
	kind     modelKind
	root     node // the whole document, for $ref resolution
	input    node // the input object schema, dereferenced
	outProps map[string]bool
}

// loadModels parses the built-in documents and then extra, which adds or
// replaces documents by endpoint id.
func loadModels(extra map[string][]byte) (map[string]*model, error) {
	names, err := fs.Glob(builtinSchemas, "schemas/*.json")
	if err != nil {
		return nil, fmt.Errorf("listing built-in schemas: %w", err)
	}
	models := make(map[string]*model, len(names)+len(extra))
	for _, name := range names {
		b, err := builtinSchemas.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		m, err := parseModel("", b)
		if err != nil {
			return nil, fmt.Errorf("built-in schema %s: %w", name, err)
		}
		models[m.id] = m
	}
	for id, b := range extra {
		id = strings.Trim(id, "/")
		m, err := parseModel(id, b)
		if err != nil {
			return nil, fmt.Errorf("schema for %s: %w", id, err)
		}
		models[id] = m
	}
	return models, nil
}

// parseModel reads an endpoint's document. The input schema is found the
// way fal's clients find it: the POST operation of paths["/<id>"] (or the
// only POST path when id is empty or absent), then requestBody's
// application/json $ref. The output schema is the 200 answer of
// /<id>/requests/{request_id}.
func parseModel(id string, doc []byte) (*model, error) {
	root, err := decodeNode(doc)
	if err != nil {
		return nil, err
	}
	paths, _ := root["paths"].(node)
	if dig(paths, "/"+id, "post") == nil {
		id = ""
		keys := sortedKeys(paths)
		for _, p := range keys {
			if dig(paths, p, "post") != nil {
				id = strings.Trim(p, "/")
				break
			}
		}
		if id == "" {
			return nil, errors.New("no POST operation in paths")
		}
	}
	m := &model{id: id, doc: doc, root: root}
	in, _ := dig(paths, "/"+id, "post", "requestBody", "content", "application/json", "schema").(node)
	if in == nil {
		return nil, errors.New("POST operation has no application/json request schema")
	}
	m.input = m.deref(in)
	if _, ok := m.input["properties"].(node); !ok {
		return nil, errors.New("input schema has no properties")
	}
	out, _ := dig(paths, "/"+id+"/requests/{request_id}", "get", "responses", "200", "content", "application/json", "schema").(node)
	if out == nil {
		out = m.outputByName(in)
	}
	props, _ := m.deref(out)["properties"].(node)
	m.outProps = map[string]bool{}
	for k := range props {
		m.outProps[k] = true
	}
	switch {
	case m.outProps["images"]:
		m.kind = kindImage
	case m.outProps["output"]:
		m.kind = kindLLM
	case m.outProps["video"]:
		m.kind = kindVideo
	case m.outProps["audio"]:
		m.kind = kindSpeech
	case m.outProps["text"] && m.has("audio_url"):
		m.kind = kindTranscription
	default:
		return nil, errors.New(`output schema has none of "images", "output", "video", "audio" and "text"`)
	}
	return m, nil
}

// outputByName finds <Name>Output next to the <Name>Input schema, for
// documents that lack the result path.
func (m *model) outputByName(in node) node {
	ref, _ := in["$ref"].(string)
	name, ok := strings.CutSuffix(ref, "Input")
	if !ok {
		return nil
	}
	return node{"$ref": name + "Output"}
}

// decodeNode decodes a JSON object keeping numbers exact.
func decodeNode(b []byte) (node, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var n node
	if err := dec.Decode(&n); err != nil {
		return nil, fmt.Errorf("decoding document: %w", err)
	}
	if n == nil {
		return nil, errors.New("document is not a JSON object")
	}
	return n, nil
}

// dig walks nested objects by key and returns nil when a step is missing.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		n, ok := v.(node)
		if !ok {
			return nil
		}
		v = n[k]
	}
	return v
}

// sortedKeys returns n's keys in order, for deterministic iteration.
func sortedKeys(n node) []string {
	keys := make([]string, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// deref follows $ref pointers ("#/components/schemas/X") within the
// document; a broken or cyclic reference resolves to an empty schema.
func (m *model) deref(n node) node {
	for range 32 {
		ref, ok := n["$ref"].(string)
		if !ok {
			return n
		}
		target, _ := m.pointer(ref).(node)
		if target == nil {
			return node{}
		}
		n = target
	}
	return node{}
}

// pointer resolves a local JSON pointer such as #/components/schemas/X.
func (m *model) pointer(ref string) any {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	keys := strings.Split(p, "/")
	for i, k := range keys {
		keys[i] = strings.NewReplacer("~1", "/", "~0", "~").Replace(k)
	}
	return dig(m.root, keys...)
}

// property returns the dereferenced schema of an input field, nil if the
// model does not declare it.
func (m *model) property(name string) node {
	props, _ := m.input["properties"].(node)
	p, _ := props[name].(node)
	if p == nil {
		return nil
	}
	return p
}

// has reports whether the model declares input field name.
func (m *model) has(name string) bool { return m.property(name) != nil }

// param returns the input value of a field, or the schema's default when
// the input leaves it out (or sends null).
func (m *model) param(in node, name string) any {
	if v, ok := in[name]; ok && v != nil {
		return v
	}
	if p := m.property(name); p != nil {
		return p["default"]
	}
	return nil
}

// serveSchema answers GET /openapi/queue/openapi.json?endpoint_id=<id> with
// the document, or 404 null for an unknown id, as fal does.
func (f *Fake) serveSchema(w http.ResponseWriter, c *call) {
	m := f.models[c.endpoint]
	if m == nil {
		writeBody(w, http.StatusNotFound, "application/json", []byte("null"))
		return
	}
	writeBody(w, http.StatusOK, "application/json", m.doc)
}
