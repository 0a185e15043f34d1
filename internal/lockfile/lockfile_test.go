package lockfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The lock is written sorted (skills, agents, paths) with no timestamps, so
// the same installs give the same bytes whatever their order.
func TestWriteIsStable(t *testing.T) {
	dir := t.TempDir()
	a, b := New(), New()
	x := Entry{Source: "http://s", SourceType: SourceType, Tenant: "t", Version: 2, ComputedHash: "sha256:aa",
		Agents: []string{"codex", "claude", "codex"}, Paths: []string{".claude/skills/x", ".agents/skills/x"}}
	y := Entry{Source: "http://s", SourceType: SourceType, Tenant: "t", Ref: "1", Version: 1, ComputedHash: "sha256:bb",
		Agents: []string{"claude"}, Paths: []string{".claude/skills/y"}}
	a.Skills["x"], a.Skills["y"] = x, y
	b.Skills["y"], b.Skills["x"] = y, x
	b.Skills["x"] = Entry{Source: x.Source, SourceType: x.SourceType, Tenant: x.Tenant, Version: 2, ComputedHash: x.ComputedHash,
		Agents: []string{"claude", "codex"}, Paths: []string{".agents/skills/x", ".claude/skills/x"}}
	pa, pb := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	if err := a.Write(pa); err != nil {
		t.Fatal(err)
	}
	if err := b.Write(pb); err != nil {
		t.Fatal(err)
	}
	da, _ := os.ReadFile(pa)
	db, _ := os.ReadFile(pb)
	if string(da) != string(db) {
		t.Errorf("the same lock written twice differs:\n%s\n%s", da, db)
	}
	if strings.Index(string(da), `"x"`) > strings.Index(string(da), `"y"`) || !strings.Contains(string(da), `"agents": [
        "claude",
        "codex"
      ]`) {
		t.Errorf("not sorted:\n%s", da)
	}
	got, err := Read(pa)
	if err != nil || got.Skills["x"].ComputedHash != "sha256:aa" || got.Skills["y"].Ref != "1" || len(got.Skills["x"].Agents) != 2 {
		t.Errorf("read back: %+v, %v", got, err)
	}
	if names := got.Names(); len(names) != 2 || names[0] != "x" {
		t.Errorf("Names: %v", names)
	}
}

// A missing lock is empty; a lock of another format version is refused,
// never treated as empty (which would let the next write drop it).
func TestReadMissingAndForeign(t *testing.T) {
	dir := t.TempDir()
	l, err := Read(filepath.Join(dir, FileName))
	if err != nil || len(l.Skills) != 0 || l.Version != CurrentVersion {
		t.Errorf("missing lock: %+v, %v", l, err)
	}
	p := filepath.Join(dir, "v9.json")
	os.WriteFile(p, []byte(`{"version": 9, "skills": {}}`), 0o644)
	if _, err := Read(p); err == nil || !strings.Contains(err.Error(), "format version 9") {
		t.Errorf("lock of version 9: %v", err)
	}
	os.WriteFile(p, []byte(`not json`), 0o644)
	if _, err := Read(p); err == nil {
		t.Error("a broken lock was read")
	}
}
