package discovery_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/api"
	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/discovery"
	"github.com/skillvault/skillvault/internal/fileserve"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/store"
	"github.com/skillvault/skillvault/internal/testcorpus"
	"github.com/skillvault/skillvault/internal/testserver"
)

const (
	agentSkills = "/.well-known/agent-skills/"
	oldSkills   = "/.well-known/skills/"
	indexPath   = agentSkills + "index.json"
	acmeHost    = "acme.skills.test"
	globexHost  = "skills.globex.example" // globex's vanity domain
)

// The index as the RFC (v0.2.0) names its fields; decoding is strict, so a
// misspelt or extra field fails the test.
type rfcIndex struct {
	Schema string     `json:"$schema"`
	Skills []rfcSkill `json:"skills"`
}

type rfcSkill struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Description string `json:"description"`
	URL         string `json:"url"`
	Digest      string `json:"digest"`
}

func (x rfcIndex) names() []string {
	out := []string{}
	for _, s := range x.Skills {
		out = append(out, s.Name)
	}
	return out
}

func (x rfcIndex) skill(name string) (rfcSkill, bool) {
	for _, s := range x.Skills {
		if s.Name == name {
			return s, true
		}
	}
	return rfcSkill{}, false
}

// fixture is one server with four tenants:
//   - acme (public discovery on) with skills of every visibility and status;
//   - globex (public discovery on), reached by its vanity domain too;
//   - initech, whose public skill is hidden since public discovery is off;
//   - default, served on the bare host.
type fixture struct {
	s                      *testserver.Server
	acme, globex, initech  *testserver.Tenant
	def                    *testserver.Tenant
	bareWithoutDefault     rfcIndex
	bareWithoutDefaultCode int
}

// newServer starts a server with discovery wired as serve does it.
func newServer(t *testing.T) *testserver.Server {
	t.Helper()
	return testserver.Start(t, testserver.Options{BaseDomain: "skills.test", Mount: func(s *testserver.Server) {
		discovery.Register(s.Srv.Mux, s.Svc, discovery.Options{
			Auth:       func(r *http.Request) (service.Actor, error) { return s.Srv.API.Authenticate(r, "api") },
			HostTenant: s.Srv.HostTenant,
			Allow:      s.Srv.API.Allow,
		})
	}})
}

func start(t *testing.T) *fixture {
	t.Helper()
	s := newServer(t)
	f := &fixture{s: s}
	// Before any default tenant exists, the bare host shows nothing.
	r := do(t, s, "GET", "", indexPath, "")
	f.bareWithoutDefaultCode = r.status
	json.Unmarshal(r.body, &f.bareWithoutDefault)

	f.acme = s.Tenant("acme")
	publicDiscovery(t, s, f.acme.ID, true)
	admin, member := adminOf(f.acme), memberOf(f.acme)
	create(t, s, admin, "acme-public", "public", true,
		"scripts/run.sh", "references/guide.md", "assets/Zebra.txt", "assets/data.json", "LICENSE.txt")
	// LICENSE.txt sorts before SKILL.md, which the index must still list
	// first. A newer, unpublished version must not replace the published one.
	if _, err := s.Svc.AddVersion(context.Background(), admin, "acme-public",
		files("acme-public", "Version two, not published.", "scripts/run.sh"), service.PublishOptions{}); err != nil {
		t.Fatal(err)
	}
	create(t, s, admin, "acme-tenant", "tenant", true)
	create(t, s, admin, "acme-private", "private", true)
	create(t, s, member, "acme-member-private", "private", true)
	create(t, s, admin, "acme-draft", "public", false, "references/notes.md")
	create(t, s, admin, "acme-archived", "public", true)
	archived := "archived"
	if _, err := s.Svc.UpdateSkill(context.Background(), admin, "acme-archived", service.SkillChange{Status: &archived}); err != nil {
		t.Fatal(err)
	}

	f.globex = vanityTenant(t, s, "globex", globexHost)
	publicDiscovery(t, s, f.globex.ID, true)
	create(t, s, adminOf(f.globex), "globex-public", "public", true, "scripts/run.sh")

	f.initech = s.Tenant("initech")
	publicDiscovery(t, s, f.initech.ID, true)
	create(t, s, adminOf(f.initech), "initech-public", "public", true)
	publicDiscovery(t, s, f.initech.ID, false)

	f.def = s.Tenant("default")
	publicDiscovery(t, s, f.def.ID, true)
	create(t, s, adminOf(f.def), "default-hello", "public", true)
	return f
}

