package teams

import (
	"os"
	"testing"

	"github.com/falproxy/falproxy/internal/store/pgtest"
)

// TestMain stops the shared Postgres server the tests start (see pgtest).
func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	os.Exit(code)
}
