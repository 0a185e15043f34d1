package testcorpus

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFixtures(t *testing.T) {
	dirs := Fixtures(t)
	if len(dirs) < 6 {
		t.Errorf("only %d fixtures: %v", len(dirs), dirs)
	}
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "SKILL.md")); err != nil {
			t.Error(err)
		}
	}
}

func TestDirOverride(t *testing.T) {
	want := t.TempDir()
	t.Setenv(EnvVar, want)
	if dir, ok := Dir(); dir != want || !ok {
		t.Errorf("Dir() = %q, %v; want %q, true", dir, ok, want)
	}
	t.Setenv(EnvVar, filepath.Join(want, "missing"))
	if _, ok := Dir(); ok {
		t.Error("Dir() reports a missing folder as present")
	}
}

func TestSkills(t *testing.T) {
	for _, d := range Skills(t) {
		if _, err := os.Stat(filepath.Join(d, "SKILL.md")); err != nil {
			t.Error(err)
		}
	}
}
