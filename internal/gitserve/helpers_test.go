package gitserve_test

import (
	"bytes"
	"context"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/testserver"
	"github.com/skillvault/skillvault/internal/web"
)

const baseDomain = "skills.test"

// start runs a server with the git endpoint mounted as serve mounts it.
func start(t *testing.T) *testserver.Server {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is required (Debian package git): %v", err)
	}
	// The web UI is mounted too, as serve mounts it: its "/" catch-all and
	// CSRF guard must leave git's POSTs alone.
	return testserver.Start(t, testserver.Options{BaseDomain: baseDomain, Mount: func(s *testserver.Server) {
		testserver.MountGit(s)
		web.New(s.Svc, web.Config{HostTenant: s.Srv.HostTenant}).Register(s.Srv.Mux)
	}})
}

func adminOf(tn *testserver.Tenant) service.Actor {
	return service.Actor{TenantID: tn.ID, UserID: tn.Admin.ID, Role: "admin", Scopes: []string{"read", "write", "admin"}, Source: "cli"}
}

func memberOf(tn *testserver.Tenant) service.Actor {
	return service.Actor{TenantID: tn.ID, UserID: tn.Member.ID, Role: "member", Scopes: []string{"read", "write"}, Source: "cli"}
}

func publicDiscovery(t *testing.T, s *testserver.Server, tn *testserver.Tenant, on bool) {
	t.Helper()
	if _, err := s.Svc.UpdateSettings(context.Background(), service.System(tn.ID), service.SettingsPatch{PublicDiscovery: &on}); err != nil {
		t.Fatal(err)
	}
}

// skillFiles is a bundle whose every file names the skill and version, so
// a search of the objects for the marker finds any file of it.
func skillFiles(name string, version int) []bundle.File {
	marker := "marker-" + name + "-v" + string(rune('0'+version))
	return []bundle.File{
		{Path: "SKILL.md", Data: []byte("---\nname: " + name + "\ndescription: The " + name + " skill (" + marker + ").\n---\n# " + name + "\n\n" + marker + "\n")},
		{Path: "scripts/run.sh", Data: []byte("#!/bin/sh\necho " + marker + "\n")},
		{Path: "references/guide.md", Data: []byte("Guide " + marker + "\n")},
	}
}

func create(t *testing.T, s *testserver.Server, a service.Actor, name, visibility string, publish bool) {
	t.Helper()
	if _, err := s.Svc.CreateSkill(context.Background(), a, skillFiles(name, 1), service.PublishOptions{Publish: publish, Visibility: visibility}); err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
}

func addVersion(t *testing.T, s *testserver.Server, a service.Actor, name string, n int) {
	t.Helper()
	if _, err := s.Svc.AddVersion(context.Background(), a, name, skillFiles(name, n), service.PublishOptions{Publish: true}); err != nil {
		t.Fatalf("version %d of %s: %v", n, name, err)
	}
}

// client is a git user with its own HOME: a credential store holding a key
// for the tenant hosts it was given, and name resolution of those hosts to
// the test server.
type client struct {
	t    *testing.T
	home string
	env  []string
}

// newClient makes a client; keys maps a tenant slug to the API key stored
// for its host ("" stores none).
func newClient(t *testing.T, s *testserver.Server, keys map[string]string) *client {
	t.Helper()
	home := t.TempDir()
	u, _ := url.Parse(s.URL)
	_, port, _ := net.SplitHostPort(u.Host)
	var cfg, creds strings.Builder
	cfg.WriteString("[user]\n\tname = Test\n\temail = test@example.com\n[credential]\n\thelper = store\n[http]\n")
	for slug, key := range keys {
		host := slug + "." + baseDomain
		cfg.WriteString("\tcurloptResolve = " + host + ":" + port + ":127.0.0.1\n")
		if key != "" {
			creds.WriteString("http://git:" + key + "@" + host + "%3a" + port + "\n")
		}
	}
	write(t, filepath.Join(home, ".gitconfig"), cfg.String())
	write(t, filepath.Join(home, ".git-credentials"), strings.ReplaceAll(creds.String(), "%3a", ":"))
	env := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0",
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "LANG=C", "LC_ALL=C",
		"DISABLE_TELEMETRY=1", "DO_NOT_TRACK=1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1",
		"DISABLE_AUTOUPDATER=1", "DISABLE_ERROR_REPORTING=1", "SKILLS_TELEMETRY_DISABLED=1", "NO_COLOR=1", "CI=1"}
	return &client{t: t, home: home, env: env}
}

// repoURL is the git URL of a tenant's repository at the test server.
func repoURL(s *testserver.Server, slug, path string) string {
	u, _ := url.Parse(s.URL)
	_, port, _ := net.SplitHostPort(u.Host)
	return "http://" + slug + "." + baseDomain + ":" + port + path
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// run runs a command as the client in dir and returns its output; it fails
// the test when the command fails.
func (c *client) run(dir string, name string, args ...string) string {
	c.t.Helper()
	out, err := c.try(dir, name, args...)
	if err != nil {
		c.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// try runs a command and returns its combined output and error.
func (c *client) try(dir string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = c.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func (c *client) git(dir string, args ...string) string {
	c.t.Helper()
	return strings.TrimSpace(c.run(dir, "git", args...))
}

// clone clones url into a new folder and returns it.
func (c *client) clone(url string, args ...string) string {
	c.t.Helper()
	dir := filepath.Join(c.t.TempDir(), "clone")
	c.run("", "git", append(append([]string{"clone", "--quiet"}, args...), url, dir)...)
	return dir
}

// skillsIn lists the skill folders of a checkout.
func skillsIn(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, "skills"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// sameFiles checks that dir holds exactly the bundle's files, byte for byte.
func sameFiles(t *testing.T, dir string, want []bundle.File) {
	t.Helper()
	var got []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			got = append(got, filepath.ToSlash(rel))
		}
		return nil
	})
	if len(got) != len(want) {
		t.Errorf("%s holds %v; want %d files", dir, got, len(want))
	}
	for _, f := range want {
		data, err := os.ReadFile(filepath.Join(dir, f.Path))
		if err != nil {
			t.Errorf("%s: %v", f.Path, err)
			continue
		}
		if !bytes.Equal(data, f.Data) {
			t.Errorf("%s/%s differs from the bundle:\n%q\nwant\n%q", dir, f.Path, data, f.Data)
		}
	}
}

var progress = regexp.MustCompile(`remote: Total (\d+)`)

// receivedObjects reads how many objects a fetch received from its progress.
func receivedObjects(t *testing.T, out string) int {
	t.Helper()
	m := progress.FindStringSubmatch(out)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// objectSet is every object reachable from the refs of the repository.
func objectSet(c *client, dir string) map[string]bool {
	out := map[string]bool{}
	for _, line := range strings.Split(c.git(dir, "rev-list", "--objects", "--all"), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			out[f[0]] = true
		}
	}
	return out
}
