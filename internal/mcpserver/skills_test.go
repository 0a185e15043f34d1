package mcpserver_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.yaml.in/yaml/v3"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/mcpserver"
	"github.com/skillvault/skillvault/internal/testserver"
)

// richSkillMD has every kind of frontmatter the extension must pass
// through verbatim: known fields written loosely (a description with
// spaces inside quotes, allowed-tools as one string) and unknown keys
// with nested values.
const richSkillMD = `---
name: pdf-tools
description: "  Extract text and tables from PDF files.  "
license: Apache-2.0
metadata:
  version: "2.1.0"
  owner: docs-team
allowed-tools: Bash(python:*) Read
x-review:
  level: 3
  ratio: 0.5
  strict: true
  reviewers: [ana, bo]
x-empty:
---
# PDF tools

Pick a template from references/ and run scripts/extract.py.
`

func richFiles() []bundle.File {
	return []bundle.File{
		{Path: "SKILL.md", Data: []byte(richSkillMD)},
		{Path: "assets/logo.png", Data: []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")},
		{Path: "references/deep/notes.md", Data: []byte("# Notes\n")},
		{Path: "references/guide.md", Data: []byte("# Guide\n\nUse it.\n")},
		{Path: "scripts/extract.py", Data: []byte("print('extract')\n")},
	}
}

// skillsFixture publishes, in acme, the rich skill and more skills than
// one skills/list page, plus skills the member must not see (another
// member's private one) and one over the extension's limits. It returns
// the bundles the member may see, by name.
func skillsFixture(t *testing.T, s *testserver.Server, acme *testserver.Tenant) map[string][]bundle.File {
	t.Helper()
	want := map[string][]bundle.File{"pdf-tools": richFiles()}
	publish(t, s, acme.Member.Key, richFiles(), "tenant")
	for i := range 22 {
		name := fmt.Sprintf("bulk-%02d", i)
		files := []bundle.File{{Path: "SKILL.md", Data: []byte("---\nname: " + name + "\ndescription: Bulk skill number " + fmt.Sprint(i) + ".\n---\n# " + name + "\n")}}
		key := acme.Member.Key
		if i%2 == 1 {
			key = acme.Admin.Key
		}
		publish(t, s, key, files, "tenant")
		want[name] = files
	}
	other := s.User(acme.ID, "other@acme.example", "member", "read", "write")
	publish(t, s, other.Key, skillFiles("other-private", "Another member's private notes."), "private")
	big := []bundle.File{{Path: "SKILL.md", Data: []byte("---\nname: too-many-files\ndescription: More files than hosts must accept.\n---\n# big\n")}}
	for i := range mcpserver.MaxSkillResources {
		big = append(big, bundle.File{Path: fmt.Sprintf("data/f%03d.txt", i), Data: []byte{'x'}})
	}
	publish(t, s, acme.Member.Key, big, "tenant")
	return want
}

// TestSkillsExtension: over HTTP and stdio, at every protocol version the
// server speaks, a host discovers the extension, pages through skills/list,
// gets a skill, reads directories and every listed file, and finds bytes,
// digests, sizes and frontmatter exactly as published.
func TestSkillsExtension(t *testing.T) {
	s := start(t)
	acme := s.Tenant("acme")
	want := skillsFixture(t, s, acme)

	for _, c := range []struct {
		name    string
		connect func(t *testing.T) *mcp.ClientSession
	}{
		{"http 2026-07-28", func(t *testing.T) *mcp.ClientSession { return connect(t, s, acme.Member.Key) }},
		{"http 2025-11-25", func(t *testing.T) *mcp.ClientSession { return connectAt(t, s, acme.Member.Key, "2025-11-25") }},
		{"http 2025-06-18", func(t *testing.T) *mcp.ClientSession { return connectAt(t, s, acme.Member.Key, "2025-06-18") }},
		{"stdio 2026-07-28", func(t *testing.T) *mcp.ClientSession { return stdio(t, s.URL, acme.Member.Key) }},
		{"stdio 2025-06-18", func(t *testing.T) *mcp.ClientSession { return stdioAt(t, s.URL, acme.Member.Key, "2025-06-18") }},
	} {
		t.Run(c.name, func(t *testing.T) {
			cs := c.connect(t)
			if strings.HasSuffix(c.name, "2026-07-28") && cs.InitializeResult().ProtocolVersion != "2026-07-28" {
				t.Fatalf("the SDK client negotiated %s, want 2026-07-28", cs.InitializeResult().ProtocolVersion)
			}
			checkSkills(t, cs, want)
		})
	}
}

func checkSkills(t *testing.T, cs *mcp.ClientSession, want map[string][]bundle.File) {
	ctx := ctxT(t)
	caps := cs.InitializeResult().Capabilities
	ext, ok := caps.Extensions[mcpserver.SkillsExtension].(map[string]any)
	if !ok || ext["directoryRead"] != true || caps.Resources == nil {
		t.Fatalf("capabilities %+v do not declare %s with directoryRead and resources", caps, mcpserver.SkillsExtension)
	}

	entries, pages := listAllSkills(t, cs)
	if pages < 2 {
		t.Fatalf("skills/list answered in %d page, want several (more skills than a page)", pages)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Frontmatter["name"].(string))
	}
	wantNames := mapKeys(want)
	slices.Sort(got)
	if !slices.Equal(got, wantNames) {
		t.Fatalf("skills/list = %v, want exactly %v (no private skill of another member, none over the limits)", got, wantNames)
	}

	for _, e := range entries {
		name := e.Frontmatter["name"].(string)
		files := want[name]
		if e.URI != "skill://"+name+"/SKILL.md" {
			t.Fatalf("entry URI %q", e.URI)
		}
		if g, w := canonical(t, e.Frontmatter), canonical(t, yamlFrontmatter(t, files[0].Data)); g != w {
			t.Fatalf("%s: frontmatter %s, want the SKILL.md's own %s", name, g, w)
		}
		var paths []string
		for _, r := range e.Resources {
			p := strings.TrimPrefix(r.URI, "skill://"+name+"/")
			paths = append(paths, p)
			data := readResourceBytes(t, cs, r.URI)
			i := slices.IndexFunc(files, func(f bundle.File) bool { return f.Path == p })
			if i < 0 || !bytes.Equal(data, files[i].Data) {
				t.Fatalf("resources/read %s = %q, want the published bytes", r.URI, data)
			}
			sum := sha256.Sum256(data)
			if r.Digest != "sha256:"+hex.EncodeToString(sum[:]) || r.Size != int64(len(data)) {
				t.Fatalf("%s: entry says %s, %d bytes; the bytes read have %x, %d", r.URI, r.Digest, r.Size, sum, len(data))
			}
		}
		slices.Sort(paths)
		var wantPaths []string
		for _, f := range files {
			wantPaths = append(wantPaths, f.Path)
		}
		slices.Sort(wantPaths)
		if !slices.Equal(paths, wantPaths) {
			t.Fatalf("%s lists %v, want every file %v", name, paths, wantPaths)
		}
	}

	rich := entries[slices.IndexFunc(entries, func(e mcpserver.Skill) bool { return e.Frontmatter["name"] == "pdf-tools" })]
	got1, err := mcp.CallCustomMethod[*mcpserver.GetSkillParams, *mcpserver.GetSkillResult](ctx, cs, mcpserver.MethodGetSkill,
		&mcpserver.GetSkillParams{URI: "skill://pdf-tools/SKILL.md"})
	if err != nil {
		t.Fatalf("skills/get: %v", err)
	}
	if canonical(t, got1.Skill) != canonical(t, rich) || got1.ResultType != "complete" || got1.CacheScope != "private" {
		t.Fatalf("skills/get = %+v, want the listed entry %+v, complete and private", got1, rich)
	}
	for _, uri := range []string{"skill://no-such-skill/SKILL.md", "skill://pdf-tools/scripts/extract.py", "skill://too-many-files/SKILL.md", "file:///etc/passwd"} {
		wantRPCError(t, "skills/get "+uri, jsonrpc.CodeInvalidParams, getSkillErr(cs, uri))
	}

	root := readDir(t, cs, "skill://pdf-tools")
	if g := dirListing(root); g != "SKILL.md text/markdown pdf-tools|assets inode/directory|references inode/directory|scripts inode/directory" {
		t.Fatalf("directory read of the root = %s", g)
	}
	sub := readDir(t, cs, "skill://pdf-tools/references")
	if g := dirListing(sub); g != "deep inode/directory|guide.md text/markdown guide.md" {
		t.Fatalf("directory read of references = %s", g)
	}
	for _, r := range sub.Resources {
		if r.Name == "deep" {
			if deep := readDir(t, cs, r.URI); dirListing(deep) != "notes.md text/markdown notes.md" {
				t.Fatalf("directory read of %s = %s", r.URI, dirListing(deep))
			}
		}
	}
	for _, uri := range []string{"skill://pdf-tools/SKILL.md", "skill://pdf-tools/nope", "skill://no-such-skill", "skill://pdf-tools/"} {
		_, err := mcp.CallCustomMethod[*mcpserver.ReadDirectoryParams, *mcpserver.ReadDirectoryResult](ctx, cs, mcpserver.MethodReadDirectory,
			&mcpserver.ReadDirectoryParams{URI: uri})
		wantRPCError(t, "directory read "+uri, jsonrpc.CodeInvalidParams, err)
	}
}

