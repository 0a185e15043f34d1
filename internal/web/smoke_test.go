package web

import (
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/testcorpus"
)

func TestPagesRender(t *testing.T) {
	e := start(t)
	a := e.tenant("acme")
	for _, d := range testcorpus.Fixtures(t)[:3] {
		e.publishDir(a, a.Member, "member", d, service.PublishOptions{Category: "engineering", Tags: []string{"ops"}})
	}
	b := e.client()
	if p := b.signIn(e.loginLink(a, a.Admin)); p.Status != 303 {
		t.Fatalf("sign in: %d %s", p.Status, p.Body)
	}
	skills := testcorpus.Fixtures(t)
	name := skills[0][strings.LastIndex(skills[0], "/")+1:]
	assets := len(b.get("/static/app.css").Body) + len(b.get("/static/app.js").Body) + len(b.get("/static/code.css").Body)
	for _, path := range []string{"/", "/search?q=sql", "/skills/" + name, "/skills/" + name + "/files/SKILL.md", "/skills/" + name + "/versions",
		"/skills/" + name + "/diff", "/publish", "/me/skills", "/me/keys", "/admin/users", "/admin/keys", "/admin/settings",
		"/admin/audit", "/admin/analytics", "/admin/reviews", "/nope"} {
		p := b.get(path)
		want := 200
		if path == "/nope" {
			want = 404
		}
		if p.Status != want {
			t.Errorf("GET %s: %d\n%s", path, p.Status, p.Body)
		}
		// The budget: a page's HTML with its CSS and script under 100 KB.
		if n := len(p.Body) + assets; n > 100<<10 {
			t.Errorf("GET %s: %d bytes of HTML, CSS and JS", path, n)
		}
	}
}
