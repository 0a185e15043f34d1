package bundle

import (
	"strings"
	"testing"
)

func TestCleanPath(t *testing.T) {
	good := []string{
		"SKILL.md", "scripts/run.sh", "a/b/c.txt", "with space.md", ".gitignore",
		"a..b", "...", "~x", "C:file", strings.Repeat("a/", MaxDepth-1) + "z",
		strings.Repeat("x", MaxPathLen),
	}
	for _, p := range good {
		got, err := CleanPath(p)
		if err != nil || got != p {
			t.Errorf("CleanPath(%q) = %q, %v; want it unchanged", p, got, err)
		}
	}
	bad := map[string]string{
		"":                             "is empty",
		"../x":                         `contains a ".." segment`,
		"a/../b":                       `contains a ".." segment`,
		"..":                           `contains a ".." segment`,
		"/abs":                         "is absolute",
		"a\\b":                         "contains a backslash",
		"a/./b":                        `contains a "." segment`,
		"./a":                          `contains a "." segment`,
		".":                            `contains a "." segment`,
		"a//b":                         "contains an empty segment",
		"a/":                           "ends with a slash",
		"a\x00b":                       "control or non-ASCII",
		"a\nb":                         "control or non-ASCII",
		"a\x7f":                        "control or non-ASCII",
		"café.md":                      "control or non-ASCII",
		"C:/Windows":                   "drive letter",
		strings.Repeat("a/", 16) + "z": "nested 17 levels deep",
		strings.Repeat("x", 513):       "is 513 bytes long",
	}
	for p, want := range bad {
		got, err := CleanPath(p)
		be := wantError(t, err)
		if got != "" || !hasMessage(be, want) {
			t.Errorf("CleanPath(%q) = %q, %v; want error containing %q", p, got, err, want)
		}
	}
}
