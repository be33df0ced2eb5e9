package config

import (
	"strings"
	"testing"
)

func TestMarkdownListsEveryVariable(t *testing.T) {
	md := Markdown()
	lines := strings.Split(strings.TrimSuffix(md, "\n"), "\n")
	if got, want := len(lines), len(Variables)+2; got != want {
		t.Fatalf("table has %d lines, want %d (header, rule, one row per variable)", got, want)
	}
	for i, v := range Variables {
		row := lines[i+2]
		if !strings.HasPrefix(row, "| `"+v.Name+"`") {
			t.Errorf("row %d = %q, want it to start with %s", i, row, v.Name)
		}
		for _, a := range v.Aliases {
			if !strings.Contains(row, "`"+a+"`") {
				t.Errorf("row of %s does not mention alias %s", v.Name, a)
			}
		}
		if cells := strings.Count(strings.ReplaceAll(row, `\|`, ""), "|"); cells != 6 {
			t.Errorf("row of %s has %d separators, want 6: %q", v.Name, cells, row)
		}
		if !strings.Contains(row, " "+v.Group+" ") {
			t.Errorf("row of %s does not show group %s", v.Name, v.Group)
		}
	}
}

func TestMarkdownCells(t *testing.T) {
	tests := []struct {
		name string
		v    Variable
		cell func(Variable) string
		want string
	}{
		{"name only", Variable{Name: "PORT"}, nameCell, "`PORT`"},
		{"one alias", Variable{Name: "AI_KEYS", Aliases: []string{"FAL_KEY"}}, nameCell, "`AI_KEYS` (alias `FAL_KEY`)"},
		{"two aliases", Variable{Name: "A", Aliases: []string{"B", "C"}}, nameCell, "`A` (aliases `B`, `C`)"},
		{"required", Variable{Required: true}, defaultCell, "*required*"},
		{"empty default", Variable{}, defaultCell, "*empty*"},
		{"list default wraps", Variable{Default: "a:b,c:d"}, defaultCell, "`a:b, c:d`"},
		{"pipe escaped", Variable{Default: "a|b"}, defaultCell, "`a\\|b`"},
		{"secret noted", Variable{Secret: true, Description: "Keys."}, descriptionCell, "Keys. Secret: never printed or logged."},
		{"plain description", Variable{Description: "Port."}, descriptionCell, "Port."},
	}
	for _, tt := range tests {
		if got := tt.cell(tt.v); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestMarkdownText(t *testing.T) {
	if got, want := markdownText(`* or a_b | \n`), `\* or a\_b \| \\n`; got != want {
		t.Errorf("markdownText = %q, want %q", got, want)
	}
}
