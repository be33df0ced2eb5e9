package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReplaceSection(t *testing.T) {
	block := func(md string) string { return beginMarker + "\n" + md + "\n" + endMarker }
	tests := []struct {
		name, doc, md, want string
	}{
		{"empty file", "", "new", block("new") + "\n"},
		{"no markers", "# Title\ntext", "new", "# Title\ntext\n\n" + block("new") + "\n"},
		{"replaces between markers and keeps the rest", "# T\n" + block("old\nlines") + "\n## Notes\n", "new\n", "# T\n" + block("new") + "\n## Notes\n"},
		{"markers in wrong order count as missing", endMarker + "\n" + beginMarker, "x", endMarker + "\n" + beginMarker + "\n\n" + block("x") + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := replaceSection(tt.doc, tt.md); got != tt.want {
				t.Errorf("replaceSection:\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestWriteSectionIsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "B.md")
	if err := os.WriteFile(path, []byte("# B\n\nhand-written notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, md := range []string{"first run", "second run"} {
		if err := writeSection(path, md); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	if strings.Contains(got, "first run") || !strings.Contains(got, "second run") || !strings.Contains(got, "hand-written notes") {
		t.Errorf("file after two writes:\n%s", got)
	}
	if strings.Count(got, beginMarker) != 1 {
		t.Errorf("markers duplicated:\n%s", got)
	}
}
