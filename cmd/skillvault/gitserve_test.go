package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestServeGitEndpoint: `skillvault serve` mounts the git endpoint: the
// first start's admin key clones the default tenant's repository with the
// real git client (an empty registry still has its marketplace and
// README), git fsck --strict finds nothing, the repository is generated in
// SKILLVAULT_GIT_CACHE_DIR (what an earlier run left there is removed),
// and a push is refused.
func TestServeGitEndpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is required (Debian package git): %v", err)
	}
	cacheDir := t.TempDir()
	// What an earlier run left is removed at start; other files are kept.
	stale := filepath.Join(cacheDir, "3f0c8a52-6f53-4d9b-9a51-1d2b4c0e7a10", "old.git")
	if err := os.MkdirAll(stale, 0o700); err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(cacheDir, "notes.txt")
	if err := os.WriteFile(keep, []byte("mine\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	envv := embeddedHome(t, "SKILLVAULT_GIT_CACHE_DIR", cacheDir)

	srv := startServe(t, envv)
	banner := srv.out.String()
	url := regexp.MustCompile(`Skillvault is running at (\S+) `).FindStringSubmatch(banner)
	key := regexp.MustCompile(`Admin API key[^\n]*\n\n(\S+)\n`).FindStringSubmatch(banner)
	if url == nil || key == nil {
		t.Fatalf("no URL or key in the banner:\n%s", banner)
	}
	repo := strings.Replace(url[1], "http://", "http://admin:"+key[1]+"@", 1) + "/git/skills.git"
	gitHome := t.TempDir()
	git := func(dir string, args ...string) (string, error) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = []string{"HOME=" + gitHome, "PATH=" + os.Getenv("PATH"), "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com"}
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	clone := filepath.Join(t.TempDir(), "c")
	if o, err := git("", "clone", "--quiet", "--depth", "1", repo, clone); err != nil {
		t.Fatalf("git clone: %v\n%s\n%s", err, o, srv.errb.String())
	}
	for _, f := range []string{".claude-plugin/marketplace.json", "README.md"} {
		if _, err := os.Stat(filepath.Join(clone, f)); err != nil {
			t.Errorf("clone lacks %s: %v", f, err)
		}
	}
	if o, err := git(clone, "fsck", "--strict"); err != nil {
		t.Errorf("git fsck --strict: %v\n%s", err, o)
	}
	if repos, _ := filepath.Glob(filepath.Join(cacheDir, "*", "*.git")); len(repos) != 1 {
		t.Errorf("SKILLVAULT_GIT_CACHE_DIR holds %v; want the one generated repository", repos)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("a file of the operator's in the cache folder was removed: %v", err)
	}
	git(clone, "commit", "--quiet", "--allow-empty", "-m", "x")
	if o, err := git(clone, "push", "origin", "HEAD:main"); err == nil || !strings.Contains(o, "read-only") {
		t.Errorf("push: %v\n%s", err, o)
	}
}
