package server

import (
	"testing"

	"github.com/falproxy/falproxy/internal/falschema"
)

func TestTypedValue(t *testing.T) {
	field := func(types ...string) falschema.Field { return falschema.Field{Types: types} }
	tests := []struct {
		name  string
		f     falschema.Field
		text  string
		want  string
		valid bool
	}{
		{"integer", field("integer"), " 7 ", "7", true},
		{"integer refuses a fraction", field("integer"), "1.5", "", false},
		{"number", field("number"), "3.5", "3.5", true},
		{"number with exponent", field("number"), "-2e3", "-2e3", true},
		{"number refuses words", field("number"), "NaN", "", false},
		{"number refuses a quoted number", field("number"), `"4"`, "", false},
		{"nullable integer", field("integer", "null"), "4", "4", true},
		{"boolean", field("boolean"), "true", "true", true},
		{"boolean refuses 1", field("boolean"), "1", "", false},
		{"string stays a string", field("string"), "5", `"5"`, true},
		{"string or integer prefers the string", field("integer", "string"), "5", `"5"`, true},
		{"untyped is a string", field(), "x y", `"x y"`, true},
		{"object from JSON text", field("object", "string"), `{"width":512,"height":768}`, `{"width":512,"height":768}`, true},
		{"broken object text is a string", field("object", "string"), `{"width":`, `"{\"width\":"`, true},
		{"array from JSON text", field("array"), `["a","b"]`, `["a","b"]`, true},
		{"array refuses other text", field("array"), "a,b", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := typedValue(tt.f, tt.text)
			if ok != tt.valid || string(got) != tt.want {
				t.Fatalf("typedValue(%v, %q) = %s, %v; want %s, %v", tt.f.Types, tt.text, got, ok, tt.want, tt.valid)
			}
		})
	}
}

func TestTypedExtrasSkipsUndeclared(t *testing.T) {
	caps := &falschema.Capabilities{Fields: map[string]falschema.Field{"guidance_scale": {Types: []string{"number"}}}}
	got, e := typedExtras(map[string]string{"guidance_scale": "3", "svg[model]": "x"}, caps)
	if e != nil || len(got) != 1 || string(got["guidance_scale"]) != "3" {
		t.Fatalf("got %v, %v", got, e)
	}
	if _, e := typedExtras(map[string]string{"guidance_scale": "high"}, caps); e == nil || e.Param != "guidance_scale" {
		t.Fatalf("a word for a number field: %v", e)
	}
}
