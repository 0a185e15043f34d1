package mcpserver_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"github.com/skillvault/skillvault/internal/testenv"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// InspectorVersion is the MCP Inspector release .ci/run installs (the
// newest at the time; it declares Node 22 but runs on the Node 20 of these
// machines, which this test proves on every run).
const InspectorVersion = "2.12.0"

// inspector runs the MCP Inspector's CLI, the client people use to check
// MCP servers. .ci/run installs it with npm into SKILLVAULT_INSPECTOR_DIR.
// In CI a missing node or Inspector fails the test; elsewhere it skips.
type inspector struct {
	cli  string
	home string
}

func findInspector(t *testing.T) *inspector {
	t.Helper()
	missing := func(why string) {
		t.Helper()
		testenv.Missing(t, "the MCP Inspector: %s (make test installs @modelcontextprotocol/inspector@%s with npm)", why, InspectorVersion)
	}
	dir := os.Getenv("SKILLVAULT_INSPECTOR_DIR")
	if dir == "" {
		missing("SKILLVAULT_INSPECTOR_DIR is not set")
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing("node is not on PATH")
	}
	pkg := filepath.Join(dir, "node_modules", "@modelcontextprotocol", "inspector")
	var meta struct {
		Version string `json:"version"`
	}
	data, err := os.ReadFile(filepath.Join(pkg, "package.json"))
	if err != nil || json.Unmarshal(data, &meta) != nil {
		missing("no @modelcontextprotocol/inspector in " + dir)
	}
	if meta.Version != InspectorVersion {
		t.Fatalf("%s holds the MCP Inspector %s, want %s", dir, meta.Version, InspectorVersion)
	}
	return &inspector{cli: filepath.Join(pkg, "clients", "launcher", "build", "index.js"), home: t.TempDir()}
}

// run runs the CLI with args and returns stdout, stderr and the exit code.
// It gets a home of its own, no browser and no proxy: it talks only to the
// loopback servers it is pointed at (its OAuth flow, the one thing that
// might go elsewhere, is off with --stored-auth-only).
func (in *inspector) run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{in.cli, "--cli"}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + in.home, "MCP_STORAGE_DIR=" + filepath.Join(in.home, "storage"),
		"MCP_AUTO_OPEN_ENABLED=false", "DO_NOT_TRACK=1", "NO_UPDATE_NOTIFIER=1"}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if exit := (*exec.ExitError)(nil); errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("running the MCP Inspector: %v", err)
	}
	return stdout.String(), stderr.String(), code
}

// must runs the CLI and fails unless it exits 0.
func (in *inspector) must(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := in.run(t, args...)
	if code != 0 {
		t.Fatalf("mcp-inspector %v exited %d\nstdout: %s\nstderr: %s", args, code, out, errOut)
	}
	return out
}

// skillReport is one line of the Inspector's skills/list --verify output.
type skillReport struct {
	URI     string `json:"uri"`
	Name    string `json:"name"`
	Outcome string `json:"outcome"`
	OK      bool   `json:"ok"`
	Files   []struct {
		URI    string `json:"uri"`
		Status string `json:"status"`
	} `json:"files"`
}

func reports(t *testing.T, out string) []skillReport {
	t.Helper()
	var rs []skillReport
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "{") {
			var r skillReport
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("report %q: %v", line, err)
			}
			rs = append(rs, r)
		}
	}
	return rs
}

