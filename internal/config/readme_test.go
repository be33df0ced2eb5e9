package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeTablesMatch keeps the configuration tables of the READMEs equal
// to Markdown(), so that documentation and code cannot drift apart.
func TestReadmeTablesMatch(t *testing.T) {
	want := strings.TrimSpace(Markdown())
	for _, name := range []string{"README.md", "README.zh-CN.md"} {
		path := filepath.Join("..", "..", name)
		b, err := os.ReadFile(path)
		if os.IsNotExist(err) && name != "README.md" {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		begin := strings.Index(text, "<!-- config-table:begin")
		end := strings.Index(text, "<!-- config-table:end -->")
		if begin < 0 || end < begin {
			t.Fatalf("%s: config table markers missing", name)
		}
		got := text[begin:end]
		got = strings.TrimSpace(got[strings.Index(got, "-->")+3:])
		if got != want {
			t.Errorf("%s: configuration table differs from config.Markdown(); replace the table between the markers with:\n%s", name, want)
		}
	}
}
