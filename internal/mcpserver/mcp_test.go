package mcpserver_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/skillvault/skillvault/internal/api"
	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/mcpserver"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/testserver"
)

var allTools = []string{"get_skill", "list_skills", "publish_skill", "rate_skill", "read_skill_file", "record_usage", "search_skills"}

// TestTools calls every tool over real HTTP with a tenant member's key.
func TestTools(t *testing.T) {
	s := start(t)
	acme := s.Tenant("acme")
	files := skillFiles("pdf-tools", "Extract text and tables from PDF files.")
	pub := publish(t, s, acme.Member.Key, files, "tenant")
	publish(t, s, acme.Admin.Key, skillFiles("slide-maker", "Build slide decks from outlines."), "tenant")
	// The admin's private skill: invisible to the member in every answer
	// below (lists, search, resources), and not found when named.
	publish(t, s, acme.Admin.Key, skillFiles("admin-pdf-notes", "Private PDF notes of the admin."), "private")
	s.Svc.EmbedDue(context.Background()) // semantic search sees the skills too
	cs := connect(t, s, acme.Member.Key)
	ctx := ctxT(t)
	wantContains(t, "private skill", callErr(t, cs, "get_skill", map[string]any{"name": "admin-pdf-notes"}), "not found")

	t.Run("list tools", func(t *testing.T) {
		res, err := cs.ListTools(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, tool := range res.Tools {
			got = append(got, tool.Name)
			if len(tool.Description) < 60 || tool.InputSchema == nil || tool.OutputSchema == nil {
				t.Errorf("tool %s lacks a real description or schemas: %+v", tool.Name, tool)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, allTools) {
			t.Fatalf("tools %v, want %v", got, allTools)
		}
	})

	t.Run("search_skills", func(t *testing.T) {
		out := call[mcpserver.SearchOutput](t, cs, "search_skills", map[string]any{"query": "PDF tables"})
		if len(out.Skills) == 0 {
			t.Fatalf("search found nothing, want pdf-tools first")
		}
		if slices.Contains(names(out.Skills), "admin-pdf-notes") {
			t.Fatalf("search shows another user's private skill: %v", names(out.Skills))
		}
		got := out.Skills[0]
		if got.Name != "pdf-tools" || got.Version != 1 || got.Digest != pub.Version.Digest || got.Digest != bundle.Digest(files) ||
			got.Description != "Extract text and tables from PDF files." || got.Status != "published" {
			t.Fatalf("search result %+v, want pdf-tools v1 with digest %s", got, pub.Version.Digest)
		}
		all := call[mcpserver.SearchOutput](t, cs, "search_skills", map[string]any{"query": ""})
		if !slices.Equal(names(all.Skills), []string{"pdf-tools", "slide-maker"}) {
			t.Fatalf("empty query found %v", names(all.Skills))
		}
		for _, sk := range all.Skills {
			if sk.Digest == "" || sk.Version != 1 {
				t.Fatalf("empty-query result without digest or version: %+v", sk)
			}
		}
		tagged := call[mcpserver.SearchOutput](t, cs, "search_skills", map[string]any{"query": "slides", "tags": []string{"docs"}, "category": "documents"})
		if len(tagged.Skills) == 0 || tagged.Skills[0].Name != "slide-maker" {
			t.Fatalf("search with tag and category = %v, want slide-maker first", names(tagged.Skills))
		}
		one := call[mcpserver.SearchOutput](t, cs, "search_skills", map[string]any{"query": "", "limit": 1})
		if len(one.Skills) != 1 {
			t.Fatalf("limit 1 gave %d results", len(one.Skills))
		}
		none := call[mcpserver.SearchOutput](t, cs, "search_skills", map[string]any{"query": "pdf", "tags": []string{"nope"}})
		if len(none.Skills) != 0 {
			t.Fatalf("tag filter let through %v", names(none.Skills))
		}
		wantContains(t, "bad limit", callErr(t, cs, "search_skills", map[string]any{"query": "x", "limit": 500}), "limit")
	})

	t.Run("get_skill", func(t *testing.T) {
		out := call[mcpserver.SkillOutput](t, cs, "get_skill", map[string]any{"name": "pdf-tools"})
		if out.SkillMD != string(files[0].Data) || out.Version != 1 || out.Digest != pub.Version.Digest || out.Published != 1 {
			t.Fatalf("get_skill = %+v", out)
		}
		if len(out.Files) != len(files) {
			t.Fatalf("manifest %+v, want %d files", out.Files, len(files))
		}
		for _, f := range files {
			i := slices.IndexFunc(out.Files, func(fi mcpserver.FileInfo) bool { return fi.Path == f.Path })
			if i < 0 || out.Files[i].Digest != bundle.FileDigest(f.Data) || out.Files[i].Size != int64(len(f.Data)) ||
				out.Files[i].URI != "skill://pdf-tools/"+f.Path {
				t.Fatalf("manifest %+v does not list %s correctly", out.Files, f.Path)
			}
		}
		wantContains(t, "missing skill", callErr(t, cs, "get_skill", map[string]any{"name": "no-such-skill"}), "not found", "no-such-skill")
		wantContains(t, "missing version", callErr(t, cs, "get_skill", map[string]any{"name": "pdf-tools", "version": 9}), "not found")
		wantContains(t, "bad name", callErr(t, cs, "get_skill", map[string]any{"name": "../etc"}), "not found")
	})

	t.Run("read_skill_file", func(t *testing.T) {
		out := call[mcpserver.FileOutput](t, cs, "read_skill_file", map[string]any{"name": "pdf-tools", "path": "scripts/extract.py"})
		if out.Encoding != "text" || out.Content != string(files[1].Data) || out.Digest != bundle.FileDigest(files[1].Data) || out.Version != 1 {
			t.Fatalf("read text file = %+v", out)
		}
		bin := call[mcpserver.FileOutput](t, cs, "read_skill_file", map[string]any{"name": "pdf-tools", "path": "assets/logo.png", "version": 1})
		data, err := base64.StdEncoding.DecodeString(bin.Content)
		if bin.Encoding != "base64" || err != nil || !bytes.Equal(data, files[2].Data) || bin.MIMEType != "image/png" {
			t.Fatalf("read binary file = %+v (%v)", bin, err)
		}
		wantContains(t, "missing file", callErr(t, cs, "read_skill_file", map[string]any{"name": "pdf-tools", "path": "nope.txt"}), "not found", "nope.txt")
		wantContains(t, "bad path", callErr(t, cs, "read_skill_file", map[string]any{"name": "pdf-tools", "path": "../../etc/passwd"}), "invalid")
	})

	t.Run("list_skills", func(t *testing.T) {
		out := call[mcpserver.ListOutput](t, cs, "list_skills", map[string]any{})
		if !slices.Equal(names(out.Skills), []string{"pdf-tools", "slide-maker"}) || out.NextCursor != "" {
			t.Fatalf("list = %+v", out)
		}
		cat := call[mcpserver.ListOutput](t, cs, "list_skills", map[string]any{"category": "other"})
		if len(cat.Skills) != 0 {
			t.Fatalf("category filter let through %v", names(cat.Skills))
		}
		wantContains(t, "bad cursor", callErr(t, cs, "list_skills", map[string]any{"cursor": "!!"}), "invalid", "cursor")
	})

	t.Run("rate_skill", func(t *testing.T) {
		out := call[mcpserver.RateOutput](t, cs, "rate_skill", map[string]any{"name": "pdf-tools", "stars": 4, "comment": "handy"})
		if out.Stars != 4 || out.Rating != 4 || out.RatingCount != 1 {
			t.Fatalf("rate = %+v", out)
		}
		wantContains(t, "bad stars", callErr(t, cs, "rate_skill", map[string]any{"name": "pdf-tools", "stars": 9}), "invalid", "stars")
		wantContains(t, "missing skill", callErr(t, cs, "rate_skill", map[string]any{"name": "nope", "stars": 3}), "not found")
	})

	t.Run("record_usage", func(t *testing.T) {
		out := call[mcpserver.UsageOutput](t, cs, "record_usage", map[string]any{"name": "pdf-tools", "event": "invoke", "version": 1})
		if !out.Recorded {
			t.Fatalf("record = %+v", out)
		}
		sk, err := s.Svc.Skill(context.Background(), actor(t, s, acme.Member.Key), "pdf-tools")
		if err != nil || sk.Invocations != 1 {
			t.Fatalf("after record_usage the skill has %d invocations (%v), want 1", sk.Invocations, err)
		}
		wantContains(t, "bad event", callErr(t, cs, "record_usage", map[string]any{"name": "pdf-tools", "event": "explode"}), "invalid", "event")
		wantContains(t, "missing skill", callErr(t, cs, "record_usage", map[string]any{"name": "nope", "event": "view"}), "not found")
	})

	t.Run("publish_skill", func(t *testing.T) {
		md := "---\nname: hello-world\ndescription: Greets the world politely.\n---\n# Hello\n"
		args := map[string]any{"publish": true, "files": []map[string]any{
			{"path": "SKILL.md", "content": md},
			{"path": "assets/bin.dat", "content": base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 255}), "encoding": "base64"},
		}}
		out := call[mcpserver.PublishOutput](t, cs, "publish_skill", args)
		want := bundle.Digest([]bundle.File{{Path: "SKILL.md", Data: []byte(md)}, {Path: "assets/bin.dat", Data: []byte{0, 1, 2, 255}}})
		if out.Name != "hello-world" || out.Version != 1 || !out.Created || out.Status != "published" || out.Digest != want || len(out.Files) != 2 {
			t.Fatalf("publish = %+v (digest want %s)", out, want)
		}
		again := call[mcpserver.PublishOutput](t, cs, "publish_skill", args)
		if !again.Unchanged || again.Created || again.Version != 1 {
			t.Fatalf("republishing the same bundle = %+v, want unchanged", again)
		}
		// A new version, sent as a folder, kept as a draft.
		v2 := call[mcpserver.PublishOutput](t, cs, "publish_skill", map[string]any{"files": []map[string]any{
			{"path": "hello-world/SKILL.md", "content": md + "\nMore.\n"},
		}})
		if v2.Version != 2 || !v2.Created {
			t.Fatalf("second version = %+v", v2)
		}
		got := call[mcpserver.SkillOutput](t, cs, "get_skill", map[string]any{"name": "hello-world"})
		if got.Version != 1 || got.LatestVersion != 2 {
			t.Fatalf("get_skill after a draft version = version %d latest %d, want the published 1 and latest 2", got.Version, got.LatestVersion)
		}
		bad := callErr(t, cs, "publish_skill", map[string]any{"files": []map[string]any{
			{"path": "SKILL.md", "content": "---\nname: Bad_Name\n---\nbody\n"},
			{"path": "x.bin", "content": "%%%", "encoding": "base64"},
		}})
		wantContains(t, "invalid bundle", bad, "invalid", "x.bin", "base64")
		bad = callErr(t, cs, "publish_skill", map[string]any{"files": []map[string]any{
			{"path": "SKILL.md", "content": "---\nname: Bad_Name\n---\nbody\n"},
		}})
		wantContains(t, "invalid SKILL.md", bad, "invalid", "SKILL.md:", "name")
		wantContains(t, "no files", callErr(t, cs, "publish_skill", map[string]any{"files": []map[string]any{}}), "invalid")
		// Another user's skill: visible, but not theirs to change.
		other := callErr(t, cs, "publish_skill", map[string]any{"files": []map[string]any{
			{"path": "SKILL.md", "content": "---\nname: slide-maker\ndescription: Taken over.\n---\n# x\n"},
		}})
		wantContains(t, "someone else's skill", other, "forbidden")
	})

	t.Run("resources", func(t *testing.T) {
		res, err := cs.ListResources(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var uris []string
		for _, r := range res.Resources {
			uris = append(uris, r.URI)
		}
		slices.Sort(uris)
		if !slices.Equal(uris, []string{"skill://hello-world/SKILL.md", "skill://pdf-tools/SKILL.md", "skill://slide-maker/SKILL.md"}) {
			t.Fatalf("resources %v", uris)
		}
		tpls, err := cs.ListResourceTemplates(ctx, nil)
		if err != nil || len(tpls.ResourceTemplates) != 1 || tpls.ResourceTemplates[0].URITemplate != "skill://{name}/{+path}" {
			t.Fatalf("templates %+v (%v)", tpls, err)
		}
		rr, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "skill://pdf-tools/SKILL.md"})
		if err != nil || len(rr.Contents) != 1 || rr.Contents[0].Text != string(files[0].Data) || rr.Contents[0].MIMEType != "text/markdown" {
			t.Fatalf("read SKILL.md resource = %+v (%v)", rr, err)
		}
		rr, err = cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "skill://pdf-tools/scripts/extract.py"})
		if err != nil || rr.Contents[0].Text != string(files[1].Data) {
			t.Fatalf("read nested resource = %+v (%v)", rr, err)
		}
		rr, err = cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "skill://pdf-tools/assets/logo.png"})
		if err != nil || !bytes.Equal(rr.Contents[0].Blob, files[2].Data) || rr.Contents[0].Text != "" {
			t.Fatalf("read binary resource = %+v (%v)", rr, err)
		}
		if _, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "skill://pdf-tools/missing.md"}); err == nil {
			t.Fatal("reading a missing file resource succeeded")
		}
	})
}

