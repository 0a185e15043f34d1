package main

import (
	"bytes"
	"context"
	"fmt"
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

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/store"
	"github.com/skillvault/skillvault/internal/testserver"
)

// runCtx is run with the test's own context, to interrupt a command.
func (c *cli) runCtx(ctx context.Context, args ...string) result {
	c.t.Helper()
	var out, errOut bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut,
		getenv: func(k string) string { return c.vars[k] }, log: slog.New(slog.DiscardHandler)}
	code := run(ctx, e, args)
	return result{code, out.String(), errOut.String()}
}

// bulkFolders writes n skill folders, bulk-000 and on; the folders whose
// index is in bad name another skill in SKILL.md, so a push refuses them.
func bulkFolders(t *testing.T, n int, bad map[int]bool) []string {
	root := t.TempDir()
	var dirs []string
	for i := range n {
		name := fmt.Sprintf("bulk-%03d", i)
		dir := filepath.Join(root, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		declared := name
		if bad[i] {
			declared = "another-name"
		}
		md := fmt.Sprintf("---\nname: %s\ndescription: Generated skill %d of the bulk push test, about topic %x. Use when testing bulk pushes.\n---\n# Bulk %d\n\nStep %d.\n", declared, i, i*7919, i, i)
		if err := os.WriteFile(filepath.Join(dir, "SKILL.md"), []byte(md), 0o644); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	return dirs
}

// serverSkills returns the digests of the latest versions of a tenant's
// skills, by name, read through the service (the API would count against
// the rate limit under test).
func serverSkills(t *testing.T, s *testserver.Server, tenant uuid.UUID) map[string]string {
	t.Helper()
	ctx := context.Background()
	sys := service.System(tenant)
	skills, err := s.Svc.Skills(ctx, sys, store.SkillFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, sk := range skills {
		v, err := s.Svc.Version(ctx, sys, sk.Name, "latest")
		if err != nil {
			t.Fatalf("version of %s: %v", sk.Name, err)
		}
		out[sk.Name] = v.Digest
	}
	return out
}

// TestCLIBulkPushUnderRateLimit: against a real server with a low per-key
// rate limit, a push of 200 folders is interrupted part way, some pushed
// folders are changed, and the push is run again: every folder ends
// created, updated, unchanged or refused for its own reason (never for the
// rate limit), the summary counts each exactly, and the server holds every
// valid folder's bundle.
func TestCLIBulkPushUnderRateLimit(t *testing.T) {
	s := testserver.Start(t, testserver.Options{RateLimit: 10}) // burst 20
	acme := s.Tenant("acme")
	bad := map[int]bool{17: true, 88: true, 150: true, 199: true}
	dirs := bulkFolders(t, 200, bad)

	// The first push is interrupted (as by Ctrl-C) after 40 skills were
	// created, seen by a loopback proxy in front of the server.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var created atomic.Int32
	u, _ := url.Parse(s.URL)
	p := httputil.NewSingleHostReverseProxy(u)
	p.ModifyResponse = func(resp *http.Response) error {
		if resp.StatusCode == http.StatusCreated && created.Add(1) == 40 {
			cancel()
		}
		return nil
	}
	proxy := httptest.NewServer(p)
	defer proxy.Close()
	r := newCLI(t, proxy.URL, acme.Member.Key).runCtx(ctx, append([]string{"push"}, dirs...)...)
	if r.code != exitFail || !strings.Contains(r.stderr, "interrupted after") {
		t.Fatalf("interrupted push: %v", r)
	}
	before := serverSkills(t, s, acme.ID)
	if len(before) < 40 || len(before) > 60 {
		t.Fatalf("the interrupted push left %d skills on the server; want about 40", len(before))
	}
	// Three of the pushed folders change before the push is run again.
	changed := 0
	for _, dir := range dirs {
		if _, ok := before[filepath.Base(dir)]; ok && changed < 3 {
			os.WriteFile(filepath.Join(dir, "NOTES.md"), []byte("# Changed\n"), 0o644)
			changed++
		}
	}

	c := newCLI(t, s.URL, acme.Member.Key)
	r = c.run(append([]string{"push"}, dirs...)...)
	if r.code != exitFail {
		t.Errorf("push with refused folders exits %d, want 1", r.code)
	}
	if !strings.Contains(r.stderr, "(HTTP 429), retrying") {
		t.Errorf("the push never met the rate limit, so this test proves nothing:\n%s", r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	want := fmt.Sprintf("200 folders: %d created, 3 updated, %d unchanged, %d refused",
		200-len(bad)-len(before), len(before)-3, len(bad))
	if last := lines[len(lines)-1]; last != want {
		t.Errorf("summary %q; want %q\n%s", last, want, r.stderr)
	}
	if len(lines) != 200-len(bad)+1 {
		t.Errorf("%d result lines for %d valid folders", len(lines)-1, 200-len(bad))
	}
	// Each refusal is the folder's own problem, never the rate limit.
	refusals := 0
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.HasPrefix(l, "skillvault: push ") {
			refusals++
			if !strings.Contains(l, "not a valid skill folder") {
				t.Errorf("refused for another reason than its own: %s", l)
			}
		}
	}
	if refusals != len(bad) {
		t.Errorf("%d folders refused; want %d:\n%s", refusals, len(bad), r.stderr)
	}
	// Nothing is lost: the server holds every valid folder as it is now.
	after := serverSkills(t, s, acme.ID)
	for i, dir := range dirs {
		name := filepath.Base(dir)
		if bad[i] {
			if _, ok := after[name]; ok {
				t.Errorf("refused folder %s is on the server", name)
			}
			continue
		}
		files, err := bundle.ReadDir(dir, bundle.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if after[name] != bundle.Digest(files) {
			t.Errorf("%s: the server has digest %q, the folder %s", name, after[name], bundle.Digest(files))
		}
	}
}
