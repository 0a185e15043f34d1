package web

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/dbtest"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/store"
)

func cookieOf(t *testing.T, r *resp) *http.Cookie {
	t.Helper()
	for _, c := range r.Cookies {
		if (c.Name == "sv_session" || c.Name == "__Host-sv_session") && c.Value != "" {
			return c
		}
	}
	t.Fatalf("no session cookie in %d answer: %v", r.Status, r.Cookies)
	return nil
}

func auditActions(t *testing.T, e *env, tn *tenant, action string) []store.AuditEntry {
	t.Helper()
	es, err := e.TS.Svc.Audit(context.Background(), service.System(tn.ID), store.AuditFilter{Action: action, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestSecurityHeadersAndCookieFlags(t *testing.T) {
	e := start(t)
	a := e.tenant("acme")
	b := e.client()
	p := b.signIn(e.loginLink(a, a.Admin))
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/" {
		t.Fatalf("sign-in: %d to %q", p.Status, p.Header.Get("Location"))
	}
	c := cookieOf(t, p)
	if c.Name != "sv_session" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" || c.Secure || c.MaxAge <= 0 {
		t.Errorf("session cookie over plain HTTP: %+v; want sv_session, HttpOnly, SameSite=Lax, Path=/, host-only, not Secure, a max age", c)
	}
	if tid, _, _ := strings.Cut(c.Value, "."); tid != a.ID.String() {
		t.Errorf("the cookie names tenant %q, want %s", tid, a.ID)
	}
	for _, path := range []string{"/", "/login", "/no/such/page", "/skills/nothing", "/static/app.css", "/admin/audit"} {
		r := b.get(path)
		h := r.Header
		if h.Get("Content-Security-Policy") != csp || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "same-origin" {
			t.Errorf("GET %s (%d) headers: CSP %q, nosniff %q, referrer %q", path, r.Status, h.Get("Content-Security-Policy"),
				h.Get("X-Content-Type-Options"), h.Get("Referrer-Policy"))
		}
		if strings.Contains(r.Body, "<script>") || strings.Contains(r.Body, " style=\"") || strings.Contains(r.Body, " onclick=") {
			t.Errorf("GET %s has inline script or style", path)
		}
	}
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("weak CSP %q", csp)
	}

	// Behind a TLS proxy (an https base URL) the cookie is Secure.
	e2 := start(t, withBaseURL("https://skills.example.com"))
	a2 := e2.tenant("acme")
	c2 := cookieOf(t, e2.client().signIn(e2.loginLink(a2, a2.Admin)))
	if c2.Name != "__Host-sv_session" || !c2.Secure || !c2.HttpOnly || c2.SameSite != http.SameSiteLaxMode || c2.Path != "/" || c2.Domain != "" {
		t.Errorf("session cookie behind TLS: %+v; want __Host-sv_session, Secure, Path=/, host-only", c2)
	}
}

