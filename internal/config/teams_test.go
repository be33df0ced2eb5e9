package config

import (
	"slices"
	"strings"
	"testing"
)

func TestStoreURL(t *testing.T) {
	if got := mustLoad(t, nil).StoreURL(); got != "" {
		t.Fatalf("without DATABASE_URL and ADMIN_KEY falproxy must keep no database, got %q", got)
	}
	c := mustLoad(t, map[string]string{"ADMIN_KEY": "admin-key-0123456789"})
	if got := c.StoreURL(); !strings.HasPrefix(got, "sqlite://") || !strings.HasSuffix(got, "/"+DefaultDatabaseFile) {
		t.Fatalf("with ADMIN_KEY alone: %q", got)
	}
	pg := "postgres://falproxy:pw@db/falproxy"
	if got := mustLoad(t, map[string]string{"DATABASE_URL": pg}).StoreURL(); got != pg {
		t.Fatalf("DATABASE_URL: %q", got)
	}
}

func TestDatabaseURLIsCheckedAndNeverQuoted(t *testing.T) {
	_, err := Load(envOf(map[string]string{"DATABASE_URL": "mysql://user:hunter2@db/x"}))
	if err == nil || !strings.Contains(err.Error(), "DATABASE_URL") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error %v", err)
	}
}

// TestDatabaseURLTableNamesEveryScheme: the table lists each scheme
// DATABASE_URL accepts.
func TestDatabaseURLTableNamesEveryScheme(t *testing.T) {
	i := slices.IndexFunc(Variables, func(v Variable) bool { return v.Name == envDatabaseURL })
	for _, scheme := range []string{"sqlite://", "postgres://", "postgresql://"} {
		if !ValidDatabaseURL(scheme + "x") {
			t.Errorf("%s is refused", scheme)
		}
		if !strings.Contains(Variables[i].Format, scheme) {
			t.Errorf("the table's DATABASE_URL values do not name %s: %q", scheme, Variables[i].Format)
		}
	}
}
