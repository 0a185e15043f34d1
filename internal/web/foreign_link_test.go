package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/store"
)

// TestLoginLinkAtAnotherTenantsHost: acme's sign-in link opened or posted
// at globex's host is "not valid" there, is not spent, and writes nothing
// into acme's audit log; at acme's host it still signs in.
func TestLoginLinkAtAnotherTenantsHost(t *testing.T) {
	e := start(t, withBaseDomain("skills.test"))
	acme := e.tenant("acme")
	e.tenant("globex")
	link := e.loginLink(acme, acme.Member)
	auditRows := func() int {
		es, err := e.TS.Svc.Audit(context.Background(), acme.actor(acme.Admin, "admin"), store.AuditFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		return len(es)
	}
	before := auditRows()
	at := func(method, host string) *http.Response {
		var body *strings.Reader
		if method == "POST" {
			body = strings.NewReader(url.Values{"csrf": {"pre-token"}}.Encode())
		} else {
			body = strings.NewReader("")
		}
		req, _ := http.NewRequest(method, e.URL+link, body)
		req.Host = host
		if method == "POST" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			req.AddCookie(&http.Cookie{Name: "sv_pre", Value: "pre-token"})
		}
		res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	for _, m := range []string{"GET", "POST"} {
		if res := at(m, "globex.skills.test"); res.StatusCode != http.StatusGone {
			t.Errorf("%s of acme's link at globex's host: %d, want 410", m, res.StatusCode)
		}
	}
	if after := auditRows(); after != before {
		t.Errorf("acme's audit log grew from %d to %d rows through globex's host", before, after)
	}
	if res := at("POST", "acme.skills.test"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the link at acme's host after the foreign attempts: %d, want 303 (signed in)", res.StatusCode)
	}
}
