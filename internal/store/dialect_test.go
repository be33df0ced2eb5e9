package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestSQLitePathWithURISigns: a file whose path holds "?", "#" or "%" is
// opened at that path, not cut short where the DSN's parameters start.
func TestSQLitePathWithURISigns(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "odd?dir#1%20")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "falproxy.db")
	s := open(t, "sqlite://"+path)
	if _, _, err := s.CreateKey(context.Background(), Key{Name: "k", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the database is not at its path: %v", err)
	}
}
