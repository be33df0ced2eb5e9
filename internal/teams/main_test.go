package teams

import (
	"testing"

	"github.com/falproxy/falproxy/internal/store/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }
