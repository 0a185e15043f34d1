package web

import (
	"context"
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/dbtest"
)

// TestCrossSiteSubresourcesRefused: a page of another tenant is on the
// same site, so the browser sends the signed-in user's cookies with the
// images, scripts and fetches it makes to this host. Before, every GET of
// the UI answered them: an <img> of tenant B's page made A's member record
// downloads in A (GET /skills/{name}/download writes a usage event), and
// answers to hidden subresources are what cross-site leaks measure. Now
// the guard refuses every request the browser marks as coming from
// another origin of the site or another site, unless it is a top-level
// navigation (a link followed), on every route of the UI.
func TestCrossSiteSubresourcesRefused(t *testing.T) {
	e := start(t)
	a := e.tenant("acme")
	e.seed(a)
	b := e.client()
	if r := b.signIn(e.loginLink(a, a.Member)); r.Status != 303 {
		t.Fatalf("sign-in: %d", r.Status)
	}
	link := e.loginLink(a, a.Admin)
	fill := func(pattern string) string {
		_, p, _ := strings.Cut(pattern, " ")
		p = strings.ReplaceAll(p, "{$}", "")
		p = strings.ReplaceAll(p, "{name}", "sql-migration-review")
		p = strings.ReplaceAll(p, "{path...}", "SKILL.md")
		p = strings.ReplaceAll(p, "{id}", a.Member.ID.String())
		if strings.HasPrefix(p, "/login/") {
			return link
		}
		if p == "/" {
			return "/no/such/page"
		}
		return p
	}
	su := dbtest.Connect(t, e.TS.Env.AdminURL)
	events := func() int {
		var n int
		if err := su.QueryRow(context.Background(), "SELECT count(*) FROM usage_events").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := events()
	subresources := [][]string{
		{"Sec-Fetch-Site", "same-site", "Sec-Fetch-Mode", "no-cors", "Sec-Fetch-Dest", "image"},
		{"Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "no-cors", "Sec-Fetch-Dest", "script"},
		{"Sec-Fetch-Site", "same-site", "Sec-Fetch-Mode", "cors", "Sec-Fetch-Dest", "empty"},
		{"Sec-Fetch-Site", "same-site", "Sec-Fetch-Mode", "navigate", "Sec-Fetch-Dest", "iframe"},
	}
	refused := func(r *resp) bool { return r.Status == 403 && strings.Contains(r.Body, "Request refused") }
	var paths []string
	for _, pattern := range e.Web.routes {
		method, _, spaced := strings.Cut(pattern, " ")
		switch {
		case !spaced:
			paths = append(paths, "/no/such/page") // the catch-all
		case method == "GET":
			paths = append(paths, fill(pattern))
		}
	}
	for _, p := range paths {
		for _, h := range subresources {
			if r := b.do("GET", p, nil, h...); !refused(r) {
				t.Errorf("%s as %s %s from %s: %d, want the guard's 403", p, h[3], h[5], h[1], r.Status)
			}
		}
	}
	if n := events() - before; n != 0 {
		t.Errorf("refused subresource requests recorded %d usage events", n)
	}
	for _, p := range paths {
		// A link followed from another site still opens the page, and the
		// page's own subresources load.
		if r := b.do("GET", p, nil, "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate", "Sec-Fetch-Dest", "document"); refused(r) {
			t.Errorf("%s followed as a link from another site: refused", p)
		}
		if r := b.do("GET", p, nil, "Sec-Fetch-Site", "same-origin", "Sec-Fetch-Mode", "no-cors", "Sec-Fetch-Dest", "style"); refused(r) {
			t.Errorf("%s from this origin: refused", p)
		}
	}
	if events() == before {
		t.Error("the allowed downloads recorded nothing: the test does not reach the download route")
	}
}
