package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/api"
	"github.com/skillvault/skillvault/internal/dbtest"
	"github.com/skillvault/skillvault/internal/testserver"
)

// victim is tenant A with data of every kind.
type victim struct {
	*testserver.Tenant
	Other   testserver.User // a second member
	KeyIDs  []string        // ids of A's keys
	Markers []string        // strings only A's data contains
}

// me is the answer of GET /api/v1/me.
type me struct {
	User struct {
		ID    string `json:"id"`
		Email string `json:"email"`
		Role  string `json:"role"`
	} `json:"user"`
	TenantID string   `json:"tenant_id"`
	KeyID    string   `json:"key_id"`
	Scopes   []string `json:"scopes"`
}

// newVictim fills tenant slug with skills (published "alpha" with two
// versions, ratings and usage; a private "secret" and a draft "draft" of
// the member; "collide"), keys and settings.
func newVictim(t *testing.T, s *testserver.Server, slug string) *victim {
	t.Helper()
	v := &victim{Tenant: s.Tenant(slug)}
	v.Other = s.User(v.ID, "other@"+slug+".example", "member", "read", "write")
	alpha := create(t, s, v.Admin.Key, simpleBundle("alpha"), "?publish=true&category=ops&tags=deploy")
	p := upload(s, v.Admin.Key, "/api/v1/skills/alpha/versions?publish=true", "application/zip", zipBytes(t, simpleBundle("alpha", "more")))
	wantStatus(t, p, http.StatusCreated)
	secret := create(t, s, v.Member.Key, describedBundle("secret", "Alpha secret sauce, member only."), "?publish=true&visibility=private")
	draft := create(t, s, v.Member.Key, describedBundle("draft", "Alpha draft sauce, unpublished."), "")
	create(t, s, v.Admin.Key, simpleBundle("collide"), "?publish=true")
	wantStatus(t, s.Do("PUT", "/api/v1/skills/alpha/rating", v.Member.Key, map[string]any{"stars": 4, "comment": "alpha-comment-marker"}), 200)
	wantStatus(t, s.Do("PUT", "/api/v1/skills/secret/rating", v.Member.Key, map[string]any{"stars": 5}), 200)
	wantStatus(t, s.Do("POST", "/api/v1/usage", v.Member.Key, map[string]any{"events": []map[string]any{
		{"skill": "alpha", "event": "install", "source": "cli"}, {"skill": "secret", "event": "view", "source": "web"}}}), 200)
	wantStatus(t, s.Do("PATCH", "/api/v1/settings", v.Admin.Key, map[string]any{"key_expiry_days": 77}), 200)
	v.Markers = []string{v.ID.String(), v.Admin.ID.String(), v.Member.ID.String(), v.Other.ID.String(),
		v.Admin.Email, v.Member.Email, v.Other.Email, alpha.Skill.ID, secret.Skill.ID, draft.Skill.ID,
		alpha.Version.Digest, secret.Version.Digest, "alpha-comment-marker", "Alpha secret sauce", "Alpha draft sauce"}
	for _, key := range []string{v.Admin.Key, v.Member.Key, v.ReadOnlyKey, v.Other.Key} {
		var m me
		getJSON(t, s, key, "/api/v1/me", &m)
		v.KeyIDs = append(v.KeyIDs, m.KeyID)
		v.Markers = append(v.Markers, m.KeyID, key[:11])
	}
	return v
}

// snapshot is everything tenant A's admin can read of A, as JSON, with
// the fields that change by merely reading (key use) removed.
func (v *victim) snapshot(t *testing.T, s *testserver.Server) map[string]string {
	t.Helper()
	out := map[string]string{}
	get := func(path string) {
		r := s.Do("GET", path, v.Admin.Key, nil)
		wantStatus(t, r, http.StatusOK)
		out[path] = lastUsed.ReplaceAllString(string(r.Body), "")
	}
	for _, p := range []string{"/api/v1/skills?limit=200", "/api/v1/users", "/api/v1/keys?all=true", "/api/v1/settings"} {
		get(p)
	}
	for _, name := range []string{"alpha", "secret", "draft", "collide"} {
		for _, suffix := range []string{"", "/versions", "/versions/latest", "/ratings", "/stats"} {
			get("/api/v1/skills/" + name + suffix)
		}
	}
	c := tenantCounts(t, s, v.ID)
	data, _ := json.Marshal(c)
	out["counts"] = string(data)
	conn := dbtest.Connect(t, s.Env.AdminURL)
	var audits int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM audit_logs WHERE tenant_id = $1", v.ID).Scan(&audits); err != nil {
		t.Fatal(err)
	}
	out["audit"] = string(rune(audits))
	return out
}

