package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/store"
	"github.com/skillvault/skillvault/internal/testserver"
)

// uiPage is one GET page of the UI at a concrete address.
type uiPage struct {
	Route, Path string
	Signed      bool // false: seen before signing in
}

// notPages are the GET routes of the UI that answer with no HTML page of
// their own (assets, redirects to the identity provider, archives).
var notPages = map[string]bool{
	"GET /static/": true, "GET /static/code.css": true, "GET /auth/oidc/start": true,
	"GET /auth/oidc/callback": true, "GET /skills/{name}/download": true,
}

// pagesEnv is a tenant with content on every page: skills of each status
// (published, in review, draft) and visibility, a skill with two versions whose lines are long, a key
// and audit entries.
func pagesEnv(t *testing.T) (*env, *tenant) {
	t.Helper()
	e := start(t)
	a := e.tenant("acme")
	e.seed(a)
	ctx := context.Background()
	m := a.actor(a.Member, "member")
	long := strings.Repeat("a-very-long-unbroken-token-", 12)
	v1 := map[string]string{"SKILL.md": "---\nname: wide-lines\ndescription: A skill whose lines are long.\n---\n# Wide lines\n\nRun `" + long + "`.\n\n```sh\nskillvault install wide-lines --agent claude --and-a-long-option " + long + "\n```\n\n| a | b |\n|---|---|\n| " + long + " | " + long + " |\n"}
	e.publishFiles(a, a.Member, "member", v1, service.PublishOptions{Visibility: "tenant"})
	var v2 []bundle.File
	for p, c := range v1 {
		v2 = append(v2, bundle.File{Path: p, Data: []byte(strings.Replace(c, "Run", "Now run", 1) + "\nA new line " + long + "\n")})
	}
	if _, err := e.TS.Svc.AddVersion(ctx, m, "wide-lines", v2, service.PublishOptions{Publish: true, Changelog: "Longer lines"}); err != nil {
		t.Fatal(err)
	}
	e.publishFiles(a, a.Member, "member", map[string]string{"SKILL.md": "---\nname: secret-notes\ndescription: Only mine.\n---\n# Secret notes\n"}, service.PublishOptions{Visibility: "private"})
	on := true
	if _, err := e.TS.Svc.UpdateSettings(ctx, a.actor(a.Admin, "admin"), service.SettingsPatch{RequireReview: &on}); err != nil {
		t.Fatal(err)
	}
	e.publishFiles(a, a.Member, "member", map[string]string{"SKILL.md": "---\nname: awaiting-review\ndescription: Waits for an admin.\n---\n# Awaiting review\n"}, service.PublishOptions{Visibility: "tenant"})
	draft := []bundle.File{{Path: "SKILL.md", Data: []byte("---\nname: rough-draft\ndescription: Not done yet.\n---\n# Rough draft\n")}}
	if _, err := e.TS.Svc.CreateSkill(ctx, m, draft, service.PublishOptions{Visibility: "tenant"}); err != nil {
		t.Fatal(err)
	}
	return e, a
}

