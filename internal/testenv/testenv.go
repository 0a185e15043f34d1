// Package testenv decides what a test does when something it needs from
// the machine (a real client, Chromium, psql, the real corpus) is absent:
// in CI the test fails, so an interop or browser proof can never vanish
// as a skip; on a developer's machine it is skipped, saying what to
// install. make test installs everything (scripts/preflight.sh,
// scripts/test-tools.sh); .ci/run installs the system packages.
package testenv

import (
	"os"
	"testing"
)

// InCI reports whether the tests run in CI: $CI set to anything but
// "false" or "0" (CI systems set CI=true).
func InCI() bool {
	ci := os.Getenv("CI")
	return ci != "" && ci != "false" && ci != "0"
}

// Missing fails the test in CI and skips it elsewhere, with the message.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if InCI() {
		t.Fatalf("needed in CI: "+format, args...)
	}
	t.Skipf(format, args...)
}
