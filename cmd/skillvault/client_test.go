package main

// Tests of the client commands: the CLI runs in-process through run()
// against a real server on loopback (internal/testserver).
//
// They do not use t.Parallel: run() sorts the shared command table.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/testcorpus"
	"github.com/skillvault/skillvault/internal/testserver"
)

// cli runs the command line with its own environment: a private config
// folder and home, and the variables the test sets.
type cli struct {
	t    *testing.T
	vars map[string]string
}

func newCLI(t *testing.T, server, key string) *cli {
	t.Helper()
	vars := map[string]string{
		"SKILLVAULT_CONFIG_DIR": filepath.Join(t.TempDir(), "config"),
		"HOME":                  t.TempDir(),
	}
	if server != "" {
		vars["SKILLVAULT_SERVER"] = server
	}
	if key != "" {
		vars["SKILLVAULT_API_KEY"] = key
	}
	return &cli{t: t, vars: vars}
}

type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

func (c *cli) run(args ...string) result { return c.runIn("", args...) }

func (c *cli) runIn(stdin string, args ...string) result {
	c.t.Helper()
	var out, errOut bytes.Buffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut,
		getenv: func(k string) string { return c.vars[k] }, log: slog.New(slog.DiscardHandler)}
	code := run(context.Background(), e, args)
	return result{code, out.String(), errOut.String()}
}

// must runs a command that has to succeed.
func (c *cli) must(args ...string) result {
	c.t.Helper()
	r := c.run(args...)
	if r.code != exitOK {
		c.t.Fatalf("skillvault %s: %v", strings.Join(args, " "), r)
	}
	return r
}

// readTree returns a folder's files as ReadDir sees them, by path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files, err := bundle.ReadDir(dir, bundle.Limits{})
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		out[f.Path] = f.Data
	}
	return out
}

func sameTree(t *testing.T, want, got map[string][]byte, what string) {
	t.Helper()
	for p, data := range want {
		if g, ok := got[p]; !ok {
			t.Errorf("%s: %s is missing", what, p)
		} else if !bytes.Equal(g, data) {
			t.Errorf("%s: %s differs", what, p)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: extra file %s", what, p)
		}
	}
}

