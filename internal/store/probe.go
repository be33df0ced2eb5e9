package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Probe connects to the database of url without changing it and returns
// its schema version and the version Open migrates to, for `falproxy
// check`, which must not migrate. A database Open would create (a SQLite
// file not there yet, a Postgres database without falproxy's tables) is
// version 0.
func Probe(ctx context.Context, url string) (have, latest int, err error) {
	latest = len(migrations())
	d, dsn, err := dialectFor(url)
	if err != nil {
		return 0, latest, err
	}
	if d.driver == "sqlite" {
		path := strings.TrimPrefix(url, "sqlite://")
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			if _, err := os.Stat(filepath.Dir(path)); err != nil {
				return 0, latest, fmt.Errorf("the directory of the SQLite file is missing: %w", err)
			}
			return 0, latest, nil
		}
		dsn = "file:" + escapePath(path) + "?mode=ro"
	}
	db, err := sql.Open(d.driver, dsn)
	if err != nil {
		return 0, latest, fmt.Errorf("opening the database: %w", err)
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		return 0, latest, err
	}
	exists := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`
	if d.driver == "pgx" {
		exists = `SELECT COUNT(*) FROM pg_tables WHERE tablename = 'schema_migrations' AND schemaname = current_schema()`
	}
	var tables int
	if err := db.QueryRowContext(ctx, exists).Scan(&tables); err != nil {
		return 0, latest, fmt.Errorf("reading the database: %w", err)
	}
	if tables == 0 {
		return 0, latest, nil
	}
	s := &Store{db: db}
	have, err = s.SchemaVersion(ctx)
	return have, latest, err
}
