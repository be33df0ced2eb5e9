package ciskip

import (
	"fmt"
	"testing"
)

// outcome records what Skipf asked of the test instead of ending it.
type outcome struct {
	testing.TB
	skipped, failed string
}

func (o *outcome) Helper()                           {}
func (o *outcome) Skipf(format string, args ...any)  { o.skipped = fmt.Sprintf(format, args...) }
func (o *outcome) Fatalf(format string, args ...any) { o.failed = fmt.Sprintf(format, args...) }

func TestSkipfSkipsOutsideCI(t *testing.T) {
	for _, ci := range []string{"", "false", "0", "maybe"} {
		t.Setenv("CI", ci)
		var o outcome
		Skipf(&o, "node is %s", "missing")
		if o.skipped != "node is missing" || o.failed != "" {
			t.Errorf("CI=%q: skipped %q, failed %q; want a skip", ci, o.skipped, o.failed)
		}
	}
}

func TestSkipfFailsInCI(t *testing.T) {
	for _, ci := range []string{"true", "TRUE", "1"} {
		t.Setenv("CI", ci)
		var o outcome
		Skipf(&o, "node is %s", "missing")
		if o.failed == "" || o.skipped != "" {
			t.Errorf("CI=%q: skipped %q, failed %q; want a failure", ci, o.skipped, o.failed)
		}
	}
}