var lastUsed = regexp.MustCompile(`"last_used_at":("[^"]*"|null)`)

// xcase is what tenant B does to one route. With notFound set, every key
// of B gets the same answer for A's resource as for one that exists
// nowhere (the twin), and admins and members get 404. Otherwise check
// says what B may get (its own data only).
type xcase struct {
	method         string
	path, twin     string
	body, twinBody func() (any, []string)
	notFound       bool
	check          func(t *testing.T, key string, r *testserver.Response)
}

func jsonBody(v any) func() (any, []string) { return func() (any, []string) { return v, nil } }

func zipBody(t *testing.T, name string) func() (any, []string) {
	return func() (any, []string) {
		return zipBytes(t, simpleBundle(name, "b-version")), []string{"Content-Type", "application/zip"}
	}
}

// TestCrossTenant runs, for every route of the API, what tenant B can try
// against tenant A's data, and checks that B learns and changes nothing.
func TestCrossTenant(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	a := newVictim(t, s, "acme")
	b := s.Tenant("bravo")
	create(t, s, b.Admin.Key, simpleBundle("bravo-own"), "?publish=true")
	before := a.snapshot(t, s)
	nobody := uuid.NewString()

	notFound := func(method, path, twin string) xcase {
		return xcase{method: method, path: path, twin: twin, notFound: true}
	}
	// noA checks a 2xx answer that must hold only B's data.
	noA := func(status int) func(t *testing.T, key string, r *testserver.Response) {
		return func(t *testing.T, key string, r *testserver.Response) {
			t.Helper()
			if r.Status != status && r.Status != http.StatusForbidden {
				t.Fatalf("status %d, want %d (or 403 for a weaker key): %s", r.Status, status, r.Body)
			}
		}
	}
	cases := map[string]xcase{
		"GET /api/v1/me": {check: func(t *testing.T, key string, r *testserver.Response) {
			var m me
			wantStatus(t, r, 200)
			r.JSON(t, &m)
			if m.TenantID != b.ID.String() {
				t.Fatalf("me in tenant %s", m.TenantID)
			}
		}},
		"GET /api/v1/users":  {check: noA(200)},
		"POST /api/v1/users": {body: jsonBody(map[string]any{"email": "fresh@bravo.example", "role": "member"}), check: noA(201)},
		"PATCH /api/v1/users/{id}": {path: "/api/v1/users/" + a.Member.ID.String(), twin: "/api/v1/users/" + nobody,
			body: jsonBody(map[string]any{"role": "admin"}), notFound: true},
		"GET /api/v1/keys":         {path: "/api/v1/keys?all=true", check: noA(200)},
		"POST /api/v1/keys":        {body: jsonBody(map[string]any{"name": "b-key", "scopes": []string{"read"}}), check: noA(201)},
		"DELETE /api/v1/keys/{id}": notFound("DELETE", "/api/v1/keys/"+a.KeyIDs[1], "/api/v1/keys/"+nobody),
		"GET /api/v1/skills": {path: "/api/v1/skills?limit=200", check: func(t *testing.T, key string, r *testserver.Response) {
			var p page[skillJSON]
			wantStatus(t, r, 200)
			r.JSON(t, &p)
			if len(p.Items) != 1 || p.Items[0].Name != "bravo-own" {
				t.Fatalf("B lists %+v", p.Items)
			}
		}},
		// B may have a skill of the same name as one of A's: names are
		// unique per tenant, and a conflict would reveal A's.
		"POST /api/v1/skills": {body: func() (any, []string) {
			return zipBytes(t, simpleBundle("collide")), []string{"Content-Type", "application/zip"}
		}, check: func(t *testing.T, key string, r *testserver.Response) {
			if key == b.ReadOnlyKey {
				wantStatus(t, r, 403)
				return
			}
			if r.Status != 201 && !(r.Status == 409 && key != b.Admin.Key) {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
		}},
		"GET /api/v1/skills/{name}":                              notFound("GET", "/api/v1/skills/alpha", "/api/v1/skills/nosuch"),
		"DELETE /api/v1/skills/{name}":                           notFound("DELETE", "/api/v1/skills/alpha", "/api/v1/skills/nosuch"),
		"POST /api/v1/skills/{name}/publish":                     notFound("POST", "/api/v1/skills/alpha/publish", "/api/v1/skills/nosuch/publish"),
		"GET /api/v1/skills/{name}/versions":                     notFound("GET", "/api/v1/skills/alpha/versions", "/api/v1/skills/nosuch/versions"),
		"GET /api/v1/skills/{name}/versions/{n}":                 notFound("GET", "/api/v1/skills/alpha/versions/1", "/api/v1/skills/nosuch/versions/1"),
		"GET /api/v1/skills/{name}/versions/{n}/bundle.zip":      notFound("GET", "/api/v1/skills/alpha/versions/latest/bundle.zip", "/api/v1/skills/nosuch/versions/latest/bundle.zip"),
		"GET /api/v1/skills/{name}/versions/{n}/files/{path...}": notFound("GET", "/api/v1/skills/alpha/versions/1/files/SKILL.md", "/api/v1/skills/nosuch/versions/1/files/SKILL.md"),
		"GET /api/v1/skills/{name}/ratings":                      notFound("GET", "/api/v1/skills/alpha/ratings", "/api/v1/skills/nosuch/ratings"),
		"GET /api/v1/skills/{name}/stats":                        notFound("GET", "/api/v1/skills/alpha/stats", "/api/v1/skills/nosuch/stats"),
		"PATCH /api/v1/skills/{name}": {path: "/api/v1/skills/alpha", twin: "/api/v1/skills/nosuch", notFound: true,
			body: jsonBody(map[string]any{"title": "pwned", "visibility": "private", "status": "archived"})},
		"POST /api/v1/skills/{name}/fork": {path: "/api/v1/skills/alpha/fork", twin: "/api/v1/skills/nosuch/fork", notFound: true,
			body: jsonBody(map[string]any{"name": "stolen"})},
		"POST /api/v1/skills/{name}/versions": {path: "/api/v1/skills/alpha/versions", twin: "/api/v1/skills/nosuch/versions", notFound: true,
			body: zipBody(t, "alpha"), twinBody: zipBody(t, "nosuch")},
		"PUT /api/v1/skills/{name}/rating": {path: "/api/v1/skills/alpha/rating", twin: "/api/v1/skills/nosuch/rating", notFound: true,
			body: jsonBody(map[string]any{"stars": 1, "comment": "b was here"})},
		"POST /api/v1/usage": {body: jsonBody(map[string]any{"events": []map[string]any{
			{"skill": "alpha", "event": "install", "source": "api"}, {"skill": "secret", "event": "view", "source": "api"},
			{"skill": "bravo-own", "event": "view", "source": "api"}}}),
			check: func(t *testing.T, key string, r *testserver.Response) {
				if key == b.ReadOnlyKey {
					wantStatus(t, r, 403)
					return
				}
				var res struct {
					Accepted int `json:"accepted"`
					Rejected []struct {
						Index  int    `json:"index"`
						Reason string `json:"reason"`
					} `json:"rejected"`
				}
				wantStatus(t, r, 200)
				r.JSON(t, &res)
				if res.Accepted != 1 || len(res.Rejected) != 2 || res.Rejected[0].Reason != `no skill named "alpha"` || res.Rejected[1].Reason != `no skill named "secret"` {
					t.Fatalf("usage of A's skills: %s", r.Body)
				}
			}},
		"GET /api/v1/audit": {check: noA(200)},
		"GET /api/v1/search": {path: "/api/v1/search?q=alpha+secret+draft+sauce+collide", check: func(t *testing.T, key string, r *testserver.Response) {
			var p page[struct {
				Name string `json:"name"`
			}]
			wantStatus(t, r, 200)
			r.JSON(t, &p)
			for _, it := range p.Items {
				if it.Name != "collide" && it.Name != "bravo-own" {
					t.Fatalf("B finds %s", it.Name)
				}
			}
		}},
		"GET /api/v1/skills/{name}/reviews":  notFound("GET", "/api/v1/skills/alpha/reviews", "/api/v1/skills/nosuch/reviews"),
		"POST /api/v1/skills/{name}/reviews": notFound("POST", "/api/v1/skills/alpha/reviews", "/api/v1/skills/nosuch/reviews"),
		"POST /api/v1/skills/{name}/decision": {path: "/api/v1/skills/alpha/decision", twin: "/api/v1/skills/nosuch/decision", notFound: true,
			body: jsonBody(map[string]any{"approve": false, "reason": "b rejects"})},
		"GET /api/v1/skills/{name}/similar":   notFound("GET", "/api/v1/skills/alpha/similar", "/api/v1/skills/nosuch/similar"),
		"GET /api/v1/skills/{name}/embedding": notFound("GET", "/api/v1/skills/alpha/embedding", "/api/v1/skills/nosuch/embedding"),
		"GET /api/v1/settings":                {check: noA(200)},
		"PATCH /api/v1/settings":              {body: jsonBody(map[string]any{"key_expiry_days": 5, "require_review": true}), check: noA(200)},
	}

	keys := map[string]string{"admin": b.Admin.Key, "member": b.Member.Key, "read-only": b.ReadOnlyKey}
	for _, rt := range api.Routes(s.Srv.API) {
		route := rt.Method + " " + rt.Pattern
		c, ok := cases[route]
		if !ok {
			t.Errorf("route %s has no cross-tenant case: add one to TestCrossTenant", route)
			continue
		}
		delete(cases, route)
		if c.path == "" {
			c.path = rt.Pattern
		}
		c.method = rt.Method
		for _, who := range []string{"admin", "member", "read-only"} {
			key := keys[who]
			send := func(path string, body func() (any, []string)) *testserver.Response {
				if body == nil {
					return s.Do(c.method, path, key, nil)
				}
				b, h := body()
				return s.Do(c.method, path, key, b, h...)
			}
			r := send(c.path, c.body)
			for _, m := range a.Markers {
				if strings.Contains(string(r.Body), m) {
					t.Errorf("%s as B's %s: the answer contains A's %q: %s", route, who, m, r.Body)
				}
			}
			if !c.notFound {
				c.check(t, key, r)
				continue
			}
			tb := c.twinBody
			if tb == nil {
				tb = c.body
			}
			twin := send(c.twin, tb)
			if r.Status != twin.Status || problemType(r) != problemType(twin) {
				t.Errorf("%s as B's %s: A's resource gives %d %s, a missing one %d %s: existence leaks",
					route, who, r.Status, r.Body, twin.Status, twin.Body)
			}
			// Only role and scope checks, which do not look at the
			// resource, may answer before the look-up.
			if who == "admin" || r.Status != http.StatusForbidden {
				if r.Status != http.StatusNotFound {
					t.Errorf("%s as B's %s: %d, want 404: %s", route, who, r.Status, r.Body)
				}
			}
		}
	}
	for route := range cases {
		t.Errorf("case %s is for no route", route)
	}
	// Emails are unique per tenant only: B can have a user with the email
	// of one of A's, which a global uniqueness check would refuse.
	wantStatus(t, s.Do("POST", "/api/v1/users", b.Admin.Key, map[string]any{"email": a.Other.Email}), 201)

	// B's attempts changed nothing of A's, and made no skill for B.
	after := a.snapshot(t, s)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("A's %s changed:\n%s\n%s", k, v, after[k])
		}
	}
	wantProblem(t, s.Do("GET", "/api/v1/skills/stolen", b.Admin.Key, nil), 404, "/problems/not-found")
	// A's keys still work: B's revocations did nothing.
	for _, key := range []string{a.Admin.Key, a.Member.Key, a.ReadOnlyKey, a.Other.Key} {
		wantStatus(t, s.Do("GET", "/api/v1/me", key, nil), 200)
	}
}