func TestLoginLinkSingleUseAndExpiry(t *testing.T) {
	e := start(t)
	a := e.tenant("acme")
	g := e.tenant("globex")
	link := e.loginLink(a, a.Member)
	if !strings.HasPrefix(link, "/login/"+a.ID.String()+".") {
		t.Fatalf("link %q does not carry its tenant", link)
	}
	// Opening the link does not use it; pressing the button does, once.
	b := e.client()
	if p := b.get(link); p.Status != 200 || !strings.Contains(p.Body, "member@acme.example") {
		t.Fatalf("link page: %d", p.Status)
	}
	if p := b.signIn(link); p.Status != http.StatusSeeOther {
		t.Fatalf("first use: %d %s", p.Status, p.Body)
	}
	if p := b.get("/"); p.Status != 200 || !strings.Contains(p.Body, "member@acme.example") {
		t.Fatalf("home after sign-in: %d", p.Status)
	}
	reuse := e.client()
	if p := reuse.get(link); p.Status != http.StatusGone || !strings.Contains(p.Body, "used already, has expired") {
		t.Errorf("reused link page: %d", p.Status)
	}
	m := preRE.FindStringSubmatch(reuse.get(e.loginLink(a, a.Member)).Body)
	// A POST of the used link (as a replay) fails too and sets no session.
	p := reuse.do("POST", link, url.Values{"csrf": {m[1]}})
	if p.Status != http.StatusGone {
		t.Fatalf("a used link: %d", p.Status)
	}

	// An expired link fails.
	tok := a.ID.String() + ".expired-token-0123456789abcdefghij"
	err := e.TS.Env.DB.Write(context.Background(), database.Scope{TenantID: a.ID, Role: "system"}, func(q database.Q) error {
		_, err := store.InsertLoginLink(context.Background(), q, a.Member.ID, service.HashKey(tok), time.Now().Add(-time.Minute))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	ex := e.client()
	if p := ex.get("/login/" + tok); p.Status != http.StatusGone {
		t.Errorf("expired link page: %d", p.Status)
	}
	exPre := e.client()
	fresh := exPre.get(e.loginLink(a, a.Admin))
	pre := preRE.FindStringSubmatch(fresh.Body)[1]
	if p := exPre.do("POST", "/login/"+tok, url.Values{"csrf": {pre}}); p.Status != http.StatusGone {
		t.Errorf("expired link redeemed: %d", p.Status)
	}

	// The same secret under another tenant's id, and garbage, fail.
	_, secret, _ := strings.Cut(strings.TrimPrefix(link, "/login/"), ".")
	for _, bad := range []string{"/login/" + g.ID.String() + "." + secret, "/login/not-a-token", "/login/" + uuid.Nil.String() + "." + secret} {
		if p := e.client().get(bad); p.Status != http.StatusGone {
			t.Errorf("GET %s: %d", bad, p.Status)
		}
	}

	// A form posted without the sign-in page's own token (login CSRF) fails.
	l2 := e.loginLink(a, a.Member)
	if p := e.client().do("POST", l2, url.Values{"csrf": {"forged"}}); p.Status != http.StatusForbidden {
		t.Errorf("login form without its token: %d", p.Status)
	}

	reasons := map[string]bool{}
	for _, en := range auditActions(t, e, a, "auth.login_failure") {
		reasons[string(en.Details)] = true
	}
	var got []string
	for d := range reasons {
		got = append(got, d)
	}
	joined := strings.Join(got, " ")
	for _, want := range []string{`"reason": "used"`, `"reason": "expired"`} {
		if !strings.Contains(joined, want) {
			t.Errorf("audit lacks a sign-in failure with %s: %s", want, joined)
		}
	}
	if n := len(auditActions(t, e, a, "auth.login")); n != 1 {
		t.Errorf("%d successful sign-ins audited, want 1", n)
	}
}

func TestCSRFRefused(t *testing.T) {
	e := start(t)
	a := e.tenant("acme")
	b := e.client()
	b.signIn(e.loginLink(a, a.Member))
	tok := b.csrf()
	keys := func() int {
		ks, err := e.TS.Svc.ListKeys(context.Background(), a.actor(a.Member, "member"), false, nil, 100)
		if err != nil {
			t.Fatal(err)
		}
		return len(ks)
	}
	before := keys()
	// A token that differs from the real one (which may itself start with 0).
	wrong := "0" + tok[1:]
	if wrong == tok {
		wrong = "1" + tok[1:]
	}
	for _, c := range []struct {
		name   string
		form   url.Values
		header []string
	}{
		{"no token", url.Values{"name": {"x"}}, nil},
		{"wrong token", url.Values{"name": {"x"}, "csrf": {wrong}}, nil},
		{"another site", url.Values{"name": {"x"}, "csrf": {tok}}, []string{"Origin", "https://evil.example"}},
	} {
		if p := b.do("POST", "/me/keys", c.form, c.header...); p.Status != http.StatusForbidden || !strings.Contains(p.Body, "Request refused") {
			t.Errorf("%s: %d", c.name, p.Status)
		}
	}
	if n := keys(); n != before {
		t.Fatalf("a refused form created a key: %d → %d", before, n)
	}
	if p := b.do("POST", "/me/keys", url.Values{"name": {"ok"}, "csrf": {tok}, "scopes": {"read"}}); p.Status != http.StatusCreated {
		t.Fatalf("with the token: %d %s", p.Status, p.Body)
	}

	// A multipart upload without the token is refused before anything is read.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("files", "x/SKILL.md")
	fw.Write([]byte("---\nname: x\ndescription: an x skill\n---\n# X\n"))
	mw.Close()
	p := b.do("POST", "/publish", nil, "Content-Type", mw.FormDataContentType())
	_ = p
	req, _ := http.NewRequest("POST", e.URL+"/publish", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("upload without token: %d", res.StatusCode)
	}
	if _, err := e.TS.Svc.Skill(context.Background(), a.actor(a.Member, "member"), "x"); service.KindOf(err) != service.NotFound {
		t.Errorf("the refused upload was stored: %v", err)
	}

	// Sign-out without the token does not sign out.
	if p := b.do("POST", "/logout", url.Values{}); p.Status != http.StatusForbidden {
		t.Errorf("logout without token: %d", p.Status)
	}
	if p := b.get("/"); p.Status != 200 {
		t.Errorf("the session ended after a refused logout: %d", p.Status)
	}
	if n := len(auditActions(t, e, a, "web.csrf_refused")); n < 4 {
		t.Errorf("%d refused forms audited, want at least 4", n)
	}
}

func TestSessionsEndAndExpire(t *testing.T) {
	e := start(t, withBaseDomain("skills.test"))
	a := e.tenant("acme")
	e.tenant("globex")
	b1, b2 := e.client(), e.client()
	b1.signIn(e.loginLink(a, a.Member))
	b2.signIn(e.loginLink(a, a.Member))
	// The cookie of acme does not sign anyone in at globex's host.
	var ck *http.Cookie
	u, _ := url.Parse(e.URL)
	for _, c := range b1.jar.Cookies(u) {
		if c.Name == "sv_session" {
			ck = c
		}
	}
	req, _ := http.NewRequest("GET", e.URL+"/", nil)
	req.Host = "globex.skills.test"
	req.AddCookie(ck)
	res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Errorf("acme's session at globex's host: %d %s", res.StatusCode, res.Header.Get("Location"))
	}

	// Sign out everywhere ends the other browser's session too.
	if p := b1.do("POST", "/logout/everywhere", url.Values{"csrf": {b1.csrf()}}); p.Status != http.StatusSeeOther {
		t.Fatalf("sign out everywhere: %d", p.Status)
	}
	for i, b := range []*browser{b1, b2} {
		if p := b.get("/me/keys"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/login") {
			t.Errorf("browser %d after sign-out everywhere: %d", i+1, p.Status)
		}
	}
	if len(auditActions(t, e, a, "auth.logout_everywhere")) != 1 {
		t.Error("sign-out everywhere not audited")
	}

	// A session past its absolute expiry is refused and deleted.
	tok := a.ID.String() + ".expired-session-0123456789abcdefghij"
	err = e.TS.Env.DB.Write(context.Background(), database.Scope{TenantID: a.ID, Role: "system"}, func(q database.Q) error {
		_, _, err := store.InsertSession(context.Background(), q, a.Member.ID, service.HashKey(tok), "csrf", time.Now().Add(-time.Second))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	req, _ = http.NewRequest("GET", e.URL+"/me/keys", nil)
	req.AddCookie(&http.Cookie{Name: "sv_session", Value: tok})
	res, err = (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Errorf("expired session: %d", res.StatusCode)
	}
	if _, _, err := e.TS.Svc.SessionActor(context.Background(), tok, service.RequestMeta{}); err != service.ErrSignInFailed {
		t.Errorf("expired session: %v", err)
	}

	// A session unused for longer than the idle limit is refused too,
	// though its absolute expiry is far away.
	idle := a.ID.String() + ".idle-session-0123456789abcdefghijkl"
	err = e.TS.Env.DB.Write(context.Background(), database.Scope{TenantID: a.ID, Role: "system"}, func(q database.Q) error {
		_, _, err := store.InsertSession(context.Background(), q, a.Member.ID, service.HashKey(idle), "csrf", time.Now().Add(24*time.Hour))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.TS.Svc.SessionActor(context.Background(), idle, service.RequestMeta{}); err != nil {
		t.Fatalf("fresh session refused: %v", err)
	}
	su := dbtest.Connect(t, e.TS.Env.AdminURL)
	if _, err := su.Exec(context.Background(), "UPDATE web_sessions SET last_seen_at = now() - $1::interval",
		fmt.Sprintf("%d seconds", int((service.SessionIdle+time.Minute).Seconds()))); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.TS.Svc.SessionActor(context.Background(), idle, service.RequestMeta{}); err != service.ErrSignInFailed {
		t.Errorf("idle session: %v", err)
	}
}

func TestOIDCSignInRules(t *testing.T) {
	e := start(t)
	a := e.tenant("acme")
	ctx := context.Background()

	// A new person of the tenant's domain becomes a member on first sign-in.
	b := e.client()
	p := b.sso("newbie@acme.example")
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/" {
		t.Fatalf("first sign-in: %d %s", p.Status, p.Body)
	}
	u, err := e.TS.Svc.UserByEmail(ctx, service.System(a.ID), "newbie@acme.example")
	if err != nil || u.Role != "member" {
		t.Fatalf("new user: %+v %v", u, err)
	}
	if h := b.get("/"); !strings.Contains(h.Body, "newbie@acme.example") {
		t.Error("the new member is not signed in")
	}
	if b.get("/admin/settings").Status != http.StatusForbidden {
		t.Error("a new member reaches the admin pages")
	}

	// An unknown email domain gets a clear page, and no session.
	p = e.client().sso("someone@nowhere.example")
	if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "No organisation for nowhere.example") {
		t.Errorf("unknown domain: %d %s", p.Status, p.Body)
	}
	// An unverified email is refused.
	e.IdP.Unverified["ghost@acme.example"] = true
	p = e.client().sso("ghost@acme.example")
	if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "not verified") {
		t.Errorf("unverified email: %d", p.Status)
	}
	if _, err := e.TS.Svc.UserByEmail(ctx, service.System(a.ID), "ghost@acme.example"); service.KindOf(err) != service.NotFound {
		t.Errorf("an unverified person was created: %v", err)
	}
	// A tampered state is refused.
	c := e.client()
	start := c.get("/auth/oidc/start")
	loc, _ := url.Parse(start.Header.Get("Location"))
	q := loc.Query()
	q.Set("email", "admin@acme.example")
	q.Set("state", "forged")
	back := c.doURL("POST", e.IdP.URL+"/authorize", q)
	if p := c.doURL("GET", back.Header.Get("Location"), nil); p.Status != http.StatusForbidden {
		t.Errorf("forged state: %d", p.Status)
	}

	// The first person of a tenant without an admin becomes its admin.
	o, err := database.OpenOwner(ctx, e.TS.Env.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	tn, err := o.CreateTenant(ctx, database.NewTenant{Slug: "initech", Name: "Initech", EmailDomain: "initech.example"})
	o.Close()
	if err != nil {
		t.Fatal(err)
	}
	if p := e.client().sso("boss@initech.example"); p.Status != http.StatusSeeOther {
		t.Fatalf("first user of initech: %d %s", p.Status, p.Body)
	}
	if u, err := e.TS.Svc.UserByEmail(ctx, service.System(tn.ID), "boss@initech.example"); err != nil || u.Role != "admin" {
		t.Errorf("first user of a tenant without admin: %+v %v", u, err)
	}
	if p := e.client().sso("second@initech.example"); p.Status != http.StatusSeeOther {
		t.Fatalf("second user of initech: %d", p.Status)
	}
	if u, _ := e.TS.Svc.UserByEmail(ctx, service.System(tn.ID), "second@initech.example"); u.Role != "member" {
		t.Errorf("second user is %s, want member", u.Role)
	}

	// A deactivated user cannot sign in.
	inactive := false
	if _, err := e.TS.Svc.UpdateUser(ctx, service.System(a.ID), u.ID, service.UserChange{Active: &inactive}); err != nil {
		t.Fatal(err)
	}
	if p := e.client().sso("newbie@acme.example"); p.Status != http.StatusForbidden || !strings.Contains(p.Body, "not a member") {
		t.Errorf("deactivated user: %d", p.Status)
	}

	// Sign-ins and failures in a known tenant are audited there (failures
	// before a tenant is known go to the tenant-less trail).
	if n := len(auditActions(t, e, a, "auth.login")); n < 1 {
		t.Error("no sign-in audited")
	}
	fails := auditActions(t, e, a, "auth.login_failure")
	var all string
	for _, f := range fails {
		all += string(f.Details)
	}
	for _, want := range []string{"user deactivated"} {
		if !strings.Contains(all, want) {
			t.Errorf("no audited failure %q in %s", want, all)
		}
	}
	if e.IdP.Exchanges < 4 {
		t.Errorf("%d code exchanges with the provider", e.IdP.Exchanges)
	}
}
