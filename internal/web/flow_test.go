package web

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/testcorpus"
)

// seed publishes the project's fixture bundles as the member of tn, with
// categories and tags, a rating and some use, so pages have content.
func (e *env) seed(tn *tenant) {
	e.t.Helper()
	ctx := context.Background()
	cats := []string{"engineering", "data", "operations"}
	for i, d := range testcorpus.Fixtures(e.t) {
		e.publishDir(tn, tn.Member, "member", d, service.PublishOptions{Category: cats[i%3], Tags: []string{"team", []string{"review", "writing", "automation"}[i%3]}})
	}
	m := tn.actor(tn.Member, "member")
	m.Scopes = []string{"read", "write"}
	if _, err := e.TS.Svc.Rate(ctx, m, "sql-migration-review", 5, "Saved us from a table rewrite."); err != nil {
		e.t.Fatal(err)
	}
	var use []service.UsageInput
	for i := range 12 {
		use = append(use, service.UsageInput{Skill: []string{"sql-migration-review", "unit-test-generator", "incident-postmortem"}[i%3], Event: "install", Source: "cli"})
	}
	if _, err := e.TS.Svc.RecordUsage(ctx, m, use); err != nil {
		e.t.Fatal(err)
	}
}

// writeZip writes files as a zip archive in the test's temp folder.
func writeZip(t *testing.T, name string, files []bundle.File) string {
	t.Helper()
	var buf bytes.Buffer
	if err := bundle.WriteZip(&buf, files); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestBrowserFlow walks through the product as an admin in Chromium:
// single sign-on, search, a skill page, rating, publishing a real bundle,
// a refused broken bundle, an API key's life, a setting and the audit log.
func TestBrowserFlow(t *testing.T) {
	corpus := testcorpus.Skills(t)
	e := start(t)
	a := e.tenant("acme")
	e.seed(a)
	b := e.tab(t, 1280)

	// Sign in through the OIDC provider; the tenant comes from the email domain.
	b.ssoSignIn("admin@acme.example")
	if loc := b.location(); loc != "/" {
		t.Fatalf("after sign-in the browser is at %s", loc)
	}
	b.sees("header", "admin@acme.example", "Acme Inc")
	b.sees("main", "Recently updated", "sql-migration-review", "Most used", "Top rated")
	b.shot("home-desktop")

	// Search from the home page.
	b.fill("#q", "database migration")
	b.clickNav(".hero-search button")
	b.sees("#result-count", "database migration")
	b.sees(".results", "SQL Migration Review")
	if n := b.eval(`document.querySelectorAll('.results mark').length`).(float64); n == 0 {
		t.Error("search results have no highlighted words")
	}
	b.shot("search-desktop")

	// Open the skill; its SKILL.md is rendered.
	b.clickNav(`a.result-title[href="/skills/sql-migration-review"]`)
	b.sees("h1", "SQL Migration Review")
	b.sees(".prose", "Review a database migration the way an on-call DBA would")
	b.sees(".files", "SKILL.md", "scripts/find_risky_ddl.py")
	b.sees(".install", "skillvault install sql-migration-review --agent claude")
	b.sees("#review-h", "Review of version 1")
	b.sees("main", "builtin-v2", "Quality", "Safety")

	// Rate it.
	b.do(chromedp.Click(chromedp.CSS(`label[for="star4"]`)))
	b.fill("#comment", "Clear checklist, caught a lock problem.")
	b.clickNav(".rate-form button")
	b.sees("#ratings", "Clear checklist, caught a lock problem.", "admin@acme.example", "4 out of 5")
	b.sees(".skill-head", "4.5 of 5 (2 ratings)")
	b.shot("skill-desktop")

	// A file and a diff page render.
	b.clickNav(`a[href="/skills/sql-migration-review/files/scripts/find_risky_ddl.py"]`)
	b.sees(".file-panel", "find_risky_ddl.py")
	if n := b.eval(`document.querySelectorAll('.code .chroma span').length`).(float64); n < 10 {
		t.Errorf("the script is not highlighted: %v spans", n)
	}
	b.shot("file-desktop")

	// Publish a real bundle from the corpus as a zip.
	dir := corpus[0]
	files, err := bundle.ReadDir(dir, bundle.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Base(dir)
	b.open("/publish")
	b.shot("publish-desktop")
	b.do(chromedp.SetUploadFiles(chromedp.CSS("#bundle"), []string{writeZip(t, name+".zip", files)}))
	b.fill("#category", "design")
	b.clickNav(".publish-form button[type=submit]")
	if loc := b.location(); !strings.HasPrefix(loc, "/skills/"+name+"?published=1") {
		t.Fatalf("after publishing, the browser is at %s", loc)
	}
	b.sees(".skill-head", name, "published")
	b.sees(".files", "SKILL.md")

	// A broken bundle is refused with its problems, and nothing is stored.
	b.open("/publish")
	broken := []bundle.File{{Path: "SKILL.md", Data: []byte("---\nname: Broken_Skill\n---\n# Broken\n")}, {Path: "notes.txt", Data: []byte("x")}}
	b.do(chromedp.SetUploadFiles(chromedp.CSS("#bundle"), []string{writeZip(t, "broken.zip", broken)}))
	b.clickNav(".publish-form button[type=submit]")
	b.sees("#problems", "The skill was not stored", "SKILL.md", "description")
	if cells := b.text(".problems tbody tr:first-child td:nth-child(2)"); strings.TrimSpace(cells) == "" {
		t.Errorf("the first problem has no line number")
	}
	b.shot("publish-errors-desktop")
	if _, err := e.TS.Svc.Skill(context.Background(), a.actor(a.Admin, "admin"), "broken-skill"); service.KindOf(err) != service.NotFound {
		t.Errorf("the broken bundle was stored: %v", err)
	}

	// Create an API key: it is shown once and works; revoke it: it stops.
	b.open("/me/keys")
	b.fill("#kname", "laptop")
	b.do(chromedp.Click(chromedp.CSS("#sc-write")))
	b.clickNav(".key-form button")
	key := strings.TrimSpace(b.text("#new-key"))
	if !strings.HasPrefix(key, service.KeyPrefix) {
		t.Fatalf("the new key shows as %q", key)
	}
	if r := e.TS.Do("GET", "/api/v1/me", key, nil); r.Status != 200 {
		t.Fatalf("the new key does not work: %d %s", r.Status, r.Body)
	}
	b.shot("keys-desktop")
	b.open("/me/keys")
	if strings.Contains(b.text("main"), key) {
		t.Fatal("the key's secret is shown again")
	}
	b.clickNav(`button[aria-label="Revoke key laptop"]`)
	b.sees(".keys", "revoked")
	if r := e.TS.Do("GET", "/api/v1/me", key, nil); r.Status != 401 {
		t.Fatalf("a revoked key still works: %d", r.Status)
	}

	// Change a setting as admin, with a validation message first.
	b.open("/admin/settings")
	b.fill("#key_expiry_days", "99999")
	b.clickNav(".settings button[type=submit]")
	b.sees(".alert-error", "key_expiry_days")
	b.fill("#key_expiry_days", "30")
	b.clickNav(".settings button[type=submit]")
	b.sees(".alert-ok", "Settings saved")
	st, err := e.TS.Svc.Settings(context.Background(), service.System(a.ID))
	if err != nil || st.KeyExpiryDays != 30 {
		t.Fatalf("settings after save: %+v %v", st, err)
	}
	b.shot("settings-desktop")

	// The audit log shows what happened, and filters.
	b.open("/admin/audit")
	b.sees(".audit", "settings.update", "key.revoke", "key.create", "skill.create", "auth.login")
	b.fill("#action", "auth.login")
	b.clickNav(".filters button")
	b.sees(".audit", "auth.login")
	if got := b.text(".audit tbody"); strings.Contains(got, "settings.update") {
		t.Errorf("the auth filter shows other actions: %s", got)
	}
	b.shot("audit-desktop")
	b.clickNav(".audit tbody tr:first-child a")
	b.sees("main", "Audit entry", "auth.login", "oidc", "admin@acme.example")

	for _, p := range []struct{ path, name string }{{"/admin/analytics", "analytics"}, {"/admin/users", "users"}, {"/skills/sql-migration-review/diff?from=1&to=1", "diff"}} {
		b.open(p.path)
		b.shot(p.name + "-desktop")
	}
	b.open("/admin/analytics")
	b.sees(".stats", "12", "installs")
	b.sees("main", "Top skills", "sql-migration-review")
}

// TestBrowserPhone checks the main pages at phone width: nothing is wider
// than the screen, and the navigation is reachable.
func TestBrowserPhone(t *testing.T) {
	e := start(t)
	a := e.tenant("acme")
	e.seed(a)
	b := e.tab(t, 390)
	b.ssoSignIn("member@acme.example")
	for _, p := range []struct{ path, name string }{
		{"/", "home"}, {"/search?q=test", "search"}, {"/skills/sql-migration-review", "skill"}, {"/publish", "publish"},
		{"/me/keys", "keys"}, {"/login", "login"},
	} {
		b.open(p.path)
		if over := b.eval(`document.documentElement.scrollWidth - window.innerWidth`).(float64); over > 0 {
			t.Errorf("%s is %v px wider than a phone screen", p.path, over)
		}
		b.shot(p.name + "-phone")
	}
	b.open("/")
	b.sees("nav.nav", "Publish", "My skills", "API keys")
	if b.eval(`document.querySelector('nav.nav a[href="/admin/analytics"]') === null`) != true {
		t.Error("a member sees the admin link")
	}
}