func anyName(f func() (any, []string)) func(string) (any, []string) {
	return func(string) (any, []string) { return f() }
}

func problemType(r *testserver.Response) string {
	var p problem
	json.Unmarshal(r.Body, &p)
	return p.Type
}

// TestMemberPrivacy checks that a member sees nothing of another member's
// private or draft skill in any route (404, like a missing skill), while
// the author and admins do.
func TestMemberPrivacy(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	a := newVictim(t, s, "acme")
	peer := a.Other.Key
	for _, name := range []string{"secret", "draft"} {
		routes := []struct {
			method, path string
			body         func(name string) (any, []string)
		}{
			{"GET", "/api/v1/skills/" + name, nil},
			{"PATCH", "/api/v1/skills/" + name, anyName(jsonBody(map[string]any{"title": "x"}))},
			{"DELETE", "/api/v1/skills/" + name, nil},
			{"POST", "/api/v1/skills/" + name + "/publish", nil},
			{"POST", "/api/v1/skills/" + name + "/fork", anyName(jsonBody(map[string]any{"name": name + "-copy"}))},
			{"GET", "/api/v1/skills/" + name + "/versions", nil},
			{"POST", "/api/v1/skills/" + name + "/versions", func(n string) (any, []string) { return zipBody(t, n)() }},
			{"GET", "/api/v1/skills/" + name + "/versions/1", nil},
			{"GET", "/api/v1/skills/" + name + "/versions/latest", nil},
			{"GET", "/api/v1/skills/" + name + "/versions/1/bundle.zip", nil},
			{"GET", "/api/v1/skills/" + name + "/versions/1/files/SKILL.md", nil},
			{"PUT", "/api/v1/skills/" + name + "/rating", anyName(jsonBody(map[string]any{"stars": 1}))},
			{"GET", "/api/v1/skills/" + name + "/ratings", nil},
			{"GET", "/api/v1/skills/" + name + "/stats", nil},
			{"GET", "/api/v1/skills/" + name + "/reviews", nil},
			{"POST", "/api/v1/skills/" + name + "/reviews", nil},
			{"GET", "/api/v1/skills/" + name + "/similar", nil},
			{"GET", "/api/v1/skills/" + name + "/embedding", nil},
		}
		for _, rt := range routes {
			do := func(key, skill string) *testserver.Response {
				path := strings.Replace(rt.path, "/"+name, "/"+skill, 1)
				if rt.body == nil {
					return s.Do(rt.method, path, key, nil)
				}
				b, h := rt.body(skill)
				return s.Do(rt.method, path, key, b, h...)
			}
			r := do(peer, name)
			p := wantProblem(t, r, http.StatusNotFound, "/problems/not-found")
			twin := do(peer, "nosuch")
			var tp problem
			twin.JSON(t, &tp)
			if tp.Status != p.Status || strings.ReplaceAll(tp.Detail, "nosuch", name) != p.Detail {
				t.Errorf("%s %s: %q differs from a missing skill's %q", rt.method, rt.path, p.Detail, tp.Detail)
			}
		}
		// Lists and usage do not show it either.
		var list page[skillJSON]
		getJSON(t, s, peer, "/api/v1/skills?limit=200", &list)
		for _, sk := range list.Items {
			if sk.Name == name {
				t.Errorf("%s listed to another member", name)
			}
		}
		r := s.Do("POST", "/api/v1/usage", peer, map[string]any{"events": []map[string]any{{"skill": name, "event": "view", "source": "web"}}})
		wantStatus(t, r, 200)
		if !strings.Contains(string(r.Body), `"accepted":0`) || !strings.Contains(string(r.Body), "no skill named") {
			t.Errorf("usage of another member's %s: %s", name, r.Body)
		}
		// The author and the admin see it.
		for _, key := range []string{a.Member.Key, a.Admin.Key} {
			wantStatus(t, s.Do("GET", "/api/v1/skills/"+name, key, nil), 200)
			wantStatus(t, s.Do("GET", "/api/v1/skills/"+name+"/versions/1/bundle.zip", key, nil), 200)
		}
	}
	// Nothing was forked, and the secret is unchanged.
	var sk skillJSON
	getJSON(t, s, a.Member.Key, "/api/v1/skills/secret", &sk)
	if sk.Title != "secret" || sk.RatingCount != 1 || sk.Views != 1 {
		t.Errorf("secret changed: %+v", sk)
	}
	for _, name := range []string{"secret-copy", "draft-copy"} {
		wantStatus(t, s.Do("GET", "/api/v1/skills/"+name, a.Admin.Key, nil), 404)
	}
}

