package server

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/falproxy/falproxy/internal/falschema"
	"github.com/falproxy/falproxy/internal/openai"
)

// typedExtras turns the model-specific fields of a multipart edit, which
// arrive as text, into the JSON values the model's schema declares:
// numbers for number and integer fields, booleans for boolean ones, JSON
// objects or arrays where the field takes those and the text is one, and
// strings otherwise. Fields the model does not declare are left out, as
// the plan would drop them anyway.
func typedExtras(text map[string]string, caps *falschema.Capabilities) (map[string]json.RawMessage, *openai.Error) {
	out := make(map[string]json.RawMessage, len(text))
	for name, v := range text {
		f, ok := caps.Fields[name]
		if !ok {
			continue
		}
		raw, ok := typedValue(f, v)
		if !ok {
			return nil, openai.InvalidRequest(name, "invalid_type",
				"Invalid type for '%s': this model expects %s, got %q.", name, strings.Join(f.Types, " or "), openai.Echo(v))
		}
		out[name] = raw
	}
	return out, nil
}

// typedValue encodes one text value for a field; false when the text fits
// none of the field's types.
func typedValue(f falschema.Field, v string) (json.RawMessage, bool) {
	takes := func(t string) bool { return slices.Contains(f.Types, t) }
	t := strings.TrimSpace(v)
	switch {
	case (takes("object") && strings.HasPrefix(t, "{") || takes("array") && strings.HasPrefix(t, "[")) && json.Valid([]byte(t)):
		return json.RawMessage(t), true
	case len(f.Types) == 0 || takes("string"):
		b, err := json.Marshal(v)
		return b, err == nil
	case takes("integer") && isInteger(t), takes("number") && isNumber(t):
		return json.RawMessage(t), true
	case takes("boolean") && (t == "true" || t == "false"):
		return json.RawMessage(t), true
	}
	return nil, false
}

func isInteger(s string) bool {
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}

// isNumber reports a number written as JSON writes it.
func isNumber(s string) bool {
	if s == "" || !(s[0] == '-' || s[0] >= '0' && s[0] <= '9') {
		return false
	}
	var n json.Number
	return json.Unmarshal([]byte(s), &n) == nil
}