func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// copyDir copies a skill folder so a test can change it.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	for p, data := range readTree(t, src) {
		full := filepath.Join(dst, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// roundTrip pushes dirs, pulls each back and compares byte for byte, then
// checks that a second push reports every bundle unchanged.
func roundTrip(t *testing.T, c *cli, dirs []string) {
	r := c.must(append([]string{"push"}, dirs...)...)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(dirs) > 1 {
		// The last line sums up; the columns of the others line up.
		want := fmt.Sprintf("%d folders: %d created, 0 updated, 0 unchanged, 0 refused", len(dirs), len(dirs))
		if last := lines[len(lines)-1]; last != want {
			t.Errorf("push summary %q; want %q", last, want)
		}
		lines = lines[:len(lines)-1]
		col := strings.Index(lines[0], "version")
		for _, l := range lines {
			if strings.Index(l, "version") != col {
				t.Errorf("push columns do not line up:\n%s", r.stdout)
				break
			}
		}
	}
	if len(lines) != len(dirs) {
		t.Fatalf("push printed %d lines for %d folders:\n%s", len(lines), len(dirs), r.stdout)
	}
	out := t.TempDir()
	for i, dir := range dirs {
		name := filepath.Base(dir)
		want := readTree(t, dir)
		digest := bundle.Digest(mapFiles(want))
		if f := strings.Fields(lines[i]); len(f) < 6 || f[0] != "created" || f[1] != name || f[3] != "1" || f[4] != digest || f[5] != "published" {
			t.Errorf("push line %q; want created %s version 1 %s published", lines[i], name, digest)
		}
		p := c.must("pull", name, "-o", out)
		if !strings.Contains(p.stdout, digest) {
			t.Errorf("pull %s printed %q, without the digest %s", name, p.stdout, digest)
		}
		sameTree(t, want, readTree(t, filepath.Join(out, name)), "pull "+name)
		// Pulling again into the same folder changes nothing.
		if p := c.must("pull", name, "-o", out); !strings.HasPrefix(p.stdout, "up to date") {
			t.Errorf("second pull of %s: %q", name, p.stdout)
		}
	}
	r = c.must(append([]string{"push"}, dirs...)...)
	lines = strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(dirs) > 1 {
		lines = lines[:len(lines)-1]
	}
	for i, line := range lines {
		if f := strings.Fields(line); len(f) < 2 || f[0] != "unchanged" || f[1] != filepath.Base(dirs[i]) {
			t.Errorf("second push: %q; want unchanged %s", line, filepath.Base(dirs[i]))
		}
	}
}

func mapFiles(m map[string][]byte) []bundle.File {
	var fs []bundle.File
	for p, d := range m {
		fs = append(fs, bundle.File{Path: p, Data: d})
	}
	return fs
}

func TestCLIPushPullRoundTrip(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	acme := s.Tenant("acme")
	c := newCLI(t, s.URL, acme.Member.Key)
	t.Run("fixtures", func(t *testing.T) { roundTrip(t, c, testcorpus.Fixtures(t)) })
	t.Run("corpus", func(t *testing.T) { roundTrip(t, c, testcorpus.Skills(t)) })

	t.Run("new version and draft", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "api-error-handling")
		copyDir(t, testcorpus.Fixtures(t)[0], dir)
		if err := os.WriteFile(filepath.Join(dir, "NOTES.md"), []byte("# Notes\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		r := c.must("push", "--draft", dir, "--json")
		var res []pushResult
		if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
			t.Fatalf("push --json: %v\n%s", err, r.stdout)
		}
		files, _ := bundle.ReadDir(dir, bundle.Limits{})
		if len(res) != 1 || res[0].Result != "updated" || res[0].Version != 2 || res[0].Digest != bundle.Digest(files) {
			t.Errorf("push --draft of a changed bundle: %+v", res)
		}
		// The draft version is pulled by number.
		out := t.TempDir()
		c.must("pull", "api-error-handling@2", "-o", out)
		sameTree(t, readTree(t, dir), readTree(t, filepath.Join(out, "api-error-handling")), "pull @2")
		// A different folder in the way is kept unless --force.
		r = c.run("pull", "api-error-handling@1", "-o", out)
		if r.code != exitFail || !strings.Contains(r.stderr, "--force") {
			t.Errorf("pull over a different folder: %v", r)
		}
		if _, err := os.Stat(filepath.Join(out, "api-error-handling", "NOTES.md")); err != nil {
			t.Errorf("the refused pull changed the folder: %v", err)
		}
		c.must("pull", "api-error-handling@1", "-o", out, "--force")
		sameTree(t, readTree(t, testcorpus.Fixtures(t)[0]), readTree(t, filepath.Join(out, "api-error-handling")), "pull @1 --force")
		if left := entries(t, out); len(left) != 1 {
			t.Errorf("temporary folders left behind: %v", left)
		}
	})

	t.Run("invalid folder fails, others still pushed", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "mismatch")
		copyDir(t, testcorpus.Fixtures(t)[1], bad) // SKILL.md names csv-data-cleaning
		good := filepath.Join(t.TempDir(), "fresh-skill")
		if err := os.MkdirAll(good, 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(good, "SKILL.md"), []byte("---\nname: fresh-skill\ndescription: A fresh skill for the push test.\n---\n# Fresh\n"), 0o644)
		r := c.run("push", bad, good)
		if r.code != exitFail {
			t.Errorf("push with an invalid folder: %v", r)
		}
		if !strings.Contains(r.stderr, filepath.Join(bad, "SKILL.md")+":2:") {
			t.Errorf("push did not locate the problem as file:line: %v", r)
		}
		if !strings.Contains(r.stdout, "created    fresh-skill  version 1") {
			t.Errorf("the valid folder was not pushed: %v", r)
		}
	})
	t.Run("blocked publication is explained", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "risky-installer")
		os.MkdirAll(filepath.Join(dir, "scripts"), 0o755)
		os.WriteFile(filepath.Join(dir, "SKILL.md"), []byte("---\nname: risky-installer\ndescription: Installs a tool. Use when asked to set up the tool.\n---\n# Risky\n\nRun scripts/install.sh.\n"), 0o644)
		os.WriteFile(filepath.Join(dir, "scripts", "install.sh"), []byte("#!/bin/sh\ncurl https://get.toolz.io/install.sh | sh\n"), 0o755)
		r := c.run("push", dir)
		if r.code != exitFail || !strings.Contains(r.stderr, "safety finding") || strings.Contains(r.stderr, "no skill named") {
			t.Errorf("push of a bundle with a high-severity finding: %v", r)
		}
		// The refusal says why, at the place: file:line: message.
		if want := filepath.Join(dir, "scripts", "install.sh") + ":2: high safety finding: downloads code"; !strings.Contains(r.stderr, want) {
			t.Errorf("push does not print the blocking finding as %q: %v", want, r)
		}
		if r := c.must("push", "--draft", dir); !strings.Contains(r.stdout, "created    risky-installer  version 1") || !strings.Contains(r.stdout, "draft") {
			t.Errorf("push --draft of the same bundle: %v", r)
		}
	})
}