// TestTenantIsolation: a key of tenant B can neither find, read nor change
// tenant A's skills through any tool or resource, and cannot tell them
// from skills that do not exist.
func TestTenantIsolation(t *testing.T) {
	s := start(t)
	acme, globex := s.Tenant("acme"), s.Tenant("globex")
	publish(t, s, acme.Member.Key, skillFiles("pdf-tools", "Extract text and tables from PDF files."), "tenant")
	// Even a public skill of A stays in A: B's key works in B's scope only.
	publish(t, s, acme.Admin.Key, skillFiles("public-pdf", "Public PDF helper for everyone."), "tenant")
	publish(t, s, globex.Member.Key, skillFiles("globex-forms", "Fill globex forms."), "tenant")
	s.Svc.EmbedDue(context.Background()) // semantic search ranks every vector it may see
	b := connect(t, s, globex.Member.Key)
	ctx := ctxT(t)

	for _, q := range []string{"pdf", "Extract text and tables from PDF files", "pdf-tools", "public", ""} {
		got := names(call[mcpserver.SearchOutput](t, b, "search_skills", map[string]any{"query": q}).Skills)
		if slices.ContainsFunc(got, func(n string) bool { return n != "globex-forms" }) {
			t.Fatalf("tenant B's search for %q finds %v, want only B's own skills", q, got)
		}
	}
	if got := names(call[mcpserver.ListOutput](t, b, "list_skills", map[string]any{}).Skills); !slices.Equal(got, []string{"globex-forms"}) {
		t.Fatalf("tenant B's list = %v, want only its own", got)
	}
	for _, name := range []string{"pdf-tools", "public-pdf"} {
		// Every answer about A's skill must equal the answer about a name
		// that exists nowhere.
		same := func(tool string, args func(n string) map[string]any) {
			t.Helper()
			got := callErr(t, b, tool, args(name))
			want := callErr(t, b, tool, args("zz-nothing"))
			if strings.ReplaceAll(got, name, "X") != strings.ReplaceAll(want, "zz-nothing", "X") {
				t.Fatalf("%s on A's %s says %q, on a missing skill %q: existence leaks", tool, name, got, want)
			}
			wantContains(t, tool, got, "not found")
		}
		same("get_skill", func(n string) map[string]any { return map[string]any{"name": n} })
		same("read_skill_file", func(n string) map[string]any { return map[string]any{"name": n, "path": "SKILL.md"} })
		same("rate_skill", func(n string) map[string]any { return map[string]any{"name": n, "stars": 1} })
		same("record_usage", func(n string) map[string]any { return map[string]any{"name": n, "event": "invoke"} })
		if _, err := b.ReadResource(ctx, &mcp.ReadResourceParams{URI: "skill://" + name + "/SKILL.md"}); err == nil {
			t.Fatalf("tenant B read A's resource %s", name)
		}
	}
	res, err := b.ListResources(ctx, nil)
	if err != nil || len(res.Resources) != 1 || res.Resources[0].URI != "skill://globex-forms/SKILL.md" {
		t.Fatalf("tenant B's resources = %+v (%v)", res, err)
	}
	// Publishing a bundle named like A's skill makes B's own skill and
	// leaves A's untouched.
	out := call[mcpserver.PublishOutput](t, b, "publish_skill", map[string]any{"files": []map[string]any{
		{"path": "SKILL.md", "content": "---\nname: pdf-tools\ndescription: Globex's own PDF tools.\n---\n# mine\n"}}})
	if !out.Created || out.Version != 1 {
		t.Fatalf("B publishing pdf-tools = %+v, want a new skill of B's", out)
	}
	a := connect(t, s, acme.Member.Key)
	got := call[mcpserver.SkillOutput](t, a, "get_skill", map[string]any{"name": "pdf-tools"})
	if got.Description != "Extract text and tables from PDF files." || got.LatestVersion != 1 || got.RatingCount != 0 || got.Uses != 0 {
		t.Fatalf("A's pdf-tools changed through B: %+v", got)
	}
}

