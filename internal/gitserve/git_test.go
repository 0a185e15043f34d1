package gitserve_test

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestGitClone clones a tenant's repository with the real git client: full
// and shallow, over protocol v0 and v2, checks the layout and contents, a
// tag checkout, git fsck --strict, deterministic commits, a fetch after a
// new publish that receives only the new objects, and a refused push.
func TestGitClone(t *testing.T) {
	s := start(t)
	acme := s.Tenant("acme")
	admin, member := adminOf(acme), memberOf(acme)
	create(t, s, admin, "pdf-tools", "tenant", true)
	addVersion(t, s, admin, "pdf-tools", 2)
	create(t, s, member, "member-notes", "private", true)
	create(t, s, admin, "admin-secret", "private", true)
	create(t, s, admin, "unpublished", "tenant", false)
	c := newClient(t, s, map[string]string{"acme": acme.Member.Key})
	u := repoURL(s, "acme", "/git/skills.git")

	full := c.clone(u)
	if got, want := skillsIn(t, full), []string{"member-notes", "pdf-tools"}; !slices.Equal(got, want) {
		t.Fatalf("member's clone has skills %v; want %v", got, want)
	}
	sameFiles(t, filepath.Join(full, "skills", "pdf-tools"), skillFiles("pdf-tools", 2))
	sameFiles(t, filepath.Join(full, "skills", "member-notes"), skillFiles("member-notes", 1))
	if out := c.git(full, "fsck", "--strict", "--no-dangling"); out != "" {
		t.Errorf("git fsck --strict: %s", out)
	}
	if got := c.git(full, "symbolic-ref", "HEAD"); got != "refs/heads/main" {
		t.Errorf("HEAD is %s; want refs/heads/main", got)
	}
	// Commits: fixed author, commit time = newest publish time.
	sk, err := s.Svc.Skill(t.Context(), member, "member-notes")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.git(full, "log", "-1", "--format=%an|%cn|%ct"); got != "Skillvault|Skillvault|"+itoa(sk.PublishedAt.Unix()) {
		t.Errorf("main's commit: %s; want Skillvault as author and committer at %d", got, sk.PublishedAt.Unix())
	}
	// The marketplace names the tenant and every skill as a plugin.
	var m struct {
		Name    string
		Owner   struct{ Name string }
		Plugins []struct{ Name, Source, Version string }
	}
	if err := json.Unmarshal([]byte(c.git(full, "show", "HEAD:.claude-plugin/marketplace.json")), &m); err != nil {
		t.Fatal(err)
	}
	if m.Name != "acme" || m.Owner.Name != "ACME" || len(m.Plugins) != 2 || m.Plugins[1].Name != "pdf-tools" ||
		m.Plugins[1].Source != "./skills/pdf-tools" || m.Plugins[1].Version != "2.0.0" {
		t.Errorf("marketplace.json: %+v", m)
	}
	if readme := c.git(full, "show", "HEAD:README.md"); !strings.Contains(readme, "pdf-tools") || strings.Contains(readme, "admin-secret") {
		t.Errorf("README.md:\n%s", readme)
	}

	// A tag per version: pdf-tools/v1 holds version one.
	if got := c.git(full, "tag", "--list"); got != "member-notes/v1\npdf-tools/v1\npdf-tools/v2" {
		t.Errorf("tags: %q", got)
	}
	c.git(full, "checkout", "--quiet", "pdf-tools/v1")
	sameFiles(t, filepath.Join(full, "skills", "pdf-tools"), skillFiles("pdf-tools", 1))
	c.git(full, "checkout", "--quiet", "main")

	// Shallow clones over protocol v2 and v0 get the same commit.
	head := c.git(full, "rev-parse", "HEAD")
	for _, proto := range []string{"2", "0", "1"} {
		sh := c.clone(u, "--depth", "1", "-c", "protocol.version="+proto)
		if got := c.git(sh, "rev-parse", "--is-shallow-repository"); got != "true" {
			t.Errorf("protocol %s: --depth 1 clone is not shallow", proto)
		}
		if got := c.git(sh, "rev-parse", "HEAD"); got != head {
			t.Errorf("protocol %s: shallow clone at %s; full clone at %s (commits must be deterministic)", proto, got, head)
		}
		sameFiles(t, filepath.Join(sh, "skills", "pdf-tools"), skillFiles("pdf-tools", 2))
	}

	// The protocol asked for is the one spoken.
	for proto, want := range map[string]string{"2": "version 2", "1": "version 1"} {
		c.env = append(c.env, "GIT_TRACE_PACKET=1")
		trace := c.run(full, "git", "-c", "protocol.version="+proto, "ls-remote", "origin")
		c.env = c.env[:len(c.env)-1]
		if !regexp.MustCompile(`packet: +git< ` + want + `\n`).MatchString(trace) {
			t.Errorf("protocol.version=%s: the server did not answer %q:\n%.2000s", proto, want, trace)
		}
	}

	// Unchanged registry: a fetch transfers nothing.
	if out := c.git(full, "fetch", "--progress"); strings.Contains(out, "objects") {
		t.Errorf("fetch of an unchanged repository received objects:\n%s", out)
	}

	// A new publish: the fetch receives exactly the objects new since. main
	// is one root commit per view (deterministic commits cannot chain to an
	// earlier view), so the objects shared with the tags already fetched are
	// what the client has.
	had := objectSet(c, full)
	create(t, s, admin, "fresh", "tenant", true)
	out := c.git(full, "fetch", "--progress", "--tags")
	got := receivedObjects(t, out)
	all := objectSet(c, full)
	want, total := 0, len(all)
	for id := range all {
		if !had[id] {
			want++
		}
	}
	if got == 0 || got != want || got >= total/2 {
		t.Errorf("fetch after a publish received %d objects; %d are new (repository: %d)\n%s", got, want, total, out)
	}
	c.git(full, "reset", "--quiet", "--hard", "origin/main")
	sameFiles(t, filepath.Join(full, "skills", "fresh"), skillFiles("fresh", 1))

	// No push.
	write(t, filepath.Join(full, "new.txt"), "x\n")
	c.git(full, "add", "new.txt")
	c.git(full, "commit", "--quiet", "-m", "try")
	pushOut, err := c.try(full, "git", "push", "origin", "HEAD:main")
	if err == nil || !strings.Contains(pushOut, "read-only") {
		t.Errorf("push: err %v, output:\n%s\nwant a refusal saying the repository is read-only", err, pushOut)
	}
}
