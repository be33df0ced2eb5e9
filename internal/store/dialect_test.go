package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sync/errgroup"

	"github.com/falproxy/falproxy/internal/store/pgtest"
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

// TestPostgresConnectionsAreBounded: a burst of concurrent reads, each
// holding its connection a moment, opens at most postgresConns
// connections; the others wait their turn.
func TestPostgresConnectionsAreBounded(t *testing.T) {
	s := open(t, pgtest.URL(t))
	var g errgroup.Group
	for range 4 * postgresConns {
		g.Go(func() error {
			_, err := s.db.ExecContext(context.Background(), `SELECT pg_sleep(0.02)`)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	if st := s.db.Stats(); st.MaxOpenConnections != postgresConns || st.OpenConnections > postgresConns {
		t.Fatalf("pool %+v, want at most %d connections", st, postgresConns)
	}
}
