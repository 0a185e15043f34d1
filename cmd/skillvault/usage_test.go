package main

import (
	"strings"
	"testing"
)

// TestUsageErrorsAreShort: a wrong flag prints the command's one-line
// usage and where the rest is, exit 2; --help prints the flags as the
// synopsis writes them (--json, not -json) and the examples, exit 0.
func TestUsageErrorsAreShort(t *testing.T) {
	for _, cmd := range [][]string{{"push"}, {"install"}, {"tenant", "create"}, {"serve"}, {"db", "url"}} {
		name := strings.Join(cmd, " ")
		code, _, errs := runCLI(t, nil, append(cmd, "--no-such-flag")...)
		if code != exitUsage {
			t.Errorf("%s --no-such-flag: exit %d, want %d", name, code, exitUsage)
		}
		if strings.Contains(errs, "Flags:") || strings.Contains(errs, "Examples:") {
			t.Errorf("%s: a usage error prints the whole help:\n%s", name, errs)
		}
		if !strings.Contains(errs, "Usage: skillvault "+name) || !strings.Contains(errs, `Run "skillvault `+name+` --help"`) {
			t.Errorf("%s: usage error without the synopsis and the pointer to --help:\n%s", name, errs)
		}

		code, _, errs = runCLI(t, nil, append(cmd, "--help")...)
		if code != exitOK || !strings.Contains(errs, "Flags:") || !strings.Contains(errs, "Examples:") {
			t.Errorf("%s --help: exit %d\n%s", name, code, errs)
		}
		for _, line := range strings.Split(errs, "\n") {
			if strings.HasPrefix(line, "  -") && !strings.HasPrefix(line, "  --") {
				t.Errorf("%s --help lists a flag with one dash: %q", name, line)
			}
		}
	}
}
