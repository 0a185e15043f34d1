// Package testcorpus locates skill bundles for tests: the real corpus of
// published skills kept next to the checkout (../shared/testdata/skills),
// and the project's own fixtures (testdata/skills).
//
// The real corpus is optional. When it is absent, tests that need it are
// skipped, never passed, so a missing corpus shows up in "go test -v".
package testcorpus

import (
	"errors"
	"fmt"
	"github.com/skillvault/skillvault/internal/testenv"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// EnvVar overrides the location of the real corpus.
const EnvVar = "SKILLVAULT_CORPUS"

// RepoRoot returns the directory holding go.mod, found by walking up from
// the working directory (a package directory under "go test").
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find repository root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Dir returns the real corpus folder and whether it exists. $SKILLVAULT_CORPUS
// wins; otherwise it is ../shared/testdata/skills next to the repository.
func Dir() (string, bool) {
	dir := os.Getenv(EnvVar)
	if dir == "" {
		root, err := RepoRoot()
		if err != nil {
			return "", false
		}
		dir = filepath.Join(root, "..", "shared", "testdata", "skills")
	}
	dir = filepath.Clean(dir)
	info, err := os.Stat(dir)
	return dir, err == nil && info.IsDir()
}

// Skills returns the bundle folders of the real corpus, sorted, and skips
// the test when the corpus is not present. A corpus that is present but
// holds no bundle fails the test: that is a broken setup, not a missing one.
func Skills(t testing.TB) []string {
	t.Helper()
	dir, ok := Dir()
	if !ok {
		if os.Getenv(EnvVar) != "" {
			t.Fatalf("real corpus not present: $%s=%s is not a folder", EnvVar, dir)
		}
		// CI has shared/ beside the clone: a missing corpus there is a
		// broken setup, not a developer's partial checkout.
		testenv.Missing(t, "real corpus not present: %s (set $%s to its location)", dir, EnvVar)
	}
	return bundles(t, dir)
}

// Fixtures returns the project's own bundle folders under testdata/skills,
// sorted. They are part of the repository, so their absence fails the test.
func Fixtures(t testing.TB) []string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return bundles(t, filepath.Join(root, "testdata", "skills"))
}

// bundles lists the subfolders of dir that hold a SKILL.md.
func bundles(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("list skill bundles: %v", err)
	}
	var dirs []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if _, err := os.Stat(filepath.Join(p, "SKILL.md")); err == nil {
			dirs = append(dirs, p)
		}
	}
	if len(dirs) == 0 {
		t.Fatalf("no skill bundles (folders with SKILL.md) in %s", dir)
	}
	slices.Sort(dirs)
	return dirs
}
