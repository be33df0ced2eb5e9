package falschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Reduce parses a fal per-endpoint OpenAPI document and reduces the input
// schema of endpoint to Capabilities. The input schema is the JSON request
// body of the POST operation at "/<endpoint>", or of the first path with a
// POST when that path is absent (fal documents have exactly one).
//
// A document that is not JSON, has no such operation, or whose input schema
// cannot be resolved is an error; keywords of unexpected types inside the
// schema are ignored.
func Reduce(doc []byte, endpoint string) (*Capabilities, error) {
	caps, err := reduce(doc, endpoint)
	if err != nil {
		return nil, fmt.Errorf("falschema: reduce %s: %w", endpoint, err)
	}
	return caps, nil
}

func reduce(doc []byte, endpoint string) (*Capabilities, error) {
	d, err := parseDocument(doc)
	if err != nil {
		return nil, err
	}
	raw, err := d.inputSchema(endpoint)
	if err != nil {
		return nil, err
	}
	props, required, err := d.inputProperties(raw)
	if err != nil {
		return nil, fmt.Errorf("input schema: %w", err)
	}
	caps, err := derive(d, endpoint, props, required)
	if err != nil {
		return nil, err
	}
	out := d.outputProperties(endpoint, raw)
	caps.Video = out["video"] != nil
	caps.Audio = d.audio(out, props)
	return caps, nil
}

// inputSchema finds the raw schema of the POST request body.
func (d *document) inputSchema(endpoint string) (json.RawMessage, error) {
	pathsRaw, ok := d.root["paths"]
	if !ok {
		return nil, errors.New("document has no paths")
	}
	order, err := objectKeys(pathsRaw)
	if err != nil {
		return nil, fmt.Errorf("paths: %w", err)
	}
	var paths map[string]json.RawMessage
	lenient(pathsRaw, &paths)
	want := "/" + strings.TrimPrefix(endpoint, "/")
	if i := slices.Index(order, want); i > 0 {
		order = slices.Insert(slices.Delete(order, i, i+1), 0, want)
	}
	for _, p := range order {
		var item struct {
			Post json.RawMessage `json:"post"`
		}
		lenient(paths[p], &item)
		if item.Post == nil || bytes.Equal(item.Post, []byte("null")) {
			continue
		}
		schema, err := d.requestSchema(item.Post)
		if err != nil {
			return nil, fmt.Errorf("POST %s: %w", p, err)
		}
		return schema, nil
	}
	return nil, errors.New("document has no POST operation")
}

// requestSchema returns the JSON body schema of an operation.
func (d *document) requestSchema(op json.RawMessage) (json.RawMessage, error) {
	var o struct {
		RequestBody json.RawMessage `json:"requestBody"`
	}
	lenient(op, &o)
	if o.RequestBody == nil {
		return nil, errors.New("no requestBody")
	}
	body, err := d.deref(o.RequestBody)
	if err != nil {
		return nil, fmt.Errorf("requestBody: %w", err)
	}
	var rb struct {
		Content map[string]struct {
			Schema json.RawMessage `json:"schema"`
		} `json:"content"`
	}
	lenient(body, &rb)
	types := make([]string, 0, len(rb.Content))
	for t := range rb.Content {
		types = append(types, t)
	}
	slices.Sort(types)
	if i := slices.Index(types, "application/json"); i > 0 {
		types[0], types[i] = types[i], types[0]
	}
	for _, t := range types {
		if s := rb.Content[t].Schema; strings.Contains(t, "json") && s != nil {
			return s, nil
		}
	}
	return nil, errors.New("requestBody has no JSON schema")
}

// deref follows a {"$ref": ...} object (at most a few times) to the value
// it names.
func (d *document) deref(raw json.RawMessage) (json.RawMessage, error) {
	for range 8 {
		var r struct {
			Ref string `json:"$ref"`
		}
		if lenient(raw, &r); r.Ref == "" {
			return raw, nil
		}
		next, err := d.lookup(r.Ref)
		if err != nil {
			return nil, err
		}
		raw = next
	}
	return nil, errors.New("$ref chain too long")
}

// objectKeys returns the keys of a JSON object in document order; Go maps
// forget it, and "the first path with a POST" depends on it.
func objectKeys(raw json.RawMessage) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, _ := t.(string)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// property is one resolved input property.
type property struct {
	variants []*node
	nullable bool
	field    Field
}

// inputProperties resolves the input schema to its properties. When the
// input itself has alternatives their properties are united, and a field is
// required only when every alternative requires it.
func (d *document) inputProperties(raw json.RawMessage) (map[string]*property, []string, error) {
	vs, _, err := d.variants(raw)
	if err != nil {
		return nil, nil, err
	}
	all := map[string][]json.RawMessage{}
	var required []string
	objects := 0
	for _, v := range vs {
		if len(v.props) == 0 && !slices.Contains(v.types, "object") {
			continue
		}
		for name, p := range v.props {
			all[name] = append(all[name], p)
		}
		if objects == 0 {
			required = slices.Clone(v.required)
		} else {
			required = slices.DeleteFunc(required, func(r string) bool { return !slices.Contains(v.required, r) })
		}
		objects++
	}
	if objects == 0 {
		return nil, nil, errors.New("not an object schema")
	}
	props := make(map[string]*property, len(all))
	for name, raws := range all {
		p := &property{}
		for _, r := range raws {
			pv, pn, err := d.variants(r)
			if err != nil {
				return nil, nil, fmt.Errorf("property %q: %w", name, err)
			}
			p.variants, p.nullable = append(p.variants, pv...), p.nullable || pn
		}
		p.field = fieldOf(p.variants, p.nullable)
		props[name] = p
	}
	slices.Sort(required)
	required = slices.Compact(required)
	required = slices.DeleteFunc(required, func(r string) bool { return props[r] == nil })
	return props, required, nil
}