// listAllSkills pages through skills/list.
func listAllSkills(t *testing.T, cs *mcp.ClientSession) ([]mcpserver.Skill, int) {
	t.Helper()
	var all []mcpserver.Skill
	seen := map[string]bool{}
	cursor, pages := "", 0
	for {
		res, err := mcp.CallCustomMethod[*mcpserver.ListSkillsParams, *mcpserver.ListSkillsResult](ctxT(t), cs, mcpserver.MethodListSkills,
			&mcpserver.ListSkillsParams{Cursor: cursor})
		if err != nil {
			t.Fatalf("skills/list (cursor %q): %v", cursor, err)
		}
		if res.ResultType != "complete" || res.CacheScope != "private" {
			t.Fatalf("skills/list result type %q cache scope %q, want complete and private", res.ResultType, res.CacheScope)
		}
		pages++
		for _, e := range res.Skills {
			if seen[e.URI] {
				t.Fatalf("skills/list repeats %s across pages", e.URI)
			}
			seen[e.URI] = true
			all = append(all, e)
		}
		if res.NextCursor == "" || pages > 100 {
			return all, pages
		}
		cursor = res.NextCursor
	}
}

func getSkillErr(cs *mcp.ClientSession, uri string) error {
	_, err := mcp.CallCustomMethod[*mcpserver.GetSkillParams, *mcpserver.GetSkillResult](context.Background(), cs, mcpserver.MethodGetSkill,
		&mcpserver.GetSkillParams{URI: uri})
	return err
}

