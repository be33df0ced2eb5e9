// Package ciskip lets a test skip itself when something it needs is absent
// (Node.js, an npm package, Chromium, fal's reference schemas beside the
// repository), except in CI: there a skip would let a run report success
// with the test never run, so it fails instead.
package ciskip

import (
	"os"
	"strconv"
	"testing"
)

// Skipf skips the test with the message, or fails it with the same message
// when the environment variable CI is true.
func Skipf(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if inCI() {
		tb.Fatalf(format+" (CI=true: a test that cannot run fails)", args...)
		return
	}
	tb.Skipf(format, args...)
}

// inCI reports whether CI is set to a true value ("true", "1", …), as CI
// services and .ci/run set it.
func inCI() bool {
	ci, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && ci
}
