package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/lockfile"
	"github.com/skillvault/skillvault/internal/testcorpus"
	"github.com/skillvault/skillvault/internal/testserver"
)

func readLock(t *testing.T, project string) *lockfile.Lock {
	t.Helper()
	l, err := lockfile.Read(filepath.Join(project, lockfile.FileName))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// installedTree is an installed copy's files without the install marker.
func installedTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	m := readTree(t, dir)
	delete(m, markerFile)
	return m
}

// copyLock gives another project the lock file only, as a teammate gets
// it from the repository.
func copyLock(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(from, lockfile.FileName))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(to, 0o755)
	if err := os.WriteFile(filepath.Join(to, lockfile.FileName), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCLILockRoundTrip: three skills installed for two agents are
// recorded in the project's lock; sync restores deleted folders byte for
// byte and gives a teammate's empty project the same; outdated and update
// follow a new version (a pinned skill stays); sync --check tells a stale
// checkout; a local edit blocks update without --force; a tampered
// download or a lock whose digest the server does not confirm writes
// nothing; uninstall removes exactly what install wrote.
func TestCLILockRoundTrip(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	acme := s.Tenant("acme")
	var tamper atomic.Bool
	server := tamperProxy(t, s.URL, "SKILL.md", &tamper)
	c := newCLI(t, server, acme.Member.Key)
	fx := testcorpus.Fixtures(t)[:3]
	names := []string{filepath.Base(fx[0]), filepath.Base(fx[1]), filepath.Base(fx[2])}
	c.must("push", fx[0], fx[1], fx[2])

	project := filepath.Join(t.TempDir(), "app")
	for _, agent := range []string{"claude", "codex"} {
		c.must("install", names[0], "--agent", agent, "--project", project)
		c.must("install", names[1], "--agent", agent, "--project", project)
		c.must("install", names[2]+"@1", "--agent", agent, "--project", project) // pinned
	}
	folders := func(project, name string) []string {
		return []string{filepath.Join(project, ".claude/skills", name), filepath.Join(project, ".agents/skills", name)}
	}
	lock := readLock(t, project)
	if got := lock.Names(); len(got) != 3 {
		t.Fatalf("lock names %v", got)
	}
	for i, name := range names {
		en := lock.Skills[name]
		digest := digestOf(t, fx[i])
		if en.Source != server || en.SourceType != "skillvault" || en.Tenant != acme.ID.String() || en.Version != 1 ||
			en.ComputedHash != digest || strings.Join(en.Agents, ",") != "claude,codex" ||
			strings.Join(en.Paths, ",") != ".agents/skills/"+name+",.claude/skills/"+name {
			t.Errorf("lock entry of %s: %+v", name, en)
		}
		if (en.Ref == "1") != (i == 2) {
			t.Errorf("pin of %s: %q", name, en.Ref)
		}
	}
	lockBytes, _ := os.ReadFile(filepath.Join(project, lockfile.FileName))
	if bytes.Contains(lockBytes, []byte("At\"")) || !bytes.HasSuffix(lockBytes, []byte("}\n")) {
		t.Errorf("the lock carries timestamps or is not newline terminated:\n%s", lockBytes)
	}
	if r := c.must("list", "--installed", "--project", project); strings.Count(r.stdout, " ok\n") != 3 || !strings.Contains(r.stdout, "1 (pinned)") {
		t.Errorf("list --installed: %v", r)
	}

	// Deleted folders: --check says so, sync restores them byte for byte.
	os.RemoveAll(filepath.Join(project, ".claude"))
	os.RemoveAll(filepath.Join(project, ".agents"))
	if r := c.run("sync", "--check", "--project", project); r.code != exitFail || strings.Count(r.stderr, "missing") != 6 {
		t.Errorf("sync --check of deleted folders: %v", r)
	}
	if _, err := os.Stat(filepath.Join(project, ".claude")); err == nil {
		t.Error("sync --check wrote folders")
	}
	c.must("sync", "--project", project)
	teammate := filepath.Join(t.TempDir(), "app")
	copyLock(t, project, teammate)
	newCLI(t, server, acme.Member.Key).must("sync", "--project", teammate)
	for i, name := range names {
		for _, dir := range append(folders(project, name), folders(teammate, name)...) {
			sameTree(t, readTree(t, fx[i]), installedTree(t, dir), "sync of "+dir)
		}
	}
	if r := c.must("sync", "--check", "--project", project); strings.Count(r.stdout, "in sync") != 3 {
		t.Errorf("sync --check after sync: %v", r)
	}

	// New versions of the first and the pinned skill.
	v2 := map[int]string{}
	for _, i := range []int{0, 2} {
		dir := filepath.Join(t.TempDir(), names[i])
		copyDir(t, fx[i], dir)
		os.WriteFile(filepath.Join(dir, "CHANGES.md"), []byte("# Version 2\n"), 0o644)
		c.must("push", dir)
		v2[i] = dir
	}
	r := c.must("outdated", "--project", project)
	if !strings.Contains(r.stdout, "SKILL") || !regexpLine(r.stdout, names[0]+`\s+1\s+2\s+claude,codex`) ||
		!regexpLine(r.stdout, names[2]+`\s+1 \(pinned\)\s+2\s+claude,codex`) || strings.Contains(r.stdout, names[1]) {
		t.Errorf("outdated: %v", r)
	}

	// A local edit blocks update of that skill, and only that skill.
	edited := filepath.Join(project, ".claude/skills", names[0], "SKILL.md")
	os.WriteFile(edited, []byte("my notes\n"), 0o644)
	r = c.run("update", "--project", project)
	if r.code != exitFail || !strings.Contains(r.stderr, "modified since version 1") || !strings.Contains(r.stderr, "--force") {
		t.Errorf("update over a local edit: %v", r)
	}
	if data, _ := os.ReadFile(edited); string(data) != "my notes\n" {
		t.Error("update overwrote a local edit")
	}
	if !regexpLine(r.stdout, `pinned\s+`+names[2]+` version 1`) || readLock(t, project).Skills[names[0]].Version != 1 {
		t.Errorf("refused update: %v\nlock %+v", r, readLock(t, project).Skills)
	}
	r = c.must("update", "--project", project, "--force")
	if !strings.Contains(r.stdout, names[0]+" 1 → 2 (published)") {
		t.Errorf("update --force: %v", r)
	}
	lock = readLock(t, project)
	if en := lock.Skills[names[0]]; en.Version != 2 || en.ComputedHash != digestOf(t, v2[0]) {
		t.Errorf("lock after update: %+v", en)
	}
	if lock.Skills[names[2]].Version != 1 {
		t.Errorf("update moved the pinned %s", names[2])
	}
	for _, dir := range folders(project, names[0]) {
		sameTree(t, readTree(t, v2[0]), installedTree(t, dir), "updated "+dir)
	}

	// The teammate's checkout is stale until synced with the new lock.
	copyLock(t, project, teammate)
	tc := newCLI(t, server, acme.Member.Key)
	if r := tc.run("sync", "--check", "--project", teammate); r.code != exitFail || !strings.Contains(r.stderr, names[0]) ||
		!strings.Contains(r.stderr, "version 1 installed, the lock says version 2") {
		t.Errorf("sync --check of a stale checkout: %v", r)
	}
	tc.must("sync", "--project", teammate)
	tc.must("sync", "--check", "--project", teammate)
	sameTree(t, readTree(t, v2[0]), installedTree(t, folders(teammate, names[0])[1]), "teammate's synced copy")

	// Naming the pinned skill updates it, and it stays pinned there.
	c.must("update", names[2], "--project", project)
	if en := readLock(t, project).Skills[names[2]]; en.Version != 2 || en.Ref != "2" {
		t.Errorf("named update of a pinned skill: %+v", en)
	}

	// A tampered download is refused and nothing is written.
	for _, dir := range folders(project, names[1]) {
		os.RemoveAll(dir)
	}
	tamper.Store(true)
	r = c.run("sync", "--project", project)
	tamper.Store(false)
	if r.code != exitFail || !strings.Contains(r.stderr, "does not match its digest") {
		t.Errorf("sync through a tampering proxy: %v", r)
	}
	for _, dir := range folders(project, names[1]) {
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("a tampered download was written to %s", dir)
		}
	}
	// So is a lock whose digest the server's version does not have.
	lock = readLock(t, project)
	en := lock.Skills[names[1]]
	en.ComputedHash = "sha256:" + strings.Repeat("0", 64)
	lock.Skills[names[1]] = en
	lock.Write(filepath.Join(project, lockfile.FileName))
	if r := c.run("sync", "--project", project); r.code != exitFail || !strings.Contains(r.stderr, "but the lock says") {
		t.Errorf("sync of a lock with a digest the server does not confirm: %v", r)
	}
	if _, err := os.Stat(folders(project, names[1])[0]); err == nil {
		t.Error("an unconfirmed digest was installed")
	}
	// A lock naming paths its agents do not use is refused, not followed.
	en.Paths = []string{"../../outside/" + names[1]}
	lock.Skills[names[1]] = en
	lock.Write(filepath.Join(project, lockfile.FileName))
	if r := c.run("sync", "--project", project); r.code != exitFail || !strings.Contains(r.stderr, "but its agents install in") {
		t.Errorf("sync of a lock with foreign paths: %v", r)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(project), "..", "outside")); err == nil {
		t.Error("a lock wrote outside the project")
	}

	// Uninstall removes the skill's folders and entry, nothing else.
	mine := filepath.Join(project, ".claude/skills/my-own-skill/SKILL.md")
	os.MkdirAll(filepath.Dir(mine), 0o755)
	os.WriteFile(mine, []byte("mine\n"), 0o644)
	c.must("uninstall", names[0], "--project", project)
	for _, dir := range folders(project, names[0]) {
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("uninstall left %s", dir)
		}
	}
	if _, ok := readLock(t, project).Skills[names[0]]; ok {
		t.Error("uninstall left the lock entry")
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("uninstall removed a folder it did not write: %v", err)
	}
	if _, err := os.Stat(folders(project, names[2])[0]); err != nil {
		t.Errorf("uninstall removed another skill: %v", err)
	}
}