func readDir(t *testing.T, cs *mcp.ClientSession, uri string) *mcpserver.ReadDirectoryResult {
	t.Helper()
	res, err := mcp.CallCustomMethod[*mcpserver.ReadDirectoryParams, *mcpserver.ReadDirectoryResult](ctxT(t), cs, mcpserver.MethodReadDirectory,
		&mcpserver.ReadDirectoryParams{URI: uri})
	if err != nil {
		t.Fatalf("resources/directory/read %s: %v", uri, err)
	}
	if res.ResultType != "complete" || res.CacheScope != "private" {
		t.Fatalf("directory read %s: result type %q cache scope %q", uri, res.ResultType, res.CacheScope)
	}
	return res
}

// dirListing writes a directory's children as "name type uri-name|...".
func dirListing(res *mcpserver.ReadDirectoryResult) string {
	var out []string
	for _, r := range res.Resources {
		base := r.URI[strings.LastIndex(r.URI, "/")+1:]
		out = append(out, strings.TrimSpace(base+" "+r.MIMEType+" "+map[bool]string{true: r.Name, false: ""}[r.MIMEType != "inode/directory"]))
	}
	return strings.Join(out, "|")
}

// readResourceBytes reads a resource's raw bytes (text or blob).
func readResourceBytes(t *testing.T, cs *mcp.ClientSession, uri string) []byte {
	t.Helper()
	rr, err := cs.ReadResource(ctxT(t), &mcp.ReadResourceParams{URI: uri})
	if err != nil || len(rr.Contents) != 1 || rr.Contents[0].URI != uri {
		t.Fatalf("resources/read %s = %+v (%v)", uri, rr, err)
	}
	if c := rr.Contents[0]; c.Blob != nil {
		return c.Blob
	}
	return []byte(rr.Contents[0].Text)
}

// yamlFrontmatter parses a SKILL.md's frontmatter the way a host does, on
// its own.
func yamlFrontmatter(t *testing.T, md []byte) map[string]any {
	t.Helper()
	rest, ok := bytes.CutPrefix(md, []byte("---\n"))
	yml, _, found := bytes.Cut(rest, []byte("\n---\n"))
	var out map[string]any
	if !ok || !found || yaml.Unmarshal(yml, &out) != nil {
		t.Fatalf("test SKILL.md has no frontmatter: %q", md)
	}
	return out
}

// canonical is v as JSON with sorted keys, so that equal content compares
// equal whatever the Go types (int or float64) on each side.
func canonical(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var generic any
	json.Unmarshal(data, &generic)
	data, _ = json.Marshal(generic)
	return string(data)
}

func mapKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// wantRPCError checks that err is a JSON-RPC error with code.
func wantRPCError(t *testing.T, what string, code int64, err error) *jsonrpc.Error {
	t.Helper()
	var je *jsonrpc.Error
	if !errors.As(err, &je) || je.Code != code {
		t.Fatalf("%s: error %v, want JSON-RPC code %d", what, err, code)
	}
	return je
}