func adminOf(tn *testserver.Tenant) service.Actor {
	return service.Actor{TenantID: tn.ID, UserID: tn.Admin.ID, Role: "admin", Scopes: []string{"read", "write", "admin"}, Source: "cli"}
}

func memberOf(tn *testserver.Tenant) service.Actor {
	return service.Actor{TenantID: tn.ID, UserID: tn.Member.ID, Role: "member", Scopes: []string{"read", "write"}, Source: "cli"}
}

// vanityTenant makes a tenant with a vanity domain and an admin.
func vanityTenant(t *testing.T, s *testserver.Server, slug, domain string) *testserver.Tenant {
	t.Helper()
	ctx := context.Background()
	o, err := database.OpenOwner(ctx, s.Env.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	tn, err := o.CreateTenant(ctx, database.NewTenant{Slug: slug, Name: slug, VanityDomain: domain})
	o.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Svc.EnsureTenant(ctx, service.System(tn.ID)); err != nil {
		t.Fatal(err)
	}
	out := &testserver.Tenant{ID: tn.ID, Slug: slug}
	out.Admin = s.User(tn.ID, "admin@"+slug+".example", "admin", "read", "write", "admin")
	out.Member = s.User(tn.ID, "member@"+slug+".example", "member", "read", "write")
	return out
}

func publicDiscovery(t *testing.T, s *testserver.Server, tenant uuid.UUID, on bool) {
	t.Helper()
	if _, err := s.Svc.UpdateSettings(context.Background(), service.System(tenant), service.SettingsPatch{PublicDiscovery: &on}); err != nil {
		t.Fatal(err)
	}
}

func files(name, desc string, extra ...string) []bundle.File {
	out := []bundle.File{{Path: "SKILL.md", Data: []byte("---\nname: " + name + "\ndescription: " + desc + "\n---\n# " + name + "\n\n" + desc + "\n")}}
	for _, p := range extra {
		data := []byte("content of " + p + " in " + name + "\n")
		if strings.HasPrefix(p, "scripts/") {
			data = []byte("#!/bin/sh\necho " + name + "\n")
		}
		if strings.HasSuffix(p, ".json") {
			data = []byte(`{"skill": "` + name + `"}` + "\n")
		}
		out = append(out, bundle.File{Path: p, Data: data})
	}
	return out
}

func create(t *testing.T, s *testserver.Server, a service.Actor, name, visibility string, publish bool, extra ...string) {
	t.Helper()
	_, err := s.Svc.CreateSkill(context.Background(), a, files(name, "The "+name+" skill, version one.", extra...),
		service.PublishOptions{Publish: publish, Visibility: visibility})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request to host ("" for the server's own address, which names
// no tenant) with a key ("" for none) and header pairs.
func do(t *testing.T, s *testserver.Server, method, host, path, key string, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, body}
}

// index fetches and validates an index.
func index(t *testing.T, s *testserver.Server, host, prefix, key string) rfcIndex {
	t.Helper()
	r := do(t, s, "GET", host, prefix+"index.json", key)
	if r.status != http.StatusOK {
		t.Fatalf("index at %s%s: status %d: %s", host, prefix, r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("index content type %q, want application/json", ct)
	}
	if r.header.Get("ETag") == "" || !strings.Contains(r.header.Get("Cache-Control"), "no-cache") {
		t.Errorf("index cache headers: ETag %q, Cache-Control %q", r.header.Get("ETag"), r.header.Get("Cache-Control"))
	}
	var idx rfcIndex
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&idx); err != nil {
		t.Fatalf("index is not the RFC's shape: %v: %s", err, r.body)
	}
	validate(t, idx, r.body)
	return idx
}

var (
	digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	nameRE   = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
)

// validate checks an index against the RFC's rules.
func validate(t *testing.T, idx rfcIndex, raw []byte) {
	t.Helper()
	if idx.Schema != "https://schemas.agentskills.io/discovery/0.2.0/schema.json" {
		t.Errorf("$schema %q", idx.Schema)
	}
	if idx.Skills == nil || !bytes.Contains(raw, []byte(`"skills":[`)) {
		t.Errorf("skills must be an array: %s", raw)
	}
	seen := map[string]bool{}
	for _, sk := range idx.Skills {
		if len(sk.Name) > 64 || !nameRE.MatchString(sk.Name) || seen[sk.Name] {
			t.Errorf("bad or repeated skill name %q", sk.Name)
		}
		seen[sk.Name] = true
		if sk.Description == "" || len(sk.Description) > 1024 {
			t.Errorf("%s: description of %d characters", sk.Name, len(sk.Description))
		}
		if !digestRE.MatchString(sk.Digest) {
			t.Errorf("%s: digest %q", sk.Name, sk.Digest)
		}
		switch sk.Type {
		case "skill-md":
			if !strings.HasSuffix(sk.URL, "/SKILL.md") {
				t.Errorf("%s: skill-md URL %q does not name a SKILL.md", sk.Name, sk.URL)
			}
		case "archive":
			if !strings.HasSuffix(sk.URL, ".tar.gz") && !strings.HasSuffix(sk.URL, ".zip") {
				t.Errorf("%s: archive URL %q is neither .tar.gz nor .zip", sk.Name, sk.URL)
			}
		default:
			t.Errorf("%s: type %q", sk.Name, sk.Type)
		}
		if _, err := url.Parse(sk.URL); err != nil || sk.URL == "" {
			t.Errorf("%s: url %q: %v", sk.Name, sk.URL, err)
		}
	}
}

// resolve resolves an entry's url against the index URL (RFC 3986 §5, as
// the RFC's §URL Resolution says) and checks it stays on the index's
// origin and under its prefix.
func resolve(t *testing.T, s *testserver.Server, host, prefix string, sk rfcSkill) string {
	t.Helper()
	base, err := url.Parse("http://" + hostOr(s, host) + prefix + "index.json")
	if err != nil {
		t.Fatal(err)
	}
	ref, err := url.Parse(sk.URL)
	if err != nil {
		t.Fatalf("%s: url %q: %v", sk.Name, sk.URL, err)
	}
	u := base.ResolveReference(ref)
	if u.Host != base.Host || !strings.HasPrefix(u.Path, prefix+sk.Name) {
		t.Fatalf("%s: url %q resolves to %s, off the index's origin or prefix", sk.Name, sk.URL, u)
	}
	return u.RequestURI()
}

// artifact fetches an entry's artifact, checks it as a client must (its
// digest) and as the RFC's §HTTP asks (type, ETag, HEAD, 304), and returns
// the skill's files it holds.
func artifact(t *testing.T, s *testserver.Server, host, prefix, key string, sk rfcSkill) []bundle.File {
	t.Helper()
	path := resolve(t, s, host, prefix, sk)
	r := do(t, s, "GET", host, path, key)
	if r.status != http.StatusOK {
		t.Fatalf("%s: status %d: %s", path, r.status, r.body)
	}
	if d := bundle.FileDigest(r.body); d != sk.Digest {
		t.Errorf("%s: served bytes have digest %s, index says %s", path, d, sk.Digest)
	}
	if etag := r.header.Get("ETag"); etag != `"`+sk.Digest+`"` {
		t.Errorf("%s: ETag %q, want the strong digest", path, etag)
	}
	wantType := map[string]string{".md": "text/markdown; charset=utf-8", ".gz": "application/gzip", ".zip": "application/zip"}[filepath.Ext(path)]
	if ct := r.header.Get("Content-Type"); ct != wantType {
		t.Errorf("%s: content type %q, want %q", path, ct, wantType)
	}
	if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("Content-Security-Policy") != fileserve.CSP ||
		!strings.Contains(r.header.Get("Cache-Control"), "no-cache") {
		t.Errorf("%s: headers %v", path, r.header)
	}
	if h := do(t, s, "HEAD", host, path, key); h.status != http.StatusOK || len(h.body) != 0 ||
		h.header.Get("ETag") != r.header.Get("ETag") || h.header.Get("Content-Type") != r.header.Get("Content-Type") {
		t.Errorf("HEAD %s: %d with %d bytes, headers %v", path, h.status, len(h.body), h.header)
	}
	if c := do(t, s, "GET", host, path, key, "If-None-Match", `"`+sk.Digest+`"`); c.status != http.StatusNotModified || len(c.body) != 0 {
		t.Errorf("%s: If-None-Match with the digest gave %d, want 304", path, c.status)
	}
	if c := do(t, s, "GET", host, path, key, "If-None-Match", `"sha256:other"`); c.status != http.StatusOK {
		t.Errorf("%s: If-None-Match with another digest gave %d, want 200", path, c.status)
	}
	if sk.Type == "skill-md" {
		return []bundle.File{{Path: "SKILL.md", Data: r.body}}
	}
	files, root, err := bundle.ReadArchive(r.body, bundle.Limits{})
	if err != nil || root != "" {
		t.Fatalf("%s: unpack: root %q, %v", path, root, err)
	}
	if !slices.ContainsFunc(files, func(f bundle.File) bool { return f.Path == "SKILL.md" }) {
		t.Errorf("%s: no SKILL.md at the archive's root", path)
	}
	if len(files) == 1 {
		t.Errorf("%s: an archive of only SKILL.md should be listed as skill-md", path)
	}
	return files
}

// verifyServed fetches every listed artifact, both archive formats, and
// every file of each skill, and checks they agree with the index.
func verifyServed(t *testing.T, s *testserver.Server, host, prefix, key string, idx rfcIndex) map[string][]bundle.File {
	t.Helper()
	out := map[string][]bundle.File{}
	for _, sk := range idx.Skills {
		files := artifact(t, s, host, prefix, key, sk)
		out[sk.Name] = files
		for _, f := range files {
			r := do(t, s, "GET", host, prefix+sk.Name+"/"+fileserve.EscapePath(f.Path), key)
			if r.status != http.StatusOK || !bytes.Equal(r.body, f.Data) {
				t.Errorf("%s/%s: status %d, bytes differ from the artifact's", sk.Name, f.Path, r.status)
			}
			if ct, want := r.header.Get("Content-Type"), fileserve.ContentType(f.Path, f.Data); ct != want {
				t.Errorf("%s/%s: content type %q, want %q", sk.Name, f.Path, ct, want)
			}
		}
		for _, ext := range []string{".tar.gz", ".zip"} {
			r := do(t, s, "GET", host, prefix+sk.Name+ext, key)
			if r.status != http.StatusOK {
				t.Errorf("%s%s: status %d", sk.Name, ext, r.status)
				continue
			}
			got, _, err := bundle.ReadArchive(r.body, bundle.Limits{})
			if err != nil || bundle.Digest(got) != bundle.Digest(files) {
				t.Errorf("%s%s: unpacks to other files than the artifact (%v)", sk.Name, ext, err)
			}
		}
	}
	return out
}

func hostOr(s *testserver.Server, host string) string {
	if host != "" {
		return host
	}
	return strings.TrimPrefix(s.URL, "http://")
}

// wantProblem checks a problem+json answer.
func wantProblem(t *testing.T, r response, status int) {
	t.Helper()
	if r.status != status || r.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("status %d (%s), want %d problem+json: %s", r.status, r.header.Get("Content-Type"), status, r.body)
	}
	var p api.Problem
	if err := json.Unmarshal(r.body, &p); err != nil || p.Status != status || p.Type == "" {
		t.Fatalf("problem %s", r.body)
	}
}

// wantHidden checks that a skill is neither listed nor served to a caller.
func wantHidden(t *testing.T, s *testserver.Server, host, key string, idx rfcIndex, name string) {
	t.Helper()
	if _, ok := idx.skill(name); ok {
		t.Errorf("%s is listed at %q", name, host)
	}
	for _, p := range []string{agentSkills + name + "/SKILL.md", oldSkills + name + "/SKILL.md", agentSkills + name + ".zip", agentSkills + name + ".tar.gz"} {
		r := do(t, s, "GET", host, p, key)
		if r.status != http.StatusNotFound {
			t.Errorf("%s at %q: status %d, want 404: %s", p, host, r.status, r.body)
		}
	}
}

func auditCount(t *testing.T, s *testserver.Server, tenant uuid.UUID, action string) int {
	t.Helper()
	es, err := s.Svc.Audit(context.Background(), service.System(tenant), store.AuditFilter{Action: action, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range es {
		if e.Outcome == "denied" {
			n++
		}
	}
	return n
}

func TestDiscovery(t *testing.T) {
	f := start(t)
	s := f.s
	allNames := []string{"acme-public", "acme-tenant", "acme-private", "acme-member-private", "acme-draft", "acme-archived",
		"globex-public", "initech-public", "default-hello"}

	t.Run("index follows the RFC", func(t *testing.T) {
		for _, prefix := range discovery.Prefixes {
			idx := index(t, s, acmeHost, prefix, "")
			if len(idx.Skills) == 0 {
				t.Fatal("acme's public skill is not listed")
			}
			index(t, s, acmeHost, prefix, f.acme.Admin.Key)
		}
	})

	t.Run("every listed file is served with its digest", func(t *testing.T) {
		for _, prefix := range discovery.Prefixes {
			verifyServed(t, s, acmeHost, prefix, "", index(t, s, acmeHost, prefix, ""))
			verifyServed(t, s, acmeHost, prefix, f.acme.Admin.Key, index(t, s, acmeHost, prefix, f.acme.Admin.Key))
		}
		verifyServed(t, s, globexHost, agentSkills, "", index(t, s, globexHost, agentSkills, ""))
		verifyServed(t, s, "", agentSkills, "", index(t, s, "", agentSkills, ""))
	})

	t.Run("the published version is served, not a newer draft", func(t *testing.T) {
		for _, key := range []string{"", f.acme.Admin.Key} {
			sk, ok := index(t, s, acmeHost, agentSkills, key).skill("acme-public")
			if !ok {
				t.Fatal("acme-public not listed")
			}
			if !strings.Contains(sk.Description, "version one") {
				t.Errorf("description %q is not the published version's", sk.Description)
			}
			r := do(t, s, "GET", acmeHost, agentSkills+"acme-public/SKILL.md", key)
			if r.status != http.StatusOK || bytes.Contains(r.body, []byte("Version two")) {
				t.Errorf("SKILL.md: %d %s", r.status, r.body)
			}
			if files := artifact(t, s, acmeHost, agentSkills, key, sk); len(files) != 6 {
				t.Errorf("the archive holds %d files, want version one's six", len(files))
			}
		}
	})

	t.Run("anonymous callers see only public published skills", func(t *testing.T) {
		idx := index(t, s, acmeHost, agentSkills, "")
		if got := idx.names(); !slices.Equal(got, []string{"acme-public"}) {
			t.Errorf("anonymous index lists %v, want only acme-public", got)
		}
		for _, name := range []string{"acme-tenant", "acme-private", "acme-member-private", "acme-draft", "acme-archived"} {
			wantHidden(t, s, acmeHost, "", idx, name)
		}
	})

	t.Run("keys see what they may read", func(t *testing.T) {
		admin := index(t, s, acmeHost, agentSkills, f.acme.Admin.Key)
		if got, want := admin.names(), []string{"acme-member-private", "acme-private", "acme-public", "acme-tenant"}; !slices.Equal(got, want) {
			t.Errorf("admin sees %v, want %v", got, want)
		}
		// Drafts are not for agents, not even the admin's.
		wantHidden(t, s, acmeHost, f.acme.Admin.Key, admin, "acme-draft")
		wantHidden(t, s, acmeHost, f.acme.Admin.Key, admin, "acme-archived")
		for _, key := range []string{f.acme.Member.Key, f.acme.ReadOnlyKey} {
			idx := index(t, s, acmeHost, agentSkills, key)
			if got, want := idx.names(), []string{"acme-member-private", "acme-public", "acme-tenant"}; !slices.Equal(got, want) {
				t.Errorf("member sees %v, want %v", got, want)
			}
			for _, name := range []string{"acme-private", "acme-draft", "acme-archived"} {
				wantHidden(t, s, acmeHost, key, idx, name)
			}
		}
	})

	t.Run("hosts of one tenant never show another", func(t *testing.T) {
		for _, host := range []string{acmeHost, globexHost, "globex.skills.test", "initech.skills.test", "", "skills.test"} {
			for _, key := range []string{"", keyFor(f, host)} {
				idx := index(t, s, host, agentSkills, key)
				for _, name := range idx.names() {
					if owner := ownerOf(name); owner != tenantAt(host) {
						t.Errorf("host %q lists %s of %s", host, name, owner)
					}
				}
				for _, name := range allNames {
					if ownerOf(name) != tenantAt(host) {
						wantHidden(t, s, host, key, idx, name)
					}
				}
			}
		}
	})

	t.Run("a key of another tenant is refused and audited", func(t *testing.T) {
		before := auditCount(t, s, f.globex.ID, "auth.cross_tenant")
		for _, p := range []string{indexPath, agentSkills + "acme-public/SKILL.md", agentSkills + "acme-public.tar.gz"} {
			r := do(t, s, "GET", acmeHost, p, f.globex.Admin.Key)
			wantProblem(t, r, http.StatusUnauthorized)
			if bytes.Contains(r.body, []byte("acme-public")) {
				t.Errorf("refusal mentions acme's skill: %s", r.body)
			}
		}
		if n := auditCount(t, s, f.globex.ID, "auth.cross_tenant"); n < before+3 {
			t.Errorf("%d cross-tenant denials audited in globex, want %d", n, before+3)
		}
		// On the bare host (the default tenant) the check is discovery's own.
		before = auditCount(t, s, f.acme.ID, "auth.cross_tenant")
		wantProblem(t, do(t, s, "GET", "", indexPath, f.acme.Member.Key), http.StatusUnauthorized)
		wantProblem(t, do(t, s, "GET", "skills.test", agentSkills+"default-hello/SKILL.md", f.acme.Member.Key), http.StatusUnauthorized)
		if n := auditCount(t, s, f.acme.ID, "auth.cross_tenant"); n != before+2 {
			t.Errorf("%d cross-tenant denials audited in acme, want %d", n, before+2)
		}
		if n := auditCount(t, s, f.def.ID, "auth.cross_tenant"); n != 0 {
			t.Errorf("the default tenant's audit holds %d denials of acme's key", n)
		}
	})

	t.Run("unknown hosts show nothing", func(t *testing.T) {
		for _, host := range []string{"nobody.skills.test", "unknown.example.com"} {
			idx := index(t, s, host, agentSkills, "")
			if len(idx.Skills) != 0 {
				t.Errorf("%s lists %v", host, idx.names())
			}
			for _, name := range allNames {
				wantHidden(t, s, host, "", idx, name)
			}
			wantProblem(t, do(t, s, "GET", host, indexPath, f.acme.Admin.Key), http.StatusUnauthorized)
		}
	})

	t.Run("bare host without a default tenant shows nothing", func(t *testing.T) {
		if f.bareWithoutDefaultCode != http.StatusOK || f.bareWithoutDefault.Schema != discovery.Schema || len(f.bareWithoutDefault.Skills) != 0 {
			t.Errorf("status %d, index %+v", f.bareWithoutDefaultCode, f.bareWithoutDefault)
		}
	})

	t.Run("vanity domain and subdomain serve the same tenant", func(t *testing.T) {
		for _, host := range []string{globexHost, "globex.skills.test"} {
			if got := index(t, s, host, agentSkills, "").names(); !slices.Equal(got, []string{"globex-public"}) {
				t.Errorf("%s lists %v", host, got)
			}
		}
	})

	t.Run("a tenant without public discovery shows nothing anonymously", func(t *testing.T) {
		idx := index(t, s, "initech.skills.test", agentSkills, "")
		if len(idx.Skills) != 0 {
			t.Errorf("initech lists %v", idx.names())
		}
		wantHidden(t, s, "initech.skills.test", "", idx, "initech-public")
		if got := index(t, s, "initech.skills.test", agentSkills, f.initech.Member.Key).names(); !slices.Equal(got, []string{"initech-public"}) {
			t.Errorf("initech's member sees %v", got)
		}
	})

	t.Run("errors are problems", func(t *testing.T) {
		for _, p := range []string{
			agentSkills + "acme-public/nope.md",
			agentSkills + "acme-public/",
			agentSkills + "Bad_Name/SKILL.md",
			agentSkills + "acme-public/..%2Facme-private%2FSKILL.md",
			agentSkills + "no-such-skill/SKILL.md",
			agentSkills + "no-such-skill.zip",
			agentSkills + "no-such-skill.tar.gz",
			agentSkills + "acme-public.tgz",
			agentSkills + "acme-public.rar",
			agentSkills + "acme-public/SKILL.md/x",
			oldSkills + "no-such-skill/SKILL.md",
			agentSkills,
		} {
			wantProblem(t, do(t, s, "GET", acmeHost, p, ""), http.StatusNotFound)
		}
		r := do(t, s, "POST", acmeHost, indexPath, "")
		wantProblem(t, r, http.StatusMethodNotAllowed)
		if r.header.Get("Allow") != "GET, HEAD" {
			t.Errorf("Allow %q", r.header.Get("Allow"))
		}
		wantProblem(t, do(t, s, "GET", acmeHost, indexPath, "sv_not_a_key"), http.StatusUnauthorized)
	})

	// Last: it changes acme's settings.
	t.Run("downloads off closes discovery to non-admins", func(t *testing.T) {
		off := false
		if _, err := s.Svc.UpdateSettings(context.Background(), service.System(f.acme.ID), service.SettingsPatch{AllowSkillDownload: &off}); err != nil {
			t.Fatal(err)
		}
		if idx := index(t, s, acmeHost, agentSkills, ""); len(idx.Skills) != 0 {
			t.Errorf("anonymous index lists %v with downloads off", idx.names())
		}
		wantProblem(t, do(t, s, "GET", acmeHost, agentSkills+"acme-public/SKILL.md", ""), http.StatusNotFound)
		wantProblem(t, do(t, s, "GET", acmeHost, indexPath, f.acme.Member.Key), http.StatusForbidden)
		if idx := index(t, s, acmeHost, agentSkills, f.acme.Admin.Key); len(idx.Skills) != 4 {
			t.Errorf("admin sees %v with downloads off", idx.names())
		}
	})
}

// ownerOf is the tenant slug a fixture skill belongs to.
func ownerOf(name string) string {
	owner, _, _ := strings.Cut(name, "-")
	if owner == "default" {
		return "default"
	}
	return owner
}

// tenantAt is the tenant slug a fixture host serves.
func tenantAt(host string) string {
	switch host {
	case "", "skills.test":
		return "default"
	case globexHost:
		return "globex"
	}
	return strings.TrimSuffix(host, ".skills.test")
}

// keyFor is a member key of the tenant at host.
func keyFor(f *fixture, host string) string {
	switch tenantAt(host) {
	case "acme":
		return f.acme.Member.Key
	case "globex":
		return f.globex.Member.Key
	case "initech":
		return f.initech.Member.Key
	}
	return f.def.Member.Key
}

// TestDiscoveryBundles serves real bundles (the project's fixtures and the
// shared corpus) and checks every served byte against the files on disk.
func TestDiscoveryBundles(t *testing.T) {
	dirs := append(testcorpus.Fixtures(t), testcorpus.Skills(t)...)
	s := newServer(t)
	tn := s.Tenant("corpus")
	publicDiscovery(t, s, tn.ID, true)
	want := map[string][]bundle.File{}
	for _, dir := range dirs {
		files, err := bundle.ReadDir(dir, bundle.Limits{})
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		p, err := s.Svc.CreateSkill(context.Background(), adminOf(tn), files,
			service.PublishOptions{Publish: true, Visibility: "public", Dir: filepath.Base(dir)})
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		want[p.Skill.Name] = files
	}
	host := "corpus.skills.test"
	idx := index(t, s, host, agentSkills, "")
	if len(idx.Skills) != len(dirs) {
		t.Fatalf("index lists %d skills, %d were published", len(idx.Skills), len(dirs))
	}
	served := verifyServed(t, s, host, agentSkills, "", idx)
	for _, sk := range idx.Skills {
		files := want[sk.Name]
		if bundle.Digest(served[sk.Name]) != bundle.Digest(files) {
			t.Errorf("%s: the artifact holds other files than the folder", sk.Name)
		}
		if (len(files) == 1) != (sk.Type == "skill-md") {
			t.Errorf("%s: %d files listed as %s", sk.Name, len(files), sk.Type)
		}
		for _, file := range files {
			r := do(t, s, "GET", host, agentSkills+sk.Name+"/"+fileserve.EscapePath(file.Path), "")
			if r.status != http.StatusOK || !bytes.Equal(r.body, file.Data) {
				t.Errorf("%s/%s: status %d, bytes differ from the folder's", sk.Name, file.Path, r.status)
			}
		}
	}
}

// TestArchivesAreBuiltOnce: a flood of requests for one skill's archive,
// at once and after, builds it once (the bytes are a function of the
// version's digest); another format or a new version is built anew, and
// every answer carries the same bytes.
func TestArchivesAreBuiltOnce(t *testing.T) {
	s := newServer(t)
	acme := s.Tenant("acme")
	publicDiscovery(t, s, acme.ID, true)
	create(t, s, adminOf(acme), "big-skill", "public", true, "scripts/run.sh", "references/guide.md")
	before := s.Svc.ArchiveBuilds()
	var wg sync.WaitGroup
	bodies := make([][]byte, 20)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := do(t, s, "GET", acmeHost, agentSkills+"big-skill.tar.gz", "")
			if r.status != http.StatusOK {
				t.Errorf("archive: %d %s", r.status, r.body)
			}
			bodies[i] = r.body
		}()
	}
	wg.Wait()
	for i := range bodies {
		if !bytes.Equal(bodies[i], bodies[0]) {
			t.Fatalf("answer %d differs from answer 0", i)
		}
	}
	do(t, s, "GET", acmeHost, agentSkills+"big-skill.tar.gz", "")
	if n := s.Svc.ArchiveBuilds() - before; n != 1 {
		t.Fatalf("21 requests built the archive %d times, want 1", n)
	}
	do(t, s, "GET", acmeHost, agentSkills+"big-skill.zip", "")
	if n := s.Svc.ArchiveBuilds() - before; n != 2 {
		t.Fatalf("the zip after the tar.gz: %d builds, want 2", n)
	}
	if _, err := s.Svc.AddVersion(context.Background(), adminOf(acme), "big-skill",
		files("big-skill", "Version two.", "scripts/run.sh"), service.PublishOptions{Publish: true}); err != nil {
		t.Fatal(err)
	}
	r := do(t, s, "GET", acmeHost, agentSkills+"big-skill.tar.gz", "")
	if n := s.Svc.ArchiveBuilds() - before; n != 3 || bytes.Equal(r.body, bodies[0]) {
		t.Fatalf("after a new version: %d builds (want 3), same bytes as before: %v", n, bytes.Equal(r.body, bodies[0]))
	}
}
