package store

import (
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"
)

// dialect is all that differs between SQLite and Postgres: the driver, its
// connection settings and the placeholder syntax.
type dialect struct {
	driver string
	// numbered placeholders ($1, $2, ...) instead of "?".
	numbered bool
}

// dialectFor picks the dialect of a DATABASE_URL and the driver's DSN.
func dialectFor(url string) (dialect, string, error) {
	switch {
	case strings.HasPrefix(url, "sqlite://"):
		path := strings.TrimPrefix(url, "sqlite://")
		if path == "" {
			return dialect{}, "", fmt.Errorf("the database URL names no file: use sqlite:///path/to/falproxy.db")
		}
		// WAL lets readers run beside the writer; the busy timeout makes
		// a writer wait for another instead of failing at once; immediate
		// transactions take the write lock at BEGIN, so that two
		// processes never both read and then both write. The path is
		// escaped: a "?" or "#" in it would start the DSN's parameters.
		return dialect{driver: "sqlite"}, "file:" + escapePath(path) +
			"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=synchronous(NORMAL)&_txlock=immediate", nil
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return dialect{driver: "pgx", numbered: true}, url, nil
	}
	return dialect{}, "", fmt.Errorf("the database URL must start with sqlite://, postgres:// or postgresql://")
}

// configure sets the pool: SQLite takes one writer at a time, so one
// connection serialises writes in process instead of making them wait on
// the file lock. Postgres connections are bounded (postgresConns), all
// kept open once made.
func (d dialect) configure(db *sql.DB) {
	switch d.driver {
	case "sqlite":
		db.SetMaxOpenConns(1)
	case "pgx":
		db.SetMaxOpenConns(postgresConns)
		db.SetMaxIdleConns(postgresConns)
	}
}

// postgresConns bounds a process's Postgres connections. Without a bound
// a burst of requests opens one connection each, beyond the server's
// max_connections (100 by default, shared by every replica), and then
// the ledger's writes fail too; past it queries wait their turn, and the
// key and version reads are short.
const postgresConns = 16

// rebind turns the "?" placeholders of a statement into $1, $2, ... where
// the dialect numbers them. Statements here never hold a literal "?".
func (d dialect) rebind(query string) string {
	if !d.numbered {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// escapePath escapes what would end the path of a file: URI: "%", "?" and
// "#".
func escapePath(path string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}
