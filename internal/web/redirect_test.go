package web

import (
	"net/http"
	"net/url"
	"testing"
)

// Addresses that leave the site once a browser reads them: browsers drop
// tabs and newlines inside a URL and read "\" as "/".
var offSite = []string{
	"/%09/evil.example", "/\t/evil.example", "/\\evil.example", "//evil.example", "/\\/evil.example", "\\\\evil.example",
	"///evil.example", "/%2F%2Fevil.example", "/%2f/evil.example", "%2F%2Fevil.example", "/%5Cevil.example", "/%5c%5cevil.example",
	"http://evil.example", "https://evil.example/x", "HTTP://evil.example", "//user@evil.example", "javascript:alert(1)",
	"/\r\nLocation: http://evil.example", "/%0d%0aSet-Cookie:%20x=1", "/%0a/evil.example", "/\n/evil.example", "/%00/evil.example",
	"/\x7f/evil.example", " /evil", "\t//evil.example", "evil.example", "", "/%", "/%zz",
}

var onSite = []string{"/", "/skills/sql-migration-review", "/search?q=a+b&mode=hybrid", "/search?q=a%2F%2Fb",
	"/skills/x/files/scripts/run.sh?version=2#top", "/admin/users?created=1", "/me/keys/0b6c1e0e-7a61-4a9f-9d0e-3f7b1e2a0c11"}

func TestLocalPathRefusesOtherSites(t *testing.T) {
	for _, s := range offSite {
		if got := localPath(s); got != "/" {
			t.Errorf("localPath(%q) = %q, want /", s, got)
		}
	}
	for _, s := range onSite {
		if got := localPath(s); got != s {
			t.Errorf("localPath(%q) = %q, want it kept", s, got)
		}
	}
}

// TestSignInRedirectsStayOnSite: the addresses a caller chooses in ?next=
// (the sign-in page of a signed-in user, the single sign-on flow) send the
// browser to a path of this site or to "/", never elsewhere.
func TestSignInRedirectsStayOnSite(t *testing.T) {
	e := start(t)
	a := e.tenant("acme")
	b := e.client()
	b.signIn(e.loginLink(a, a.Admin))
	cases := map[string]string{}
	for _, s := range offSite {
		cases[s] = "/"
	}
	for _, s := range onSite {
		cases[s] = s
	}
	for next, want := range cases {
		p := b.get("/login?next=" + url.QueryEscape(next))
		if loc := p.Header.Get("Location"); p.Status != http.StatusSeeOther || loc != want {
			t.Errorf("signed in, /login?next=%q: %d to %q, want %q", next, p.Status, loc, want)
		}
	}
	for next, want := range map[string]string{"/%09/evil.example": "/", "/\\evil.example": "/", "/%2F%2Fevil.example": "/", "/admin/users?created=1": "/admin/users?created=1"} {
		p := e.client().ssoFrom("/auth/oidc/start?next="+url.QueryEscape(next), "admin@acme.example")
		if loc := p.Header.Get("Location"); p.Status != http.StatusSeeOther || loc != want {
			t.Errorf("single sign-on with next=%q: %d to %q, want %q", next, p.Status, loc, want)
		}
	}
}