// TestInspector: the real MCP Inspector CLI, with nothing but the server's
// URL and a key (or the `skillvault mcp` command and a key), finds the
// Skills extension, lists a tenant's skills, reads and verifies every file
// against its digest and size and every SKILL.md against its frontmatter,
// in both protocol eras; finds no portability problem in the tool schemas;
// and shows another tenant's key none of it.
func TestInspector(t *testing.T) {
	in := findInspector(t)
	s := start(t)
	acme, globex := s.Tenant("acme"), s.Tenant("globex")
	publish(t, s, acme.Member.Key, richFiles(), "tenant")
	publish(t, s, acme.Admin.Key, skillFiles("slide-maker", "Build slide decks from outlines."), "tenant")
	publish(t, s, acme.Admin.Key, skillFiles("admin-private", "The admin's private notes."), "private")
	publish(t, s, globex.Member.Key, skillFiles("globex-forms", "Fill globex forms."), "tenant")

	bin := filepath.Join(t.TempDir(), "skillvault")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/skillvault/skillvault/cmd/skillvault").CombinedOutput(); err != nil {
		t.Fatalf("building skillvault: %v\n%s", err, out)
	}
	http := func(key string) []string {
		return []string{s.URL + "/mcp", "--transport", "http", "--header", "Authorization: Bearer " + key, "--stored-auth-only"}
	}
	stdio := func(key string) []string {
		return []string{"-e", "SKILLVAULT_SERVER=" + s.URL, "-e", "SKILLVAULT_API_KEY=" + key, "-e", "HOME=" + in.home, bin, "mcp"}
	}
	wantVerified := func(t *testing.T, out string, names ...string) {
		t.Helper()
		var got []string
		for _, r := range reports(t, out) {
			got = append(got, r.Name)
			if r.Outcome != "verified" || !r.OK || len(r.Files) == 0 {
				t.Fatalf("the Inspector did not verify %s: %+v\n%s", r.URI, r, out)
			}
			for _, f := range r.Files {
				if f.Status != "verified" {
					t.Fatalf("the Inspector found %s %s", f.URI, f.Status)
				}
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, names) {
			t.Fatalf("the Inspector verified %v, want %v\n%s", got, names, out)
		}
	}

	for _, era := range []string{"modern", "legacy"} {
		t.Run("http "+era, func(t *testing.T) {
			member := append(http(acme.Member.Key), "--protocol-era", era)
			wantVerified(t, in.must(t, append(member, "--method", "skills/list", "--verify")...), "pdf-tools", "slide-maker")

			var got struct {
				Result struct {
					Skill struct {
						URI         string         `json:"uri"`
						Frontmatter map[string]any `json:"frontmatter"`
					} `json:"skill"`
					CacheScope string `json:"cacheScope"`
				} `json:"result"`
			}
			out := in.must(t, append(member, "--method", "skills/get", "--uri", "skill://pdf-tools/SKILL.md", "--format", "json")...)
			if err := json.Unmarshal([]byte(out), &got); err != nil || got.Result.Skill.URI != "skill://pdf-tools/SKILL.md" ||
				canonical(t, got.Result.Skill.Frontmatter) != canonical(t, yamlFrontmatter(t, []byte(richSkillMD))) {
				t.Fatalf("skills/get through the Inspector: %s (%v)", out, err)
			}
			if era == "modern" && got.Result.CacheScope != "private" {
				t.Fatalf("skills/get cache scope %q, want private", got.Result.CacheScope)
			}

			var read struct {
				Result struct {
					Contents []struct{ URI, MIMEType, Text string } `json:"contents"`
				} `json:"result"`
			}
			out = in.must(t, append(member, "--method", "resources/read", "--uri", "skill://pdf-tools/SKILL.md", "--format", "json")...)
			if json.Unmarshal([]byte(out), &read) != nil || len(read.Result.Contents) != 1 || read.Result.Contents[0].Text != richSkillMD {
				t.Fatalf("resources/read through the Inspector: %s", out)
			}

			var dir struct {
				Result struct {
					Resources []struct{ URI, Name, MIMEType string } `json:"resources"`
				} `json:"result"`
			}
			out = in.must(t, append(member, "--method", "resources/directory/read", "--uri", "skill://pdf-tools/references", "--format", "json")...)
			if json.Unmarshal([]byte(out), &dir) != nil || len(dir.Result.Resources) != 2 ||
				dir.Result.Resources[0].URI != "skill://pdf-tools/references/deep" || dir.Result.Resources[0].MIMEType != "inode/directory" ||
				dir.Result.Resources[1].URI != "skill://pdf-tools/references/guide.md" {
				t.Fatalf("resources/directory/read through the Inspector: %s", out)
			}

			if _, errOut, code := in.run(t, append(member, "--method", "tools/list", "--strict", "--format", "json")...); code != 0 || strings.TrimSpace(errOut) != "" {
				t.Fatalf("tools/list --strict exited %d with: %s", code, errOut)
			}

			other := append(http(globex.Member.Key), "--protocol-era", era)
			if rs := reports(t, in.must(t, append(other, "--method", "skills/list", "--verify")...)); len(rs) != 1 || rs[0].Name != "globex-forms" {
				t.Fatalf("tenant B's skills/list through the Inspector: %+v", rs)
			}
			_, hidden, code1 := in.run(t, append(other, "--method", "skills/get", "--uri", "skill://pdf-tools/SKILL.md")...)
			_, missing, code2 := in.run(t, append(other, "--method", "skills/get", "--uri", "skill://zz-nothing/SKILL.md")...)
			if code1 == 0 || code1 != code2 || strings.ReplaceAll(hidden, "pdf-tools", "X") != strings.ReplaceAll(missing, "zz-nothing", "X") {
				t.Fatalf("tenant B's skills/get of A's skill (%d: %s) differs from a missing one (%d: %s)", code1, hidden, code2, missing)
			}
		})
	}

	for _, era := range []string{"modern", "legacy"} {
		t.Run("stdio "+era, func(t *testing.T) {
			wantVerified(t, in.must(t, append([]string{"--protocol-era", era, "--method", "skills/list", "--verify"}, stdio(acme.Member.Key)...)...),
				"pdf-tools", "slide-maker")
			if rs := reports(t, in.must(t, append([]string{"--protocol-era", era, "--method", "skills/list", "--verify"}, stdio(globex.Member.Key)...)...)); len(rs) != 1 || rs[0].Name != "globex-forms" {
				t.Fatalf("tenant B's skills/list through skillvault mcp: %+v", rs)
			}
		})
	}
}