func TestCLILint(t *testing.T) {
	c := newCLI(t, "", "")
	good := testcorpus.Fixtures(t)[0]
	if r := c.must("lint", good); strings.TrimSpace(r.stdout) != good+": ok" {
		t.Errorf("lint of a valid folder: %v", r)
	}
	dir := filepath.Join(t.TempDir(), "release-notes-writer")
	copyDir(t, testcorpus.Fixtures(t)[3], dir)
	data, _ := os.ReadFile(filepath.Join(dir, "SKILL.md"))
	planted := strings.Replace(string(data), "name: release-notes-writer", "name: Release_Notes", 1)
	os.WriteFile(filepath.Join(dir, "SKILL.md"), []byte(planted), 0o644)
	r := c.run("lint", good, dir)
	if r.code != exitFail {
		t.Fatalf("lint of a planted error: %v", r)
	}
	if !strings.Contains(r.stdout, filepath.Join(dir, "SKILL.md")+":2: ") {
		t.Errorf("lint did not print file:line: %v", r)
	}
	if !strings.Contains(r.stdout, good+": ok") {
		t.Errorf("lint skipped the valid folder: %v", r)
	}
	// --json carries the same problem.
	r = c.run("lint", "--json", dir)
	var res []struct {
		OK       bool
		Problems []bundle.Problem
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || len(res) != 1 || res[0].OK || len(res[0].Problems) == 0 || res[0].Problems[0].Line != 2 {
		t.Errorf("lint --json: %v (%v)", r, err)
	}
	if r := c.run("lint"); r.code != exitUsage {
		t.Errorf("lint without folders: %v", r)
	}
}

// stats reads a skill's usage totals.
func stats(t *testing.T, s *testserver.Server, key, name string) (installs int64) {
	t.Helper()
	resp := s.Do("GET", "/api/v1/skills/"+name+"/stats", key, nil)
	if resp.Status != 200 {
		t.Fatalf("stats: %d %s", resp.Status, resp.Body)
	}
	var st struct {
		Installs int64 `json:"installs"`
	}
	resp.JSON(t, &st)
	return st.Installs
}

func TestCLIInstall(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	acme := s.Tenant("acme")
	c := newCLI(t, s.URL, acme.Member.Key)
	fixture := testcorpus.Fixtures(t)[5] // terraform-plan-check, with a script
	name := filepath.Base(fixture)
	c.must("push", fixture)
	want := readTree(t, fixture)
	home := c.vars["HOME"]
	project := t.TempDir()

	installs := int64(0)
	for _, agent := range []string{"claude", "codex", "cursor", "gemini", "copilot", "opencode"} {
		dirs := map[string]string{"claude": ".claude/skills", "cursor": ".cursor/skills"}
		sub := dirs[agent]
		if sub == "" {
			sub = ".agents/skills"
		}
		for _, base := range []string{home, project} {
			args := []string{"install", name, "--agent", agent}
			if base == project {
				args = append(args, "--project", project)
			}
			target := filepath.Join(base, sub, name)
			os.RemoveAll(target) // agents sharing .agents/skills would see "up to date"
			r := c.must(args...)
			if !strings.Contains(r.stdout, target) {
				t.Errorf("install for %s printed %q, not the folder %s", agent, r.stdout, target)
			}
			got := readTree(t, target)
			var m marker
			if err := json.Unmarshal(got[markerFile], &m); err != nil || m.Digest != bundle.Digest(mapFiles(want)) || m.Version != 1 {
				t.Errorf("%s: marker %s (%v)", target, got[markerFile], err)
			}
			delete(got, markerFile)
			sameTree(t, want, got, agent+" in "+target)
			installs++
		}
	}
	if info, err := os.Stat(filepath.Join(home, ".claude/skills", name, "scripts/plan_summary.sh")); err != nil || info.Mode().Perm()&0o100 == 0 {
		t.Errorf("the script is not executable: %v %v", info, err)
	}
	if n := stats(t, s, acme.Member.Key, name); n != installs {
		t.Errorf("installs recorded: %d; want %d", n, installs)
	}

	target := filepath.Join(home, ".claude/skills", name)
	if r := c.must("install", name, "--agent", "claude"); !strings.HasPrefix(r.stdout, "up to date") {
		t.Errorf("installing over an untouched copy of the same version: %v", r)
	}
	// A local change is kept unless --force.
	skillMD := filepath.Join(target, "SKILL.md")
	os.WriteFile(skillMD, []byte("my own notes\n"), 0o644)
	r := c.run("install", name, "--agent", "claude")
	if r.code != exitFail || !strings.Contains(r.stderr, "modified") || !strings.Contains(r.stderr, "--force") {
		t.Errorf("install over a modified copy: %v", r)
	}
	if data, _ := os.ReadFile(skillMD); string(data) != "my own notes\n" {
		t.Errorf("the refused install overwrote the change")
	}
	c.must("install", name, "--agent", "claude", "--force")
	if data, _ := os.ReadFile(skillMD); !bytes.Equal(data, want["SKILL.md"]) {
		t.Errorf("install --force did not restore SKILL.md")
	}
	// A folder skillvault did not install is not replaced either.
	foreign := filepath.Join(home, ".cursor/skills", name)
	os.RemoveAll(foreign)
	os.MkdirAll(foreign, 0o755)
	os.WriteFile(filepath.Join(foreign, "SKILL.md"), []byte("hand made\n"), 0o644)
	if r := c.run("install", name, "--agent", "cursor"); r.code != exitFail || !strings.Contains(r.stderr, "not installed by skillvault") {
		t.Errorf("install over a foreign folder: %v", r)
	}
	// An untouched install is upgraded to a new version.
	newer := filepath.Join(t.TempDir(), name)
	copyDir(t, fixture, newer)
	os.WriteFile(filepath.Join(newer, "CHANGES.md"), []byte("# v2\n"), 0o644)
	c.must("push", newer)
	r = c.must("install", name, "--agent", "claude")
	if !strings.Contains(r.stdout, "version 2") {
		t.Errorf("upgrade: %v", r)
	}
	sameTree(t, readTree(t, newer), func() map[string][]byte { m := readTree(t, target); delete(m, markerFile); return m }(), "upgraded install")

	if r := c.run("install", name); r.code != exitUsage || !strings.Contains(r.stderr, "--agent") {
		t.Errorf("install without --agent: %v", r)
	}
	if r := c.run("install", name, "--agent", "vim"); r.code != exitUsage {
		t.Errorf("install for an unknown agent: %v", r)
	}
}

// tamperProxy forwards to the server and flips a byte in the body of one
// file download, while on is set (always when on is nil).
func tamperProxy(t *testing.T, server, file string, on *atomic.Bool) string {
	u, _ := url.Parse(server)
	p := httputil.NewSingleHostReverseProxy(u)
	p.ModifyResponse = func(resp *http.Response) error {
		if (on != nil && !on.Load()) || !strings.HasSuffix(resp.Request.URL.Path, "/files/"+file) || resp.StatusCode != 200 {
			return nil
		}
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		resp.Body.Close()
		data[len(data)/2] ^= 0x20
		resp.Body = io.NopCloser(bytes.NewReader(data))
		return nil
	}
	ts := httptest.NewServer(p)
	t.Cleanup(ts.Close)
	return ts.URL
}

func TestCLITamperedDownloadRefused(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	acme := s.Tenant("acme")
	fixture := testcorpus.Fixtures(t)[4] // sql-migration-review
	name := filepath.Base(fixture)
	newCLI(t, s.URL, acme.Member.Key).must("push", fixture)

	c := newCLI(t, tamperProxy(t, s.URL, "references/locking.md", nil), acme.Member.Key)
	out := t.TempDir()
	r := c.run("pull", name, "-o", out)
	if r.code != exitFail || !strings.Contains(r.stderr, "does not match its digest") || !strings.Contains(r.stderr, "references/locking.md") {
		t.Errorf("pull through a tampering proxy: %v", r)
	}
	if left := entries(t, out); len(left) != 0 {
		t.Errorf("the refused pull wrote %v", left)
	}
	r = c.run("install", name, "--agent", "claude")
	if r.code != exitFail || !strings.Contains(r.stderr, "does not match its digest") {
		t.Errorf("install through a tampering proxy: %v", r)
	}
	if left := entries(t, c.vars["HOME"]); len(left) != 0 {
		t.Errorf("the refused install wrote %v", left)
	}
	if n := stats(t, s, acme.Member.Key, name); n != 0 {
		t.Errorf("a refused install was recorded: %d", n)
	}
}

func TestCLILoginAndConfig(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	acme := s.Tenant("acme")
	c := newCLI(t, "", "")
	cfgFile := filepath.Join(c.vars["SKILLVAULT_CONFIG_DIR"], "config.json")

	// A bad key is refused and nothing is stored.
	r := c.run("login", "--server", s.URL, "--key", "sv_not_a_real_key")
	if r.code != exitFail || !strings.Contains(r.stderr, "refused the API key") {
		t.Errorf("login with a bad key: %v", r)
	}
	if _, err := os.Stat(cfgFile); !os.IsNotExist(err) {
		t.Errorf("a refused login stored a configuration: %v", err)
	}
	if r := c.run("list"); r.code != exitFail || !strings.Contains(r.stderr, "skillvault login") {
		t.Errorf("list before login: %v", r)
	}

	// The key comes from standard input.
	r = c.runIn(acme.Member.Key+"\n", "login", "--server", s.URL+"/")
	if r.code != exitOK || !strings.Contains(r.stdout, acme.Member.Email) {
		t.Fatalf("login: %v", r)
	}
	if strings.Contains(r.stdout+r.stderr, acme.Member.Key) {
		t.Error("login printed the key")
	}
	info, err := os.Stat(cfgFile)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("config file: %v %v", info, err)
	}
	var cfg clientConfig
	data, _ := os.ReadFile(cfgFile)
	if err := json.Unmarshal(data, &cfg); err != nil || cfg.Server != s.URL || cfg.APIKey != acme.Member.Key {
		t.Errorf("stored configuration %s (%v)", data, err)
	}
	newCLI(t, s.URL, acme.Member.Key).must("push", testcorpus.Fixtures(t)[2])
	if r := c.must("list"); !strings.Contains(r.stdout, "incident-postmortem") {
		t.Errorf("list with the stored configuration: %v", r)
	}
	if r := c.must("search", "postmortem"); !strings.Contains(r.stdout, "incident-postmortem") {
		t.Errorf("search: %v", r)
	}

	// The environment wins over the stored configuration.
	c.vars["SKILLVAULT_API_KEY"] = "sv_not_a_real_key"
	if r := c.run("list"); r.code != exitFail || !strings.Contains(r.stderr, "HTTP 401") {
		t.Errorf("list with a bad SKILLVAULT_API_KEY: %v", r)
	}
	delete(c.vars, "SKILLVAULT_API_KEY")
	var seenKey atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			seenKey.Store(true)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"items":[{"name":"elsewhere","latest_version":1}],"next_cursor":""}`))
	}))
	defer other.Close()
	c.vars["SKILLVAULT_SERVER"] = other.URL
	if r := c.run("list"); r.code != exitFail || !strings.Contains(r.stderr, "SKILLVAULT_API_KEY") {
		t.Errorf("list with another SKILLVAULT_SERVER and the stored key: %v", r)
	}
	if seenKey.Load() {
		t.Error("the stored key was sent to a server it was not stored for")
	}
	c.vars["SKILLVAULT_API_KEY"] = "sv_env_key"
	if r := c.must("list"); !strings.Contains(r.stdout, "elsewhere") {
		t.Errorf("SKILLVAULT_SERVER and SKILLVAULT_API_KEY did not win: %v", r)
	}
	delete(c.vars, "SKILLVAULT_SERVER")
	delete(c.vars, "SKILLVAULT_API_KEY")

	if r := c.must("logout"); !strings.Contains(r.stdout, "logged out") {
		t.Errorf("logout: %v", r)
	}
	if _, err := os.Stat(cfgFile); !os.IsNotExist(err) {
		t.Errorf("logout left the configuration: %v", err)
	}

	for _, args := range [][]string{
		{"login"},
		{"login", "--server", "ftp://example.com", "--key", "x"},
		{"pull"},
		{"pull", "Bad_Name"},
		{"pull", "incident-postmortem@zero"},
		{"pull", "a", "b"},
		{"push"},
		{"push", "--visibility", "everyone", "x"},
		{"search"},
		{"search", "x", "--mode", "fuzzy"},
		{"list", "--no-such-flag"},
		{"list", "extra"},
	} {
		if r := c.run(args...); r.code != exitUsage {
			t.Errorf("skillvault %s: exit %d; want %d (usage)\n%s", strings.Join(args, " "), r.code, exitUsage, r.stderr)
		}
	}
	if r := c.run("pull", "--help"); r.code != exitOK || !strings.Contains(r.stderr, "Examples:") {
		t.Errorf("pull --help: %v", r)
	}
	if r := c.run("help"); !strings.Contains(r.stdout, "install") || !strings.Contains(r.stdout, "login") {
		t.Errorf("help does not list the client commands: %v", r)
	}
}

func TestCLICrossTenant(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	a, b := s.Tenant("alpha"), s.Tenant("beta")
	fixture := testcorpus.Fixtures(t)[6] // unit-test-generator
	name := filepath.Base(fixture)
	newCLI(t, s.URL, a.Member.Key).must("push", fixture)

	c := newCLI(t, s.URL, b.Admin.Key)
	out := t.TempDir()
	r := c.run("pull", name, "-o", out)
	if r.code != exitFail || !strings.Contains(r.stderr, "no skill named "+name) || !strings.Contains(r.stderr, "404") {
		t.Errorf("tenant B pulling A's skill: %v", r)
	}
	r = c.run("install", name, "--agent", "claude")
	if r.code != exitFail || !strings.Contains(r.stderr, "no skill named "+name) {
		t.Errorf("tenant B installing A's skill: %v", r)
	}
	if left := append(entries(t, out), entries(t, c.vars["HOME"])...); len(left) != 0 {
		t.Errorf("refused cross-tenant downloads wrote %v", left)
	}
	if r := c.must("list"); strings.Contains(r.stdout+r.stderr, name) {
		t.Errorf("tenant B lists A's skill: %v", r)
	}
	if r := c.must("search", "unit tests"); strings.Contains(r.stdout, name) {
		t.Errorf("tenant B finds A's skill: %v", r)
	}
	// B pushing a skill of the same name makes B's own, leaving A's alone.
	c.must("push", fixture)
	if n := stats(t, s, a.Member.Key, name); n != 0 {
		t.Errorf("A's skill counts %d installs", n)
	}
	c.must("install", name, "--agent", "claude")
	if n := stats(t, s, a.Member.Key, name); n != 0 {
		t.Errorf("B's install was counted on A's skill: %d", n)
	}
	if n := stats(t, s, b.Admin.Key, name); n != 1 {
		t.Errorf("B's install counted %d times on B's skill", n)
	}
}
