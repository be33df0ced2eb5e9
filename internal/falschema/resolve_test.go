package falschema

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/falproxy/falproxy/internal/falschema/schematest"
)

func ptr(f float64) *float64 { return &f }

// TestFieldResolution checks how one property's schema is resolved to a
// Field: references, composition and the nullable spellings.
func TestFieldResolution(t *testing.T) {
	tests := []struct {
		name  string
		prop  string            // the schema of property "f"
		extra map[string]string // further component schemas
		want  Field
	}{
		{
			name: "plain integer with bounds",
			prop: `{"type":"integer","minimum":1,"maximum":4,"default":1}`,
			want: Field{Types: []string{"integer"}, Min: ptr(1), Max: ptr(4), Default: json.RawMessage(`1`)},
		},
		{
			name:  "ref chain",
			prop:  `{"$ref":"#/components/schemas/A"}`,
			extra: map[string]string{"A": `{"$ref":"#/components/schemas/B"}`, "B": `{"type":"string","enum":["x","y"]}`},
			want:  Field{Types: []string{"string"}, Enum: []any{"x", "y"}},
		},
		{
			name: "allOf merges bounds and types",
			prop: `{"allOf":[{"type":"number","minimum":0,"maximum":10},{"type":"integer","minimum":2}]}`,
			want: Field{Types: []string{"integer"}, Min: ptr(2), Max: ptr(10)},
		},
		{
			name: "anyOf with null is nullable",
			prop: `{"anyOf":[{"type":"integer"},{"type":"null"}],"title":"Seed"}`,
			want: Field{Types: []string{"integer"}, Nullable: true},
		},
		{
			name: "nullable keyword",
			prop: `{"type":"string","nullable":true}`,
			want: Field{Types: []string{"string"}, Nullable: true},
		},
		{
			name: "type array with null",
			prop: `{"type":["integer","null"]}`,
			want: Field{Types: []string{"integer"}, Nullable: true},
		},
		{
			name: "null in enum",
			prop: `{"enum":["a",null]}`,
			want: Field{Types: []string{"string"}, Enum: []any{"a"}, Nullable: true},
		},
		{
			name: "oneOf unites enumerations",
			prop: `{"oneOf":[{"type":"string","enum":["a","b"]},{"type":"string","enum":["b","c"]}],"default":"a"}`,
			want: Field{Types: []string{"string"}, Enum: []any{"a", "b", "c"}, Default: json.RawMessage(`"a"`)},
		},
		{
			name: "object or preset is open",
			prop: `{"anyOf":[{"$ref":"#/components/schemas/ImageSize"},{"type":"string","enum":["square"]}]}`,
			want: Field{Types: []string{"object", "string"}, Enum: []any{"square"}, Open: true},
		},
		{
			name: "enum or any string",
			prop: `{"anyOf":[{"type":"string","enum":["1:1"]},{"type":"string"}]}`,
			want: Field{Types: []string{"string"}, Enum: []any{"1:1"}, Open: true},
		},
		{
			name: "exclusive bounds as numbers",
			prop: `{"type":"integer","exclusiveMinimum":0,"exclusiveMaximum":100}`,
			want: Field{Types: []string{"integer"}, Min: ptr(0), ExclMin: true, Max: ptr(100), ExclMax: true},
		},
		{
			name: "exclusive bounds as OpenAPI 3.0 flags",
			prop: `{"type":"number","minimum":0,"exclusiveMinimum":true,"maximum":1,"exclusiveMaximum":false}`,
			want: Field{Types: []string{"number"}, Min: ptr(0), ExclMin: true, Max: ptr(1)},
		},
		{
			name: "alternatives widen bounds",
			prop: `{"anyOf":[{"type":"integer","minimum":1,"maximum":4},{"type":"integer","minimum":0,"maximum":2}]}`,
			want: Field{Types: []string{"integer"}, Min: ptr(0), Max: ptr(4)},
		},
		{
			name: "one unbounded alternative drops the bound",
			prop: `{"anyOf":[{"type":"integer","maximum":4},{"type":"integer"}]}`,
			want: Field{Types: []string{"integer"}},
		},
		{
			name: "keywords of the wrong type are ignored",
			prop: `{"type":5,"enum":"x","minimum":"1","multipleOf":8,"description":7}`,
			want: Field{Multiple: 8},
		},
		{
			name:  "escaped pointer segments",
			prop:  `{"$ref":"#/components/schemas/a~1b"}`,
			extra: map[string]string{"a/b": `{"type":"boolean"}`},
			want:  Field{Types: []string{"boolean"}},
		},
		{
			name: "pointer outside components",
			prop: `{"$ref":"#/components/schemas/Output/properties/seed"}`,
			want: Field{Types: []string{"integer"}},
		},
		{
			name:  "reference cycle is cut",
			prop:  `{"$ref":"#/components/schemas/Node"}`,
			extra: map[string]string{"Node": `{"type":"object","properties":{"next":{"$ref":"#/components/schemas/Node"}}}`},
			want:  Field{Types: []string{"object"}},
		},
		{
			name: "boolean schema accepts anything",
			prop: `true`,
			want: Field{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			input := `{"type":"object","properties":{"f":` + tt.prop + `}}`
			caps, err := Reduce(schematest.Doc("t/x", input, tt.extra), "t/x")
			if err != nil {
				t.Fatal(err)
			}
			if got := caps.Fields["f"]; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("field:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestInputComposition checks inputs built from allOf and anyOf.
func TestInputComposition(t *testing.T) {
	extra := map[string]string{
		"A": `{"type":"object","required":["prompt","a"],"properties":{"prompt":{"type":"string"},"a":{"type":"integer","minimum":1}}}`,
		"B": `{"type":"object","required":["prompt"],"properties":{"prompt":{"type":"string"},"b":{"type":"boolean"}}}`,
	}
	t.Run("allOf unites properties and required", func(t *testing.T) {
		input := `{"allOf":[{"$ref":"#/components/schemas/A"},{"$ref":"#/components/schemas/B"},
			{"properties":{"a":{"maximum":3}}}]}`
		caps, err := Reduce(schematest.Doc("t/x", input, extra), "t/x")
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.Sorted(maps.Keys(caps.Fields)); !reflect.DeepEqual(got, []string{"a", "b", "prompt"}) {
			t.Errorf("fields %v", got)
		}
		if want := []string{"a", "prompt"}; !reflect.DeepEqual(caps.Required, want) {
			t.Errorf("required %v, want %v", caps.Required, want)
		}
		if a := caps.Fields["a"]; a.Min == nil || *a.Min != 1 || a.Max == nil || *a.Max != 3 {
			t.Errorf("a's bounds were not merged: %+v", a)
		}
	})
	t.Run("anyOf requires only what every alternative requires", func(t *testing.T) {
		input := `{"anyOf":[{"$ref":"#/components/schemas/A"},{"$ref":"#/components/schemas/B"}]}`
		caps, err := Reduce(schematest.Doc("t/x", input, extra), "t/x")
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.Sorted(maps.Keys(caps.Fields)); !reflect.DeepEqual(got, []string{"a", "b", "prompt"}) {
			t.Errorf("fields %v", got)
		}
		if want := []string{"prompt"}; !reflect.DeepEqual(caps.Required, want) {
			t.Errorf("required %v, want %v", caps.Required, want)
		}
	})
}