// uiPages gives a sample address for every GET page route of the UI, as
// registered (Web.routes), for a.Admin (who sees every page): a new page
// route without one fails the test, so no page escapes the checks.
func uiPages(t *testing.T, e *env, a *tenant) []uiPage {
	t.Helper()
	ctx := context.Background()
	key, err := e.TS.Svc.CreateKey(ctx, a.actor(a.Admin, "admin"), uuid.Nil, service.NewKey{Name: "laptop", Scopes: []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	entries, err := e.TS.Svc.Audit(ctx, a.actor(a.Admin, "admin"), store.AuditFilter{Limit: 1})
	if err != nil || len(entries) == 0 {
		t.Fatalf("audit entries: %v %d", err, len(entries))
	}
	const cb = "http://127.0.0.1:7777/callback"
	client, err := e.TS.Svc.RegisterClient(ctx, a.ID, service.ClientRegistration{ClientName: "A desktop agent with a rather long name", RedirectURIs: []string{cb}}, service.RequestMeta{})
	if err != nil {
		t.Fatal(err)
	}
	consent := "/oauth/authorize?" + url.Values{"response_type": {"code"}, "client_id": {client.ClientID}, "redirect_uri": {cb}, "state": {"s"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}, "resource": {e.URL + "/mcp"}}.Encode()
	sample := map[string][]string{
		"GET /oauth/authorize":               {consent},
		"GET /login":                         {"/login"},
		"GET /login/{token}":                 {e.loginLink(a, a.Member)},
		"GET /{$}":                           {"/"},
		"GET /search":                        {"/search?q=migration", "/search"},
		"GET /skills/{name}":                 {"/skills/sql-migration-review", "/skills/wide-lines", "/skills/secret-notes", "/skills/rough-draft", "/skills/awaiting-review"},
		"GET /skills/{name}/files/{path...}": {"/skills/sql-migration-review/files/SKILL.md", "/skills/sql-migration-review/files/scripts/find_risky_ddl.py"},
		"GET /skills/{name}/versions":        {"/skills/wide-lines/versions"},
		"GET /skills/{name}/diff":            {"/skills/wide-lines/diff?from=1&to=2"},
		"GET /publish":                       {"/publish"},
		"GET /me/skills":                     {"/me/skills"},
		"GET /me/keys":                       {"/me/keys"},
		"GET /me/keys/{id}":                  {"/me/keys/" + key.ID.String()},
		"GET /admin/{$}":                     {"/admin/"},
		"GET /admin/users":                   {"/admin/users"},
		"GET /admin/keys":                    {"/admin/keys"},
		"GET /admin/settings":                {"/admin/settings"},
		"GET /admin/audit":                   {"/admin/audit"},
		"GET /admin/audit/{id}":              {fmt.Sprintf("/admin/audit/%d", entries[0].ID)},
		"GET /admin/analytics":               {"/admin/analytics"},
		"GET /admin/reviews":                 {"/admin/reviews"},
		"/":                                  {"/no-such-page"},
	}
	var out []uiPage
	for _, r := range e.Web.routes {
		if notPages[r] || (!strings.HasPrefix(r, "GET ") && r != "/") {
			continue
		}
		paths, ok := sample[r]
		if !ok {
			t.Errorf("route %q has no sample address in uiPages: add one", r)
			continue
		}
		for _, p := range paths {
			out = append(out, uiPage{Route: r, Path: p, Signed: !strings.HasPrefix(r, "GET /login")})
		}
	}
	return out
}

// layoutJS reports what is wrong with the page's layout at its viewport
// width: the page scrolls sideways, an element's right edge is past the
// viewport (unless it sits in a scroll container that itself fits), a Copy
// button covers a character of its command or a command is cut off, or an
// admin tab is cut off. Closed <details> in main are opened first, so
// their contents are measured too.
const layoutJS = `(() => {
  document.querySelectorAll('main details').forEach(d => d.open = true);
  const W = window.innerWidth, out = [];
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : '');
  if (document.documentElement.scrollWidth > W) out.push('the page is ' + document.documentElement.scrollWidth + 'px wide');
  // scrolls is the element's nearest ancestor that clips it; an absolutely
  // positioned element escapes every clipping box inside its containing block.
  const out_of_flow = pos => pos === 'absolute' || pos === 'fixed';
  const scrolls = el => {
    let free = out_of_flow(getComputedStyle(el).position);
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const cs = getComputedStyle(p);
      if (free && cs.position === 'static') continue;
      if (cs.overflowX === 'auto' || cs.overflowX === 'scroll' || cs.overflowX === 'hidden') return p;
      if (free) free = out_of_flow(cs.position);
    }
    return null;
  };
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || r.right <= W + 0.5) continue;
    const s = scrolls(el);
    if (s && s.getBoundingClientRect().right <= W + 0.5) continue;
    out.push(name(el) + ' ends at ' + Math.round(r.right) + 'px');
  }
  for (const c of document.querySelectorAll('.copy')) {
    const b = c.querySelector('.btn-copy'), code = c.querySelector('code'), pre = c.querySelector('pre');
    if (!b || b.hidden || b.getBoundingClientRect().width === 0) continue;
    const br = b.getBoundingClientRect(), range = document.createRange();
    range.selectNodeContents(code);
    for (const r of range.getClientRects()) {
      if (r.width > 0 && r.left < br.right && r.right > br.left && r.top < br.bottom && r.bottom > br.top) { out.push('the Copy button covers the text of ' + JSON.stringify(code.textContent.slice(0, 40))); break; }
    }
    if (pre.scrollWidth > pre.clientWidth + 1) out.push('the command ' + JSON.stringify(code.textContent.slice(0, 40)) + ' is cut off');
  }
  for (const a of document.querySelectorAll('.subnav a')) {
    const r = a.getBoundingClientRect();
    if (r.left < 0 || r.right > W + 0.5) out.push('the admin tab ' + a.textContent + ' is cut off');
  }
  return out.slice(0, 8);
})()`

// TestPhoneLayout opens every page of the UI in Chromium 390 px wide (a
// phone) and 768 px wide (a small tablet): no page scrolls sideways, no
// element sticks out of the viewport, Copy buttons cover no text and clip
// no command, admin tabs are all in view, and on the phone the skill page
// shows the install box (with version and digest) before the SKILL.md.
// The phone's pages are saved as screenshots (SKILLVAULT_ARTIFACTS).
func TestPhoneLayout(t *testing.T) {
	e, a := pagesEnv(t)
	pages := uiPages(t, e, a)
	for _, width := range []int64{390, 768} {
		b := e.tab(t, width)
		check := func(i int, p uiPage) {
			t.Helper()
			b.open(p.Path)
			b.do(chromedp.WaitReady("footer"))
			var problems []string
			for _, v := range b.eval(layoutJS).([]any) {
				problems = append(problems, v.(string))
			}
			if len(problems) > 0 {
				t.Errorf("%s at %d px: %s", p.Path, width, strings.Join(problems, "; "))
			}
			if width == 390 {
				b.shot(fmt.Sprintf("phone-%02d%s", i, strings.NewReplacer("GET ", "", "/", "_", "{", "", "}", "", "$", "", ".", "").Replace(p.Route)))
			}
		}
		for i, p := range pages {
			if !p.Signed {
				check(i, p)
			}
		}
		b.open(e.loginLink(a, a.Admin))
		b.clickNav("main button[type=submit]")
		for i, p := range pages {
			if p.Signed {
				check(i, p)
			}
		}
		if width != 390 {
			continue
		}
		b.open("/skills/sql-migration-review")
		order := b.eval(`(() => {
		  const top = s => document.querySelector(s).getBoundingClientRect().top + scrollY;
		  return [top('.install'), top('.install .digest'), top('.readme')];
		})()`).([]any)
		if order[0].(float64) >= order[2].(float64) || order[1].(float64) >= order[2].(float64) {
			t.Errorf("on a phone the install box (at %v px, digest at %v px) is not above the SKILL.md (at %v px)", order[0], order[1], order[2])
		}
	}
}

// TestDesktopSkillLayout: on a wide screen the install box heads the right
// column beside the SKILL.md, not above it.
func TestDesktopSkillLayout(t *testing.T) {
	e, a := pagesEnv(t)
	b := e.tab(t, 1280)
	b.open(e.loginLink(a, a.Admin))
	b.clickNav("main button[type=submit]")
	b.open("/skills/sql-migration-review")
	got := b.eval(`(() => {
	  const i = document.querySelector('.install').getBoundingClientRect(), r = document.querySelector('.readme').getBoundingClientRect();
	  return i.left >= r.right && Math.abs(i.top - r.top) < 2;
	})()`)
	if got != true {
		t.Error("at 1280 px the install box is not at the top of the right-hand column beside the SKILL.md")
	}
	b.shot("desktop-skill")
}

var h1RE = regexp.MustCompile(`<h1[\s>]`)

// TestEveryPageHasOneH1AndTheFavicon: each page of the UI has exactly one
// <h1> (a SKILL.md's own headings move one level down) and links the
// favicon, which is served as SVG.
func TestEveryPageHasOneH1AndTheFavicon(t *testing.T) {
	e, a := pagesEnv(t)
	pages := uiPages(t, e, a)
	anon, admin := e.client(), e.client()
	admin.signIn(e.loginLink(a, a.Admin))
	for _, p := range pages {
		c := anon
		if p.Signed {
			c = admin
		}
		r := c.get(p.Path)
		for r.Status == http.StatusSeeOther || r.Status == http.StatusFound {
			r = c.get(r.Header.Get("Location"))
		}
		if n := len(h1RE.FindAllString(r.Body, -1)); n != 1 {
			t.Errorf("%s (%d) has %d <h1> elements, want 1", p.Path, r.Status, n)
		}
		if !strings.Contains(r.Body, `<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">`) {
			t.Errorf("%s does not link the favicon", p.Path)
		}
	}
	if r := anon.get("/static/favicon.svg"); r.Status != 200 || r.Header.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(r.Body, "<svg") {
		t.Errorf("favicon: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
}

// TestFaviconPassesTheCSP: Chromium loads the favicon as an image under
// the pages' Content-Security-Policy.
func TestFaviconPassesTheCSP(t *testing.T) {
	e := start(t)
	b := e.tab(t, 390)
	b.open("/login")
	ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`new Promise(res => {
	  const i = new Image(); i.onload = () => res(i.naturalWidth > 0); i.onerror = () => res(false);
	  i.src = document.querySelector('link[rel=icon]').href;
	})`, chromedp.EvalAwaitPromise))
	if err != nil || !ok {
		t.Errorf("the favicon does not load under the page's CSP: %v %v", ok, err)
	}
}

// wrongWordRE finds counts with the wrong plural and the database's words
// for statuses and audiences shown as they are.
var wrongWordRE = regexp.MustCompile(`(?:^|[^\d.])1 (?:uses|files|peoples?|installs|downloads|views|runs|ratings|skills|users|versions|days|hours|minutes)\b|(?:^|[^-\w])in_review\b|\b[0-9]+ persons\b|>\s*(?:tenant|private|public)\s*<`)

// TestWording reads every page as the member who wrote the skills and as
// the admin: one of a thing is singular ("1 install", "1 file", "1 person"),
// statuses and audiences are in words ("in review", "visible to everyone
// in Acme Inc", "visible only to you", "visible only to its author"), and
// days are written one way.
func TestWording(t *testing.T) {
	e, a := pagesEnv(t)
	ctx := context.Background()
	m := a.actor(a.Member, "member")
	if _, err := e.TS.Svc.RecordUsage(ctx, m, []service.UsageInput{{Skill: "wide-lines", Event: "install", Source: "cli"}}); err != nil {
		t.Fatal(err)
	}
	admin, member := e.client(), e.client()
	admin.signIn(e.loginLink(a, a.Admin))
	member.signIn(e.loginLink(a, a.Member))
	pages := uiPages(t, e, a)
	for _, p := range pages {
		for who, c := range map[string]*browser{"admin": admin, "member": member} {
			if !p.Signed {
				continue
			}
			r := c.get(p.Path)
			if m := wrongWordRE.FindString(r.Body); m != "" {
				t.Errorf("%s as %s says %q", p.Path, who, m)
			}
		}
	}
	wants := []struct {
		c          *browser
		path, want string
	}{
		{member, "/skills/wide-lines", "1 use ·"},
		{member, "/skills/wide-lines", "<strong>1</strong> install</span>"},
		{member, "/skills/wide-lines", "1 use by 1 person in the last 30 days"},
		{member, "/skills/wide-lines", "visible to everyone in Acme Inc"},
		{member, "/skills/secret-notes", "visible only to you"},
		{admin, "/skills/secret-notes", "visible only to its author"},
		{member, "/me/skills", "visible only to you"},
		{member, "/skills/awaiting-review", `<span class="badge badge-in_review">in review</span>`},
		{member, "/", `<span class="badge badge-in_review">in review</span>`},
		{member, "/skills/rough-draft", `<span class="badge badge-draft">draft</span>`},
		{member, "/skills/wide-lines/versions", "1 file ("},
		// 13 installs; the pages opened above are views, neither uses nor activity.
		{admin, "/admin/analytics", `<span class="stat-n">13</span><span class="stat-l">uses</span>`},
		{admin, "/admin/analytics", `<span class="stat-n">1</span><span class="stat-l">active user</span>`},
	}
	for _, w := range wants {
		if body := w.c.get(w.path).Body; !strings.Contains(body, w.want) {
			t.Errorf("%s does not say %q", w.path, w.want)
		}
	}
}

// TestOneDayFormat: the helpers every page uses write a day the same way.
func TestOneDayFormat(t *testing.T) {
	day := time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)
	old := day.AddDate(-1, 0, 0)
	got := []string{funcs["date"].(func(time.Time) string)(day), funcs["datep"].(func(*time.Time) string)(&day), since(old)}
	want := []string{"4 Mar 2026, 05:06 UTC", "4 Mar 2026", "4 Mar 2025"}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("day written as %q, want %q", got[i], want[i])
		}
	}
}

// TestPhoneLoginWithoutSSO: without single sign-on the sign-in page shows
// the login-link command with a Copy button; at 390 px it fits, wraps and
// is not covered by the button.
func TestPhoneLoginWithoutSSO(t *testing.T) {
	e := start(t, func(_ *testserver.Options, c *Config) { c.OIDC = OIDCConfig{} })
	b := e.tab(t, 390)
	b.open("/login")
	b.sees("main", "skillvault user login-link")
	if n := b.eval(`document.querySelectorAll('.copy .btn-copy:not([hidden])').length`); n != 1.0 {
		t.Fatalf("the sign-in page shows %v Copy buttons, want 1", n)
	}
	if problems := b.eval(layoutJS).([]any); len(problems) > 0 {
		t.Errorf("/login without SSO at 390 px: %v", problems)
	}
	b.shot("phone-login-no-sso")
}