// TestScopesAndRoles checks that a read-only key cannot write, a member
// cannot administer, and an admin's key without the admin scope cannot
// either.
func TestScopesAndRoles(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	a := newVictim(t, s, "acme")
	r := s.Do("POST", "/api/v1/keys", a.Admin.Key, map[string]any{"name": "rw", "scopes": []string{"read", "write"}})
	wantStatus(t, r, 201)
	var k struct {
		Key string `json:"key"`
	}
	r.JSON(t, &k)
	adminNoAdminScope := k.Key

	writes := []struct {
		method, path string
		body         func() (any, []string)
	}{
		{"POST", "/api/v1/skills", zipBody(t, "newone")},
		{"POST", "/api/v1/skills/secret/versions", zipBody(t, "secret")},
		{"PATCH", "/api/v1/skills/secret", jsonBody(map[string]any{"title": "x"})},
		{"DELETE", "/api/v1/skills/secret", nil},
		{"POST", "/api/v1/skills/secret/publish", nil},
		{"POST", "/api/v1/skills/alpha/fork", jsonBody(map[string]any{"name": "alpha-ro"})},
		{"PUT", "/api/v1/skills/alpha/rating", jsonBody(map[string]any{"stars": 1})},
		{"POST", "/api/v1/usage", jsonBody(map[string]any{"events": []map[string]any{{"skill": "alpha", "event": "view", "source": "api"}}})},
		{"POST", "/api/v1/keys", jsonBody(map[string]any{"name": "ro-made", "scopes": []string{"read"}})},
		{"DELETE", "/api/v1/keys/" + a.KeyIDs[1], nil},
	}
	before := tenantCounts(t, s, a.ID)
	for _, w := range writes {
		var r *testserver.Response
		if w.body == nil {
			r = s.Do(w.method, w.path, a.ReadOnlyKey, nil)
		} else {
			b, h := w.body()
			r = s.Do(w.method, w.path, a.ReadOnlyKey, b, h...)
		}
		p := wantProblem(t, r, http.StatusForbidden, "/problems/forbidden")
		if !strings.Contains(p.Detail, "scope") {
			t.Errorf("%s %s: detail %q does not name the scope", w.method, w.path, p.Detail)
		}
	}
	if after := tenantCounts(t, s, a.ID); after != before {
		t.Errorf("a read-only key stored rows: %+v -> %+v", before, after)
	}
	// A read-only key reads.
	for _, path := range []string{"/api/v1/skills", "/api/v1/skills/alpha", "/api/v1/skills/alpha/versions/1/bundle.zip", "/api/v1/keys", "/api/v1/me"} {
		wantStatus(t, s.Do("GET", path, a.ReadOnlyKey, nil), 200)
	}

	admin := []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/v1/users", nil},
		{"POST", "/api/v1/users", map[string]any{"email": "new@acme.example"}},
		{"PATCH", "/api/v1/users/" + a.Member.ID.String(), map[string]any{"role": "admin"}},
		{"GET", "/api/v1/settings", nil},
		{"PATCH", "/api/v1/settings", map[string]any{"require_review": true}},
		{"GET", "/api/v1/audit", nil},
		{"GET", "/api/v1/keys?all=true", nil},
		{"DELETE", "/api/v1/keys/" + a.KeyIDs[3], nil},                            // another member's key
		{"PATCH", "/api/v1/skills/alpha", map[string]any{"title": "member edit"}}, // the admin's skill
		{"DELETE", "/api/v1/skills/alpha", nil},
		{"POST", "/api/v1/skills/alpha/publish", nil},
	}
	for _, who := range []struct{ name, key string }{{"member", a.Member.Key}, {"read-only", a.ReadOnlyKey}, {"admin without admin scope", adminNoAdminScope}} {
		for _, ad := range admin {
			if who.key == adminNoAdminScope && strings.Contains(ad.path, "/skills/alpha") {
				continue // the admin's own skill
			}
			r := s.Do(ad.method, ad.path, who.key, ad.body)
			if ad.method == "DELETE" && strings.HasPrefix(ad.path, "/api/v1/keys/") && who.name != "read-only" {
				// another user's key does not exist for a member, nor for an
				// admin's key without the admin scope
				wantProblem(t, r, http.StatusNotFound, "/problems/not-found")
				continue
			}
			wantProblem(t, r, http.StatusForbidden, "/problems/forbidden")
		}
	}
	// An admin's key without the admin scope acts as a member: other
	// members' private and draft skills do not exist for it.
	for _, name := range []string{"secret", "draft"} {
		wantProblem(t, s.Do("GET", "/api/v1/skills/"+name, adminNoAdminScope, nil), 404, "/problems/not-found")
		wantProblem(t, s.Do("PATCH", "/api/v1/skills/"+name, adminNoAdminScope, map[string]any{"title": "x"}), 404, "/problems/not-found")
		wantStatus(t, s.Do("GET", "/api/v1/skills/"+name, a.Admin.Key, nil), 200)
	}
	var m me
	getJSON(t, s, a.Member.Key, "/api/v1/me", &m)
	if m.User.Role != "member" || slices.Contains(m.Scopes, "admin") {
		t.Errorf("member is %+v", m)
	}
	wantStatus(t, s.Do("GET", "/api/v1/me", a.Admin.Key, nil), 200)
	// None of it happened.
	var sk skillJSON
	getJSON(t, s, a.Admin.Key, "/api/v1/skills/alpha", &sk)
	if sk.Title != "alpha" || sk.Status != "published" {
		t.Errorf("alpha changed: %+v", sk)
	}
}
