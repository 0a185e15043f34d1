package discovery_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/testcorpus"
	"github.com/skillvault/skillvault/internal/testenv"
)

// skillsCLIVersion is the `skills` CLI (npm package skills, vercel-labs/
// skills) the interop test runs: the newest that runs on Node 20.
const skillsCLIVersion = "1.5.18"

// skillsCLI returns the path of the `skills` executable: from
// $SKILLVAULT_SKILLS_CLI (.ci/run installs it), else, outside CI, installed
// with npm into a cache folder. In CI a missing CLI, node or npm fails the
// test: the interop proof must not silently vanish.
func skillsCLI(t *testing.T) string {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		testenv.Missing(t, format+" (outside CI the test installs the CLI itself when npm is present)", args...)
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing("node is not installed: %v", err)
	}
	if p := os.Getenv("SKILLVAULT_SKILLS_CLI"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("$SKILLVAULT_SKILLS_CLI: %v", err)
		}
		return p
	}
	if testenv.InCI() {
		t.Fatal("$SKILLVAULT_SKILLS_CLI is not set: .ci/run installs skills@" + skillsCLIVersion + " and sets it")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		missing("npm is not installed: %v", err)
	}
	dir := filepath.Join(os.TempDir(), "skillvault-skills-cli-"+skillsCLIVersion)
	bin := filepath.Join(dir, "node_modules", ".bin", "skills")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	cmd := exec.Command(npm, "install", "--no-audit", "--no-fund", "--prefix", dir, "skills@"+skillsCLIVersion)
	if out, err := cmd.CombinedOutput(); err != nil {
		missing("npm install skills@%s: %v\n%s", skillsCLIVersion, err, out)
	}
	return bin
}

// TestSkillsCLIInstallsFromDiscovery runs the real `skills` CLI against a
// Skillvault server on loopback: it must list every public skill of the
// tenant, then install each (one skill-md skill and several archives, text
// and binary files) for Claude Code and Codex, byte for byte as published.
func TestSkillsCLIInstallsFromDiscovery(t *testing.T) {
	cli := skillsCLI(t)
	s := newServer(t)
	// The loopback address names no tenant: it is served "default".
	tn := s.Tenant("default")
	publicDiscovery(t, s, tn.ID, true)
	want := map[string][]bundle.File{}
	publish := func(files []bundle.File, dir, visibility string) {
		t.Helper()
		p, err := s.Svc.CreateSkill(context.Background(), adminOf(tn), files,
			service.PublishOptions{Publish: true, Visibility: visibility, Dir: dir})
		if err != nil {
			t.Fatalf("publish %s: %v", dir, err)
		}
		if visibility == "public" {
			want[p.Skill.Name] = files
		}
	}
	for _, dir := range testcorpus.Fixtures(t) {
		files, err := bundle.ReadDir(dir, bundle.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		publish(files, filepath.Base(dir), "public")
	}
	publish([]bundle.File{
		{Path: "SKILL.md", Data: []byte("---\nname: binary-assets\ndescription: Ships a binary asset and a script.\n---\n# Binary assets\n\nRun scripts/run.sh.\n")},
		{Path: "scripts/run.sh", Data: []byte("#!/bin/sh\necho ok\n")},
		{Path: "assets/logo.png", Data: append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{0, 255, 7}, 100)...)},
		{Path: "references/deep/nested/notes.md", Data: []byte("# Notes\n")},
	}, "binary-assets", "public")
	publish(files("tenant-only", "Only for the tenant's people."), "tenant-only", "tenant")

	var skillMD, archives int
	for _, fs := range want {
		if len(fs) == 1 {
			skillMD++
		} else {
			archives++
		}
	}
	if skillMD < 1 || archives < 3 {
		t.Fatalf("want one skill-md skill and several archives, have %d and %d", skillMD, archives)
	}

	home, project := t.TempDir(), t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, cli, args...)
		cmd.Dir = project
		// No telemetry, no update checks, no prompts; nothing leaves loopback.
		cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
			"XDG_STATE_HOME="+filepath.Join(home, ".state"), "DISABLE_TELEMETRY=1", "DO_NOT_TRACK=1",
			"NO_UPDATE_NOTIFIER=1", "NO_COLOR=1", "FORCE_COLOR=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("skills %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	out := run("add", s.URL, "--list")
	t.Logf("skills add --list:\n%s", out)
	for name := range want {
		if !strings.Contains(out, name) {
			t.Errorf("skills --list does not show %s:\n%s", name, out)
		}
	}
	if strings.Contains(out, "tenant-only") {
		t.Errorf("skills --list shows a tenant-only skill to an anonymous client:\n%s", out)
	}

	run("add", s.URL, "--skill", "*", "-a", "claude-code", "-a", "codex", "-y", "--copy")
	for _, agentDir := range []string{".claude/skills", ".agents/skills"} {
		root := filepath.Join(project, agentDir)
		entries, err := os.ReadDir(root)
		if err != nil {
			t.Fatalf("nothing installed in %s: %v", agentDir, err)
		}
		var got []string
		for _, e := range entries {
			got = append(got, e.Name())
		}
		var names []string
		for name := range want {
			names = append(names, name)
		}
		slices.Sort(names)
		if !slices.Equal(got, names) {
			t.Errorf("%s holds %v, want %v", agentDir, got, names)
		}
		for name, files := range want {
			installed, err := bundle.ReadDir(filepath.Join(root, name), bundle.Limits{})
			if err != nil {
				t.Errorf("%s/%s: %v", agentDir, name, err)
				continue
			}
			if len(installed) != len(files) {
				t.Errorf("%s/%s: %d files installed, %d published", agentDir, name, len(installed), len(files))
			}
			byPath := map[string][]byte{}
			for _, f := range installed {
				byPath[f.Path] = f.Data
			}
			for _, f := range files {
				if data, ok := byPath[f.Path]; !ok || !bytes.Equal(data, f.Data) {
					t.Errorf("%s/%s/%s: installed bytes differ from the published ones (present: %t)", agentDir, name, f.Path, ok)
				}
			}
		}
	}
}
