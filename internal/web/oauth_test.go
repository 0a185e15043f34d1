package web

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/service"
)

// TestConsentAfterSingleSignOn: a signed-out person sent to the
// authorization endpoint signs in with the company's SSO, comes back to
// the consent page (which shows the client, its redirect host and only
// the scopes the role allows), approves, and the browser goes to the
// client with the code, the state and the issuer.
func TestConsentAfterSingleSignOn(t *testing.T) {
	e := start(t)
	a := e.tenant("acme")
	const cb = "http://127.0.0.1:7777/callback"
	c, err := e.TS.Svc.RegisterClient(context.Background(), a.ID, service.ClientRegistration{ClientName: "Desk Agent", RedirectURIs: []string{cb}}, service.RequestMeta{})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(strings.Repeat("x", 50)))
	q := url.Values{"response_type": {"code"}, "client_id": {c.ClientID}, "redirect_uri": {cb}, "state": {"abc"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}, "resource": {e.URL + "/mcp"}}
	path := "/oauth/authorize?" + q.Encode()
	b := e.client()
	if p := b.get(path); p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/login?next="+url.QueryEscape(path) {
		t.Fatalf("signed out: %d to %q, want the sign-in page with next", p.Status, p.Header.Get("Location"))
	}
	if p := b.ssoFrom("/auth/oidc/start?next="+url.QueryEscape(path), "member@acme.example"); p.Header.Get("Location") != path {
		t.Fatalf("after single sign-on: %d to %q, want back to the authorization request", p.Status, p.Header.Get("Location"))
	}
	page := b.get(path)
	for _, want := range []string{"Desk Agent", "127.0.0.1:7777", "registered dynamically", ">read<", ">write<"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("consent page lacks %q", want)
		}
	}
	if strings.Contains(page.Body, ">admin<") {
		t.Error("a member's consent page offers the admin scope")
	}
	if csp := page.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' http://127.0.0.1:7777") {
		t.Errorf("CSP %q does not let the approval reach the client", csp)
	}
	m := csrfRE.FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatalf("consent page: %d", page.Status)
	}
	form := url.Values{"csrf": {m[1]}, "decision": {"approve"}}
	for k, v := range q {
		form[k] = v
	}
	p := b.do("POST", "/oauth/authorize", form, "Origin", e.URL, "Sec-Fetch-Site", "same-origin")
	u, _ := url.Parse(p.Header.Get("Location"))
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(u.String(), cb+"?") || u.Query().Get("code") == "" ||
		u.Query().Get("state") != "abc" || u.Query().Get("iss") != e.URL {
		t.Fatalf("approval: %d to %q", p.Status, u)
	}
}