// TestReadOnlyKey: a read-scoped key reads but cannot rate, record or
// publish.
func TestReadOnlyKey(t *testing.T) {
	s := start(t)
	acme := s.Tenant("acme")
	publish(t, s, acme.Member.Key, skillFiles("pdf-tools", "Extract text and tables from PDF files."), "tenant")
	cs := connect(t, s, acme.ReadOnlyKey)
	if got := call[mcpserver.SkillOutput](t, cs, "get_skill", map[string]any{"name": "pdf-tools"}); got.Name != "pdf-tools" {
		t.Fatalf("read-only get_skill = %+v", got)
	}
	for tool, args := range map[string]map[string]any{
		"rate_skill":    {"name": "pdf-tools", "stars": 5},
		"record_usage":  {"name": "pdf-tools", "event": "invoke"},
		"publish_skill": {"files": []map[string]any{{"path": "SKILL.md", "content": "---\nname: ro-skill\ndescription: Should not exist.\n---\n# x\n"}}},
	} {
		wantContains(t, tool, callErr(t, cs, tool, args), "forbidden", "write")
	}
	sk, err := s.Svc.Skill(context.Background(), actor(t, s, acme.Member.Key), "pdf-tools")
	if err != nil || sk.RatingCount != 0 || sk.Uses() != 0 {
		t.Fatalf("a read-only key changed the skill: %+v (%v)", sk, err)
	}
	if _, err := s.Svc.Skill(context.Background(), actor(t, s, acme.Member.Key), "ro-skill"); err == nil {
		t.Fatal("a read-only key published a skill")
	}
}

