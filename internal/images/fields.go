package images

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"

	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/openai"
)

// applyOutputFormat maps output_format onto the model's format field. A
// model without one ignores the request's value; a model whose enumeration
// lacks the value is a 400 naming the values it has.
func applyOutputFormat(b *builder, format string) *openai.Error {
	f := b.caps.OutputFormat
	if format == "" || f == nil {
		return nil
	}
	want := normFormat(format)
	for _, v := range f.Values {
		if normFormat(v) == want {
			b.set(f.Field, v)
			return nil
		}
	}
	if f.Open {
		b.set(f.Field, want)
		return nil
	}
	return openai.InvalidRequest("output_format", "invalid_value",
		"Invalid 'output_format': %q. This model supports: %s.", openai.Echo(format), strings.Join(f.Values, ", "))
}

// defaultB64Format is "png" when the model's format field allows it, and
// "" (the model's own default) otherwise.
func defaultB64Format(caps *falschema.Capabilities) string {
	if f := caps.OutputFormat; f != nil && (f.Open || slices.ContainsFunc(f.Values, func(v string) bool { return normFormat(v) == "png" })) {
		return "png"
	}
	return ""
}

// normFormat folds case and treats jpg as jpeg.
func normFormat(f string) string {
	f = strings.ToLower(strings.TrimSpace(f))
	if f == "jpg" {
		return "jpeg"
	}
	return f
}

// applyEnums sets each OpenAI enum field (style, quality, background) that
// the model declares with an enumeration holding the value. The model's own
// spelling is sent; the match ignores case. Other values are dropped.
func applyEnums(b *builder, fields map[string]string) {
	for name, v := range fields {
		if v == "" {
			continue
		}
		allowed := b.caps.Enums[name]
		i := slices.Index(allowed, v)
		if i < 0 {
			i = slices.IndexFunc(allowed, func(a string) bool { return strings.EqualFold(a, v) })
		}
		if i >= 0 {
			b.set(name, allowed[i])
		}
	}
}

// applyExtras passes through request fields the model declares, except
// the protected ones the plan controls, and returns the names it set. JSON
// null means "not given". Numbers keep their exact text (json.Number).
func applyExtras(b *builder, extra map[string]json.RawMessage, protected []string) ([]string, *openai.Error) {
	var set []string
	for name, raw := range extra {
		if !b.declared(name) || slices.Contains(protected, name) {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, openai.InvalidRequest(name, "invalid_value", "Invalid value for '%s': it is not valid JSON.", name)
		}
		if v != nil {
			b.set(name, v)
			set = append(set, name)
		}
	}
	return set, nil
}
