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
		// a writer wait for another instead of failing at once.
		return dialect{driver: "sqlite"}, "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=synchronous(NORMAL)", nil
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return dialect{driver: "pgx", numbered: true}, url, nil
	}
	return dialect{}, "", fmt.Errorf("the database URL must start with sqlite:// or postgres://")
}

// configure sets the pool: SQLite takes one writer at a time, so one
// connection serialises writes in process instead of making them wait on
// the file lock.
func (d dialect) configure(db *sql.DB) {
	if d.driver == "sqlite" {
		db.SetMaxOpenConns(1)
	}
}

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
