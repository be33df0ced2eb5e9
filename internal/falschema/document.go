package falschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// document is a parsed OpenAPI document, kept mostly raw: only what a
// reduction touches is ever decoded.
type document struct {
	raw     []byte
	root    map[string]json.RawMessage
	schemas map[string]json.RawMessage // components.schemas
	// expanded memoises the variants of each $ref target, so that a
	// schema referenced from many places is resolved once.
	expanded map[string]expansion
	steps    int
}

type expansion struct {
	vs       []*node
	nullable bool
}

func parseDocument(doc []byte) (*document, error) {
	var root map[string]json.RawMessage
	if err := json.Unmarshal(doc, &root); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return nil, errors.New("document is not a JSON object")
		}
		return nil, fmt.Errorf("document is not valid JSON: %w", err)
	}
	if root == nil {
		return nil, errors.New("document is null")
	}
	d := &document{raw: doc, root: root, expanded: map[string]expansion{}}
	var comps struct {
		Schemas map[string]json.RawMessage `json:"schemas"`
	}
	lenient(root["components"], &comps)
	d.schemas = comps.Schemas
	return d, nil
}

// lookup returns the JSON a local reference ("#/components/schemas/X", or
// any JSON pointer in the document) points at.
func (d *document) lookup(ref string) (json.RawMessage, error) {
	frag, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, fmt.Errorf("$ref %q: only references within the document are supported", ref)
	}
	if unescaped, err := url.PathUnescape(frag); err == nil {
		frag = unescaped
	}
	if frag == "" {
		return d.raw, nil
	}
	segs := strings.Split(strings.TrimPrefix(frag, "/"), "/")
	for i, s := range segs {
		segs[i] = strings.NewReplacer("~1", "/", "~0", "~").Replace(s)
	}
	if len(segs) == 3 && segs[0] == "components" && segs[1] == "schemas" {
		if raw, ok := d.schemas[segs[2]]; ok {
			return raw, nil
		}
		return nil, fmt.Errorf("$ref %q: no such schema", ref)
	}
	cur := json.RawMessage(d.raw)
	for _, s := range segs {
		next, ok := child(cur, s)
		if !ok {
			return nil, fmt.Errorf("$ref %q: %q not found", ref, s)
		}
		cur = next
	}
	return cur, nil
}

// child steps one JSON pointer segment into an object or an array.
func child(raw json.RawMessage, seg string) (json.RawMessage, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, false
	}
	switch raw[0] {
	case '{':
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return nil, false
		}
		v, ok := m[seg]
		return v, ok
	case '[':
		var a []json.RawMessage
		i, err := strconv.Atoi(seg)
		if err != nil || json.Unmarshal(raw, &a) != nil || i < 0 || i >= len(a) {
			return nil, false
		}
		return a[i], true
	}
	return nil, false
}