// TestSkillsIsolation: through the extension, another tenant's key lists
// none of a tenant's skills, a member does not see another member's
// private skill, and asking for an invisible skill or directory answers
// exactly as for one that does not exist.
func TestSkillsIsolation(t *testing.T) {
	s := start(t)
	acme, globex := s.Tenant("acme"), s.Tenant("globex")
	publish(t, s, acme.Member.Key, richFiles(), "tenant")
	publish(t, s, acme.Admin.Key, skillFiles("acme-shared", "A shared skill of acme's admin."), "tenant")
	publish(t, s, acme.Admin.Key, skillFiles("admin-private", "The admin's private skill."), "private")
	publish(t, s, acme.Member.Key, skillFiles("member-private", "A member's private skill."), "private")
	publish(t, s, globex.Member.Key, skillFiles("globex-forms", "Fill globex forms."), "tenant")
	other := s.User(acme.ID, "other@acme.example", "member", "read", "write")

	for _, c := range []struct {
		name    string
		connect func(t *testing.T, key string) *mcp.ClientSession
	}{
		{"http 2026-07-28", func(t *testing.T, key string) *mcp.ClientSession { return connect(t, s, key) }},
		{"http 2025-06-18", func(t *testing.T, key string) *mcp.ClientSession { return connectAt(t, s, key, "2025-06-18") }},
		{"stdio", func(t *testing.T, key string) *mcp.ClientSession { return stdio(t, s.URL, key) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			sameAsMissing := func(cs *mcp.ClientSession, who, name string) {
				t.Helper()
				for _, uri := range []string{"skill://%s/SKILL.md"} {
					got := wantRPCError(t, who+" skills/get "+name, jsonrpc.CodeInvalidParams, getSkillErr(cs, fmt.Sprintf(uri, name)))
					miss := wantRPCError(t, who+" skills/get missing", jsonrpc.CodeInvalidParams, getSkillErr(cs, fmt.Sprintf(uri, "zz-nothing")))
					if strings.ReplaceAll(got.Message, name, "X") != strings.ReplaceAll(miss.Message, "zz-nothing", "X") {
						t.Fatalf("%s: skills/get of %s says %q, of a missing skill %q: existence leaks", who, name, got.Message, miss.Message)
					}
				}
				for _, dir := range []string{"skill://%s", "skill://%s/scripts"} {
					_, err := mcp.CallCustomMethod[*mcpserver.ReadDirectoryParams, *mcpserver.ReadDirectoryResult](ctxT(t), cs, mcpserver.MethodReadDirectory,
						&mcpserver.ReadDirectoryParams{URI: fmt.Sprintf(dir, name)})
					_, errMiss := mcp.CallCustomMethod[*mcpserver.ReadDirectoryParams, *mcpserver.ReadDirectoryResult](ctxT(t), cs, mcpserver.MethodReadDirectory,
						&mcpserver.ReadDirectoryParams{URI: fmt.Sprintf(dir, "zz-nothing")})
					got := wantRPCError(t, who+" directory read "+name, jsonrpc.CodeInvalidParams, err)
					miss := wantRPCError(t, who+" directory read missing", jsonrpc.CodeInvalidParams, errMiss)
					if strings.ReplaceAll(got.Message, name, "X") != strings.ReplaceAll(miss.Message, "zz-nothing", "X") {
						t.Fatalf("%s: directory read of %s says %q, of a missing one %q", who, name, got.Message, miss.Message)
					}
				}
			}
			listed := func(cs *mcp.ClientSession) []string {
				entries, _ := listAllSkills(t, cs)
				var out []string
				for _, e := range entries {
					out = append(out, e.Frontmatter["name"].(string))
				}
				slices.Sort(out)
				return out
			}

			b := c.connect(t, globex.Member.Key)
			if got := listed(b); !slices.Equal(got, []string{"globex-forms"}) {
				t.Fatalf("tenant B lists %v, want only its own skill", got)
			}
			for _, name := range []string{"pdf-tools", "acme-shared", "admin-private", "member-private"} {
				sameAsMissing(b, "tenant B", name)
			}

			m := c.connect(t, other.Key)
			if got := listed(m); !slices.Equal(got, []string{"acme-shared", "pdf-tools"}) {
				t.Fatalf("a member lists %v, want the tenant's shared skills without other users' private ones", got)
			}
			sameAsMissing(m, "another member", "member-private")
			sameAsMissing(m, "another member", "admin-private")

			a := c.connect(t, acme.Admin.Key)
			if got := listed(a); !slices.Equal(got, []string{"acme-shared", "admin-private", "member-private", "pdf-tools"}) {
				t.Fatalf("the admin lists %v", got)
			}
		})
	}
}