// TestCLILockCrossTenant: a lock of tenant alpha's skills, synced with a
// key of tenant beta, fails with not found and writes nothing; a
// namesake in beta is not installed in place of alpha's skill, whether
// the lock names alpha's tenant or (edited) beta's.
func TestCLILockCrossTenant(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	alpha, beta := s.Tenant("alpha"), s.Tenant("beta")
	fixture := testcorpus.Fixtures(t)[6]
	name := filepath.Base(fixture)
	ca := newCLI(t, s.URL, alpha.Member.Key)
	ca.must("push", fixture)
	project := filepath.Join(t.TempDir(), "app")
	ca.must("install", name, "--agent", "claude", "--project", project)

	other := filepath.Join(t.TempDir(), "app")
	copyLock(t, project, other)
	cb := newCLI(t, s.URL, beta.Member.Key)
	r := cb.run("sync", "--project", other)
	if r.code != exitFail || !strings.Contains(r.stderr, "no skill named "+name) || !strings.Contains(r.stderr, "404") {
		t.Errorf("beta syncing alpha's lock: %v", r)
	}
	if r := cb.run("update", "--project", other); r.code != exitFail || !strings.Contains(r.stderr, "no skill named "+name) {
		t.Errorf("beta updating alpha's lock: %v", r)
	}
	if r := cb.run("outdated", "--project", other); r.code != exitFail || !strings.Contains(r.stderr, "no skill named "+name) {
		t.Errorf("beta's outdated of alpha's lock: %v", r)
	}
	if left := entries(t, other); len(left) != 1 {
		t.Errorf("beta's refused sync wrote %v", left)
	}

	// Beta's own skill of that name is another skill.
	namesake := filepath.Join(t.TempDir(), name)
	copyDir(t, fixture, namesake)
	os.WriteFile(filepath.Join(namesake, "EXTRA.md"), []byte("# Beta's\n"), 0o644)
	cb.must("push", namesake)
	if r := cb.run("sync", "--project", other); r.code != exitFail || !strings.Contains(r.stderr, "locked from tenant "+alpha.ID.String()) {
		t.Errorf("beta syncing alpha's lock over a namesake: %v", r)
	}
	l := readLock(t, other)
	en := l.Skills[name]
	en.Tenant = beta.ID.String()
	l.Skills[name] = en
	l.Write(filepath.Join(other, lockfile.FileName))
	if r := cb.run("sync", "--project", other); r.code != exitFail || !strings.Contains(r.stderr, "but the lock says") {
		t.Errorf("beta syncing a lock edited to beta's tenant: %v", r)
	}
	if left := entries(t, other); len(left) != 1 {
		t.Errorf("beta's refused syncs wrote %v", left)
	}
}