// rawPost sends one JSON-RPC message to /mcp.
func rawPost(t *testing.T, s *testserver.Server, key, session, body string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", s.URL+"/mcp", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if session != "" {
		req.Header.Set("Mcp-Session-Id", session)
		req.Header.Set("Mcp-Protocol-Version", "2025-06-18")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

const initBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`

// TestAuthentication: no key or a bad key gets 401 with the resource
// metadata; the metadata is served; a session cannot be used with another
// key; the rate limit applies.
func TestAuthentication(t *testing.T) {
	var limited atomic.Bool
	s := testserver.Start(t, testserver.Options{Mount: func(s *testserver.Server) {
		opt := mcpserver.HTTPOptions{
			Authenticate: func(r *http.Request) (service.Actor, error) { return s.Srv.API.Authenticate(r, "mcp") },
			Allow:        s.Srv.API.Allow,
		}
		mcpserver.Mount(s.Srv.Mux, s.Svc, opt)
		opt.Allow = func(w http.ResponseWriter, r *http.Request, _ service.Actor) bool {
			limited.Store(true)
			api.WriteRateLimited(w, r, "key", 3*time.Second, "over the test's limit")
			return false
		}
		s.Srv.Mux.Handle("/mcp-limited", mcpserver.Handler(s.Svc, opt))
	}})
	acme, globex := s.Tenant("acme"), s.Tenant("globex")
	host := strings.TrimPrefix(s.URL, "http://")
	meta := `resource_metadata="http://` + host + `/.well-known/oauth-protected-resource/mcp"`

	for name, key := range map[string]string{"no key": "", "bad key": "sv_notakey", "revoked-looking key": acme.Member.Key + "x"} {
		resp := rawPost(t, s, key, "", initBody)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%s: status %d, want 401", name, resp.StatusCode)
		}
		wantContains(t, name+" WWW-Authenticate", resp.Header.Get("WWW-Authenticate"), "Bearer", meta)
		if key != "" {
			wantContains(t, name+" WWW-Authenticate", resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
			t.Fatalf("%s: content type %q", name, ct)
		}
	}
	// The SDK client without a key cannot connect at all.
	tr := &mcp.StreamableClientTransport{Endpoint: s.URL + "/mcp", DisableStandaloneSSE: true}
	if cs, err := mcp.NewClient(&mcp.Implementation{Name: "anon", Version: "1"}, nil).Connect(ctxT(t), tr, nil); err == nil {
		cs.Close()
		t.Fatal("an unauthenticated MCP client connected")
	}

	r := s.Do("GET", "/.well-known/oauth-protected-resource/mcp", "", nil)
	var md struct {
		Resource string   `json:"resource"`
		Scopes   []string `json:"scopes_supported"`
		Methods  []string `json:"bearer_methods_supported"`
	}
	r.JSON(t, &md)
	if r.Status != 200 || md.Resource != s.URL+"/mcp" || !slices.Contains(md.Scopes, "write") || !slices.Equal(md.Methods, []string{"header"}) {
		t.Fatalf("metadata %d %s", r.Status, r.Body)
	}

	// A session (protocols before 2026-07-28) opened with one key refuses
	// every other key, of another tenant or of the same one.
	cs := connectAt(t, s, acme.Member.Key, "2025-06-18")
	list := `{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}`
	for name, key := range map[string]string{"other tenant": globex.Member.Key, "same tenant, other key": acme.Admin.Key} {
		if resp := rawPost(t, s, key, cs.ID(), list); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("%s using acme's session: status %d, want 403", name, resp.StatusCode)
		}
	}
	if resp := rawPost(t, s, "", cs.ID(), list); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no key on an open session: status %d, want 401", resp.StatusCode)
	}
	if resp := rawPost(t, s, acme.Member.Key, cs.ID(), list); resp.StatusCode != http.StatusOK {
		t.Fatalf("the session's own key: status %d, want 200", resp.StatusCode)
	}
	if _, err := cs.ListTools(ctxT(t), nil); err != nil {
		t.Fatalf("the session broke after refused requests: %v", err)
	}

	// Rate limit.
	req, _ := http.NewRequest("POST", s.URL+"/mcp-limited", strings.NewReader(initBody))
	req.Header.Set("Authorization", "Bearer "+acme.Member.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "4" || !limited.Load() {
		t.Fatalf("over the rate limit: status %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

// TestTenantHost: at a tenant's host (behind a proxy that keeps the Host
// header) the MCP endpoint answers that tenant's keys and refuses others.
func TestTenantHost(t *testing.T) {
	s := testserver.Start(t, testserver.Options{BaseDomain: "skills.test", Mount: func(s *testserver.Server) {
		mcpserver.Mount(s.Srv.Mux, s.Svc, mcpserver.HTTPOptions{
			Authenticate: func(r *http.Request) (service.Actor, error) { return s.Srv.API.Authenticate(r, "mcp") },
		})
	}})
	acme, globex := s.Tenant("acme"), s.Tenant("globex")
	post := func(host, key string) int {
		req, _ := http.NewRequest("POST", s.URL+"/mcp", strings.NewReader(initBody))
		req.Host = host
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := post("acme.skills.test", acme.Member.Key); got != http.StatusOK {
		t.Fatalf("acme's key at acme's host: %d, want 200", got)
	}
	if got := post("acme.skills.test", globex.Member.Key); got != http.StatusUnauthorized {
		t.Fatalf("globex's key at acme's host: %d, want 401", got)
	}
}
