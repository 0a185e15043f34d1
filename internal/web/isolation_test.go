package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/store"
)

// status opens a path and returns the HTTP status and the main text.
func (b *tab) status(path string) (int64, string) {
	b.t.Helper()
	res, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(b.e.URL+path))
	if err != nil {
		b.t.Fatalf("open %s: %v", path, err)
	}
	return res.Status, b.text("main")
}

// TestBrowserIsolation: a user of tenant B who types the addresses of
// tenant A's skills, files, versions, keys and audit entries sees the same
// 404 page as for things that do not exist; a member of A sees no admin
// page and no other member's private skill.
func TestBrowserIsolation(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	a := e.tenant("acme")
	g := e.tenant("globex")
	e.seed(a)
	sys := service.System(a.ID)
	keys, err := e.TS.Svc.ListKeys(ctx, sys, true, nil, 10)
	if err != nil || len(keys) == 0 {
		t.Fatalf("acme keys: %v", err)
	}
	entries, err := e.TS.Svc.Audit(ctx, sys, store.AuditFilter{Limit: 1})
	if err != nil || len(entries) == 0 {
		t.Fatalf("acme audit: %v", err)
	}
	other := e.TS.User(a.ID, "other@acme.example", "member", "read", "write")
	e.publishFiles(a, other, "member", map[string]string{"SKILL.md": "---\nname: secret-plan\ndescription: A private plan only its author may read.\n---\n# Secret plan\n"},
		service.PublishOptions{Visibility: "private"})

	gb := e.tab(t, 1280)
	gb.ssoSignIn("admin@globex.example")
	gb.sees("header", "Globex Inc")
	_, missing := gb.status("/skills/no-such-skill")
	for _, path := range []string{
		"/skills/sql-migration-review",
		"/skills/sql-migration-review/files/SKILL.md",
		"/skills/sql-migration-review/files/scripts/find_risky_ddl.py?version=1",
		"/skills/sql-migration-review/versions",
		"/skills/sql-migration-review/diff?from=1&to=1",
		"/skills/sql-migration-review/download",
		"/skills/secret-plan",
		"/me/keys/" + keys[0].ID.String(),
		"/admin/audit/" + strconv.FormatInt(entries[0].ID, 10),
	} {
		st, text := gb.status(path)
		if st != http.StatusNotFound || !strings.Contains(text, "Page not found") {
			t.Errorf("globex admin at %s: %d %q", path, st, trim(text, 200))
		}
		if strings.Contains(text, "sql-migration-review") || strings.Contains(text, "SQL Migration") {
			t.Errorf("globex admin at %s learns about acme's skill: %q", path, trim(text, 300))
		}
	}
	_, foreign := gb.status("/skills/sql-migration-review")
	if foreign != missing {
		t.Errorf("another tenant's skill page differs from a missing one:\n%q\n%q", foreign, missing)
	}
	gb.open("/search?q=sql+migration")
	if strings.Contains(gb.text("main"), "sql-migration-review") {
		t.Error("globex's search finds acme's skill")
	}
	gb.open("/admin/keys")
	if strings.Contains(gb.text("main"), keys[0].Prefix) {
		t.Error("globex's key list shows acme's key")
	}
	gb.open("/admin/audit")
	if strings.Contains(gb.text("main"), "acme.example") {
		t.Error("globex's audit log shows acme's entries")
	}
	gb.shot("not-found-desktop")

	// Forms aimed at acme's key from globex fail as not found, and change nothing.
	hb := e.client()
	hb.signIn(e.loginLink(g, g.Admin))
	tok := hb.csrf()
	for _, path := range []string{"/admin/keys/" + keys[0].ID.String() + "/revoke", "/me/keys/" + keys[0].ID.String() + "/revoke"} {
		if p := hb.do("POST", path, url.Values{"csrf": {tok}}); p.Status != http.StatusNotFound {
			t.Errorf("POST %s from globex: %d", path, p.Status)
		}
	}
	if p := hb.do("POST", "/skills/sql-migration-review/rate", url.Values{"csrf": {tok}, "stars": {"1"}}); p.Status != http.StatusNotFound {
		t.Errorf("rating acme's skill from globex: %d", p.Status)
	}
	if p := hb.do("POST", "/skills/sql-migration-review/fork", url.Values{"csrf": {tok}, "new_name": {"stolen"}}); p.Status != http.StatusNotFound {
		t.Errorf("forking acme's skill from globex: %d", p.Status)
	}
	if r := e.TS.Do("GET", "/api/v1/me", a.Admin.Key, nil); r.Status != 200 {
		t.Errorf("acme's key stopped working: %d", r.Status)
	}

	// A member of acme: no admin page, no other member's private skill.
	mb := e.tab(t, 1280)
	mb.ssoSignIn("member@acme.example")
	for _, path := range []string{"/admin/settings", "/admin/audit", "/admin/users", "/admin/keys", "/admin/analytics", "/admin/reviews"} {
		st, text := mb.status(path)
		if st != http.StatusForbidden || !strings.Contains(text, "Admins only") {
			t.Errorf("member at %s: %d %q", path, st, trim(text, 200))
		}
	}
	mb.shot("forbidden-desktop")
	if st, _ := mb.status("/skills/secret-plan"); st != http.StatusNotFound {
		t.Errorf("member opens another member's private skill: %d", st)
	}
	mb.open("/search?q=secret+plan")
	if strings.Contains(mb.text("main"), "secret-plan") {
		t.Error("member finds another member's private skill")
	}
	if st, _ := mb.status("/skills/sql-migration-review"); st != http.StatusOK {
		t.Errorf("member cannot open a shared skill: %d", st)
	}
}