func digestOf(t *testing.T, dir string) string {
	t.Helper()
	return bundle.Digest(mapFiles(readTree(t, dir)))
}

// regexpLine reports whether some line of out matches the pattern.
func regexpLine(out, pattern string) bool {
	return regexp.MustCompile(`(?m)^` + pattern).MatchString(out)
}

// TestCLIUserLock: installs in the home folder are recorded in the user's
// lock, in the configuration folder (not among the home folder's files),
// with paths relative to the home folder; --global reads it back.
func TestCLIUserLock(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	acme := s.Tenant("acme")
	c := newCLI(t, s.URL, acme.Member.Key)
	fixture := testcorpus.Fixtures(t)[4]
	name := filepath.Base(fixture)
	c.must("push", fixture)
	c.must("install", name, "--agent", "cursor")
	lock := readLock(t, c.vars["SKILLVAULT_CONFIG_DIR"])
	if en := lock.Skills[name]; strings.Join(en.Paths, ",") != ".cursor/skills/"+name || en.Version != 1 {
		t.Fatalf("user lock: %+v", lock.Skills)
	}
	if _, err := os.Stat(filepath.Join(c.vars["HOME"], lockfile.FileName)); err == nil {
		t.Error("the user lock was written into the home folder")
	}
	target := filepath.Join(c.vars["HOME"], ".cursor/skills", name)
	os.RemoveAll(target)
	if r := c.run("list", "--installed", "--global"); !strings.Contains(r.stdout, "missing") {
		t.Errorf("list --installed --global of a deleted folder: %v", r)
	}
	c.must("sync", "--global")
	sameTree(t, readTree(t, fixture), installedTree(t, target), "sync --global")
	os.WriteFile(filepath.Join(target, "SKILL.md"), []byte("edited\n"), 0o644)
	if r := c.run("uninstall", name, "--global"); r.code != exitFail || !strings.Contains(r.stderr, "modified since version 1") {
		t.Errorf("uninstall of an edited copy: %v", r)
	}
	if data, _ := os.ReadFile(filepath.Join(target, "SKILL.md")); string(data) != "edited\n" {
		t.Error("a refused uninstall removed the edited copy")
	}
	c.must("uninstall", name, "--global", "--force")
	if _, err := os.Stat(target); err == nil || len(readLock(t, c.vars["SKILLVAULT_CONFIG_DIR"]).Skills) != 0 {
		t.Errorf("uninstall --global left %s or its entry (%v)", target, err)
	}
}

