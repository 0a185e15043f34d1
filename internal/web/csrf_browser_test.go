package web

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/skillvault/skillvault/internal/service"
)

// forgedPage is a page of another tenant's host that, once loaded, sends
// acme's admin form as multipart without its token: by a form (with a
// normal or a no-referrer policy, which makes the browser send
// "Origin: null") or by fetch.
func forgedPage(kind, target, email string) string {
	form := `<form id="f" method="post" enctype="multipart/form-data" action="` + html.EscapeString(target) + `">` +
		`<input name="email" value="` + email + `"><input name="role" value="admin"></form>`
	head, script := "", `document.getElementById('f').submit();`
	switch kind {
	case "no-referrer":
		head = `<meta name="referrer" content="no-referrer">`
	case "fetch":
		script = `fetch(document.getElementById('f').action, {method: 'POST', body: new FormData(document.getElementById('f')), credentials: 'include', mode: 'no-cors'})
  .finally(function () { document.title = 'sent'; });`
	}
	return "<!doctype html><html><head><title>forged</title>" + head + "</head><body>" + form + "<script>" + script + "</script></body></html>"
}

// TestBrowserCrossTenantCSRF: in Chromium, acme's admin is signed in at
// acme's host; pages of globex's host, the same site, send acme's "add a
// user" form as multipart with the admin's cookie. Every one is refused,
// no user is created, and each refusal is audited in acme (so the
// session cookie did reach acme: only the guard stopped the form). The
// real form on acme's page still adds a user.
func TestBrowserCrossTenantCSRF(t *testing.T) {
	e := start(t, withBaseDomain(siteDomain))
	ctx := context.Background()
	a := e.tenant("acme")
	e.tenant("globex")
	acme, globex := e.hostURL("acme"), e.hostURL("globex")
	e.TS.Srv.Mux.HandleFunc("GET /forged/{kind}", func(w http.ResponseWriter, r *http.Request) {
		kind := r.PathValue("kind")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, forgedPage(kind, acme+"/admin/users", "intruder-"+kind+"@acme.example"))
	})

	b := e.tab(t, 1280)
	b.do(chromedp.Navigate(acme + e.loginLink(a, a.Admin)))
	b.clickNav("main button[type=submit]")
	b.sees("header", "Acme Inc", "admin@acme.example")

	for _, kind := range []string{"no-referrer", "plain", "fetch"} {
		refused := countRefused(t, e, a)
		b.do(chromedp.Navigate(globex + "/forged/" + kind))
		if kind == "fetch" {
			b.waitFor(`document.title === 'sent'`)
		} else {
			b.waitFor(`location.href.startsWith(` + jsString(acme+"/admin/users") + `) && document.querySelector('main') !== null`)
			b.sees("main", "Request refused")
		}
		email := "intruder-" + kind + "@acme.example"
		if _, err := e.TS.Svc.UserByEmail(ctx, service.System(a.ID), email); service.KindOf(err) != service.NotFound {
			t.Errorf("%s: the forged form created %s (%v)", kind, email, err)
		}
		if n := countRefused(t, e, a) - refused; n != 1 {
			t.Errorf("%s: %d refusals audited in acme, want 1 (was the admin's cookie sent?)", kind, n)
		}
	}

	// The real form of acme's page works.
	b.do(chromedp.Navigate(acme + "/admin/users"))
	b.fill("#email", "newcomer@acme.example")
	b.clickNav("form.inline-form button[type=submit]")
	if _, err := e.TS.Svc.UserByEmail(ctx, service.System(a.ID), "newcomer@acme.example"); err != nil {
		t.Errorf("the admin's own form did not add the user: %v", err)
	}
}

// waitFor polls a JavaScript condition for up to 15 seconds.
func (b *tab) waitFor(cond string) {
	b.t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](cond)); err == nil && ok {
			return
		}
	}
	loc, _ := chromedp.Run(b.ctx, chromedp.Location())
	b.t.Fatalf("at %s: %s never became true", loc, cond)
}

func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// TestChromiumCookieRules keeps the measurement behind the cookie names
// (see Web.cookieName): over plain HTTP, Chromium stores Secure and
// __Host- cookies from 127.0.0.1 and localhost but drops them from a
// tenant's host name, so the UI may use the prefix only over TLS.
func TestChromiumCookieRules(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/set" {
			for _, c := range []string{"__Host-prefixed=1; Path=/; Secure; HttpOnly; SameSite=Lax", "secure=1; Path=/; Secure; HttpOnly; SameSite=Lax", "plain=1; Path=/; HttpOnly; SameSite=Lax"} {
				w.Header().Add("Set-Cookie", c)
			}
			return
		}
		fmt.Fprintf(w, "[%s]", r.Header.Get("Cookie"))
	}))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	for host, want := range map[string]string{
		"127.0.0.1":          "[__Host-prefixed=1; secure=1; plain=1]",
		"localhost":          "[__Host-prefixed=1; secure=1; plain=1]",
		"acme." + siteDomain: "[plain=1]",
	} {
		b := (&env{}).tab(t, 800)
		base := "http://" + host + ":" + port
		b.do(chromedp.Navigate(base + "/set"))
		b.do(chromedp.Navigate(base + "/get"))
		if got := b.eval(`document.body.innerText`); got != want {
			t.Errorf("cookies kept by Chromium at %s over plain HTTP: %v, want %s", host, got, want)
		}
	}
}
