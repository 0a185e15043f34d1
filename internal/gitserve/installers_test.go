package gitserve_test

import (
	"github.com/skillvault/skillvault/internal/testenv"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// cli returns the installed CLI named by env (.ci/run installs it from npm
// and sets it). In CI a missing CLI fails the test: the interop proof must
// not silently vanish; elsewhere the test is skipped.
func cli(t *testing.T, env, pkg string) string {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		testenv.Missing(t, format, args...)
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing("node is not installed: %v", err)
	}
	p := os.Getenv(env)
	if p == "" {
		missing("$%s is not set: .ci/run installs %s and sets it", env, pkg)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("$%s: %v", env, err)
	}
	return p
}

// findSkill finds <name>/SKILL.md below root.
func findSkill(t *testing.T, root, name string) string {
	t.Helper()
	var found string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == "SKILL.md" && filepath.Base(filepath.Dir(p)) == name && found == "" {
			found = filepath.Dir(p)
		}
		return nil
	})
	if found == "" {
		t.Fatalf("no %s/SKILL.md installed below %s", name, root)
	}
	return found
}

// installerTenant is a tenant whose public discovery is off, with a
// private skill of the member and a tenant-wide one, and a client whose
// git credential store holds the member's key.
func installerTenant(t *testing.T) (*client, string, func(n int)) {
	s := start(t)
	acme := s.Tenant("acme")
	create(t, s, memberOf(acme), "member-notes", "private", true)
	create(t, s, adminOf(acme), "pdf-tools", "tenant", true)
	create(t, s, adminOf(acme), "admin-secret", "private", true)
	publish := func(n int) { addVersion(t, s, memberOf(acme), "member-notes", n) }
	return newClient(t, s, map[string]string{"acme": acme.Member.Key}), repoURL(s, "acme", "/git/skills.git"), publish
}

// TestSkillsCLIInstallsFromGit runs the real `skills` CLI (npm skills@1.5.18):
// it lists the repository's skills and installs a private one, with git's
// credentials from a credential store in a temporary HOME, byte-identical.
func TestSkillsCLIInstallsFromGit(t *testing.T) {
	bin := cli(t, "SKILLVAULT_SKILLS_CLI", "skills@1.5.18")
	c, url, _ := installerTenant(t)
	project := t.TempDir()
	list := c.run(project, bin, "add", url, "--list")
	if !strings.Contains(list, "member-notes") || !strings.Contains(list, "pdf-tools") || strings.Contains(list, "admin-secret") {
		t.Fatalf("skills add --list:\n%s", list)
	}
	out := c.run(project, bin, "add", url, "--skill", "member-notes", "--agent", "claude-code", "--yes", "--copy")
	dir := findSkill(t, project, "member-notes")
	sameFiles(t, dir, skillFiles("member-notes", 1))
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "pdf-tools")); err == nil {
		t.Errorf("skills add --skill member-notes also installed pdf-tools:\n%s", out)
	}
}

// TestClaudeInstallsFromGit runs the real Claude Code CLI (npm
// @anthropic-ai/claude-code): it adds the repository as a plugin
// marketplace and installs a private skill's plugin, byte-identical; a new
// version reaches it through `claude plugin marketplace update` and
// `claude plugin update`.
func TestClaudeInstallsFromGit(t *testing.T) {
	bin := cli(t, "SKILLVAULT_CLAUDE_CLI", "@anthropic-ai/claude-code")
	c, url, publish := installerTenant(t)
	project := t.TempDir()
	c.run(project, bin, "plugin", "marketplace", "add", url)
	c.run(project, bin, "plugin", "install", "member-notes@acme")
	// Claude Code copies the plugin's root (the skill's folder) into its
	// cache, by marketplace, plugin and version.
	dir := filepath.Join(c.home, ".claude", "plugins", "cache", "acme", "member-notes", "1.0.0")
	data, err := os.ReadFile(filepath.Join(dir, "SKILL.md"))
	if err != nil {
		t.Fatal(err)
	}
	if want := skillFiles("member-notes", 1)[0].Data; string(data) != string(want) {
		t.Errorf("installed SKILL.md:\n%q\nwant\n%q", data, want)
	}
	sameFiles(t, dir, skillFiles("member-notes", 1))
	// Its own validator accepts the marketplace as cloned.
	if out, err := c.try(project, bin, "plugin", "validate", filepath.Join(c.home, ".claude", "plugins", "marketplaces", "acme")); err != nil {
		t.Errorf("claude plugin validate: %v\n%s", err, out)
	}
	list := c.run(project, bin, "plugin", "list")
	if !strings.Contains(list, "member-notes") {
		t.Errorf("claude plugin list:\n%s", list)
	}

	// A new version reaches the agent through its own update commands.
	publish(2)
	c.run(project, bin, "plugin", "marketplace", "update", "acme")
	out := c.run(project, bin, "plugin", "update", "member-notes@acme")
	sameFiles(t, filepath.Join(c.home, ".claude", "plugins", "cache", "acme", "member-notes", "2.0.0"), skillFiles("member-notes", 2))
	if t.Failed() {
		t.Logf("claude plugin update:\n%s", out)
	}
}