// TestCLILockCommandsUsage: the lock commands answer usage mistakes with
// exit 2 and their synopsis, and a missing lock or entry with a clear
// failure that writes nothing.
func TestCLILockCommandsUsage(t *testing.T) {
	for _, cmd := range []string{"sync", "update", "outdated", "uninstall"} {
		if code, _, errs := runCLI(t, nil, cmd, "--no-such-flag"); code != exitUsage || !strings.Contains(errs, "Usage: skillvault "+cmd) {
			t.Errorf("%s --no-such-flag: exit %d\n%s", cmd, code, errs)
		}
		if code, _, errs := runCLI(t, nil, cmd, "--help"); code != exitOK || !strings.Contains(errs, "--project") || !strings.Contains(errs, "Examples:") {
			t.Errorf("%s --help: exit %d\n%s", cmd, code, errs)
		}
	}
	c := newCLI(t, "", "")
	project := t.TempDir()
	if r := c.run("sync", "--project", project, "--global"); r.code != exitUsage {
		t.Errorf("sync --project --global: %v", r)
	}
	if r := c.run("sync", "--project", project); r.code != exitFail || !strings.Contains(r.stderr, "no lock file") {
		t.Errorf("sync without a lock: %v", r)
	}
	if r := c.run("uninstall", "pdf-tools", "--project", project); r.code != exitFail || !strings.Contains(r.stderr, "not installed") {
		t.Errorf("uninstall of a skill not in the lock: %v", r)
	}
	if r := c.run("update", "pdf-tools", "--project", project); r.code != exitFail || !strings.Contains(r.stderr, "not installed") {
		t.Errorf("update of a skill not in the lock: %v", r)
	}
	if left := entries(t, project); len(left) != 0 {
		t.Errorf("failed lock commands wrote %v", left)
	}
}
