package config

import (
	"path/filepath"
	"strings"
)

// DefaultDatabaseFile is the SQLite file used when DATABASE_URL is unset
// and a store is needed, in the working directory, beside `.env`.
const DefaultDatabaseFile = "falproxy.db"

// StoreURL is the database serve opens: DATABASE_URL, else the default
// file when ADMIN_KEY is set (virtual keys are in play), else "" (no
// store: falproxy keeps no database).
func (c *Config) StoreURL() string { return StoreURLOf(c.DatabaseURL, c.AdminKey) }

// StoreURLOf is the rule of StoreURL for DATABASE_URL and ADMIN_KEY, for
// the commands that read only those.
func StoreURLOf(databaseURL, adminKey string) string {
	if databaseURL != "" || adminKey == "" {
		return databaseURL
	}
	return DefaultDatabaseURL()
}

// DefaultDatabaseURL is the URL of DefaultDatabaseFile in the working
// directory.
func DefaultDatabaseURL() string {
	abs, err := filepath.Abs(DefaultDatabaseFile)
	if err != nil {
		abs = DefaultDatabaseFile
	}
	return "sqlite://" + abs
}

// ValidDatabaseURL reports whether s names a database falproxy can open.
func ValidDatabaseURL(s string) bool {
	for _, prefix := range []string{"sqlite://", "postgres://", "postgresql://"} {
		if strings.HasPrefix(s, prefix) && len(s) > len(prefix) {
			return true
		}
	}
	return false
}

// databaseURL reads an optional DATABASE_URL. Messages never quote it: a
// Postgres URL may hold a password.
func (l *loader) databaseURL(name string) string {
	s, ok := l.str(name)
	if !ok || s == "" {
		return ""
	}
	if !ValidDatabaseURL(s) {
		l.problem(name, "must start with sqlite://, postgres:// or postgresql://")
		return ""
	}
	return s
}
