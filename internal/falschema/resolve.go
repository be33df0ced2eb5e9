package falschema

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Limits that keep the reduction of a hostile or broken document finite.
const (
	maxDepth    = 64      // nested $ref/allOf/anyOf/oneOf levels followed
	maxVariants = 64      // alternatives kept per schema
	maxSteps    = 1 << 14 // schemas expanded and merged per document
)

var errTooComplex = errors.New("schema too complex to reduce")

// variants resolves $ref, allOf, anyOf and oneOf in a schema and returns
// the plain alternatives a value may take; nullable reports that null is
// accepted as well. allOf members are merged into each alternative, and the
// schema's own keywords (description, default, ...) into every one. A $ref
// cycle is cut where it closes: the repeated schema counts as "anything".
func (d *document) variants(raw json.RawMessage) ([]*node, bool, error) {
	return d.expand(raw, nil, 0)
}

func (d *document) expand(raw json.RawMessage, refs []string, depth int) ([]*node, bool, error) {
	if err := d.spend(1); err != nil {
		return nil, false, err
	}
	n, err := decodeNode(raw)
	if err != nil {
		return nil, false, err
	}
	if n.nullOnly {
		return nil, true, nil
	}
	base := n.plain()
	if depth >= maxDepth {
		return []*node{base}, n.nullable, nil
	}
	vs, nullable := []*node{base}, n.nullable
	if n.ref != "" && !slices.Contains(refs, n.ref) {
		rv, rn, err := d.expandRef(n.ref, refs, depth)
		if err != nil {
			return nil, false, err
		}
		if vs, err = d.cross(vs, rv); err != nil {
			return nil, false, err
		}
		nullable = nullable || rn
	}
	for i, m := range n.allOf {
		mv, mn, err := d.expand(m, refs, depth+1)
		if err != nil {
			return nil, false, fmt.Errorf("allOf[%d]: %w", i, err)
		}
		if vs, err = d.cross(vs, mv); err != nil {
			return nil, false, err
		}
		nullable = nullable || mn
	}
	if alts := slices.Concat(n.anyOf, n.oneOf); len(alts) > 0 {
		var union []*node
		for i, m := range alts {
			mv, mn, err := d.expand(m, refs, depth+1)
			if err != nil {
				return nil, false, fmt.Errorf("anyOf/oneOf[%d]: %w", i, err)
			}
			union, nullable = append(union, mv...), nullable || mn
		}
		if len(union) == 0 {
			return nil, true, nil // every alternative is null
		}
		var err error
		if vs, err = d.cross(vs, union); err != nil {
			return nil, false, err
		}
	}
	return vs, nullable, nil
}

// expandRef expands the target of a $ref once and memoises the result.
func (d *document) expandRef(ref string, refs []string, depth int) ([]*node, bool, error) {
	if e, ok := d.expanded[ref]; ok {
		return e.vs, e.nullable, nil
	}
	target, err := d.lookup(ref)
	if err != nil {
		return nil, false, err
	}
	vs, nullable, err := d.expand(target, append(slices.Clip(refs), ref), depth+1)
	if err != nil {
		if errors.Is(err, errTooComplex) {
			return nil, false, err
		}
		return nil, false, fmt.Errorf("%s: %w", ref, err)
	}
	d.expanded[ref] = expansion{vs, nullable}
	return vs, nullable, nil
}

// plain copies the node without its composition keywords.
func (n *node) plain() *node {
	c := *n
	c.ref, c.allOf, c.anyOf, c.oneOf = "", nil, nil, nil
	return &c
}

// cross merges every alternative of a with every alternative of b,
// keeping at most maxVariants. An empty b (a null-only member) leaves a
// unchanged. Each merge is charged to the document's budget.
func (d *document) cross(a, b []*node) ([]*node, error) {
	if len(b) == 0 {
		return a, nil
	}
	out := make([]*node, 0, min(len(a)*len(b), maxVariants))
	for _, x := range a {
		for _, y := range b {
			if len(out) == maxVariants {
				return out, nil
			}
			if err := d.spend(1); err != nil {
				return nil, err
			}
			out = append(out, merge(x, y))
		}
	}
	return out, nil
}

// spend charges n units of work; past maxSteps the document is rejected
// as too complex.
func (d *document) spend(n int) error {
	if d.steps += n; d.steps > maxSteps {
		return errTooComplex
	}
	return nil
}
