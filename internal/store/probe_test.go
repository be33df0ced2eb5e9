package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestProbeReadsWithoutMigrating: Probe reports a database Open would
// create as version 0 and leaves it as it was (no file, no tables), and
// reports a migrated one at the latest version.
func TestProbeReadsWithoutMigrating(t *testing.T) {
	databases(t, func(t *testing.T, url string) {
		ctx := context.Background()
		for range 2 { // the second probe sees what the first left
			have, latest, err := Probe(ctx, url)
			if err != nil || have != 0 || latest != len(migrations()) {
				t.Fatalf("a new database: version %d of %d, %v; want 0 of %d", have, latest, err, len(migrations()))
			}
		}
		if path, ok := strings.CutPrefix(url, "sqlite://"); ok {
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Fatalf("Probe created the SQLite file (%v)", err)
			}
		}
		st := open(t, url)
		if have, latest, err := Probe(ctx, url); err != nil || have != latest {
			t.Fatalf("a migrated database in use: version %d of %d, %v", have, latest, err)
		}
		_ = st.Close()
		if have, latest, err := Probe(ctx, url); err != nil || have != latest {
			t.Fatalf("a migrated database at rest: version %d of %d, %v", have, latest, err)
		}
	})
}

// TestProbeFailsOnUnreachableDatabases: a Postgres server that does not
// answer and a SQLite file in a missing directory are errors.
func TestProbeFailsOnUnreachableDatabases(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, url := range []string{
		"postgres://falproxy@127.0.0.1:1/falproxy?sslmode=disable",
		"sqlite://" + filepath.Join(t.TempDir(), "missing", "falproxy.db"),
	} {
		if _, _, err := Probe(ctx, url); err == nil {
			t.Errorf("%s: no error", url)
		}
	}
}
