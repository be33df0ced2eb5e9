// Package store keeps falproxy's durable state (virtual keys and the usage
// ledger) in SQLite or Postgres through database/sql. One set of SQL
// statements serves both; the differences live in dialect.go.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Store is an open database with its schema migrated to the latest version.
type Store struct {
	db *sql.DB
	// reads runs the statements outside transactions, which only read:
	// for SQLite a pool of its own, since its writes take db's one
	// connection and a request checking its key must not queue behind a
	// ledger batch (WAL lets readers run beside the writer); db itself
	// for Postgres.
	reads   *sql.DB
	dialect dialect
	purges  *purger
}

// Open connects to url (sqlite:///path/file.db or postgres://...) and runs
// the migrations the database has not seen yet.
func Open(ctx context.Context, url string) (*Store, error) {
	return openAt(ctx, url, len(migrations()))
}

// openAt migrates only up to version; tests use it to build a database
// of an older version.
func openAt(ctx context.Context, url string, version int) (*Store, error) {
	d, dsn, err := dialectFor(url)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open(d.driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("opening the database: %w", err)
	}
	d.configure(db)
	s := &Store{db: db, reads: db, dialect: d, purges: newPurger()}
	if err := s.migrate(ctx, version); err != nil {
		_ = s.Close()
		return nil, err
	}
	if d.driver == "sqlite" {
		if s.reads, err = sql.Open(d.driver, dsn); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("opening the database: %w", err)
		}
		s.reads.SetMaxOpenConns(sqliteReaders)
		s.reads.SetMaxIdleConns(sqliteReaders) // kept, not reopened after each burst
	}
	return s, nil
}

// sqliteReaders bounds SQLite's pool of reading connections.
const sqliteReaders = 4

// Close stops a purge that runs and closes the database.
func (s *Store) Close() error {
	s.purges.stop()
	if s.reads != s.db {
		_ = s.reads.Close()
	}
	return s.db.Close()
}

// sharedStateTimeout bounds each call made for the responses and videos
// replicas share, on a request's path: pgx sets no connect timeout, and a
// database that does not answer must make the request a 503 soon, not
// hold it for the client's whole timeout.
const sharedStateTimeout = 2 * time.Second

// bounded is ctx limited to sharedStateTimeout.
func bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, sharedStateTimeout)
}

// ErrNotFound is returned for a key id that does not exist.
var ErrNotFound = errors.New("not found")

func (s *Store) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return s.db.ExecContext(ctx, s.dialect.rebind(query), args...)
}

func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return s.reads.QueryContext(ctx, s.dialect.rebind(query), args...)
}

func (s *Store) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return s.reads.QueryRowContext(ctx, s.dialect.rebind(query), args...)
}

// placeholders is "?, ?, ..." for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
