package web

import (
	"context"
	"html"
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/service"
)

// TestInstallBoxOffersTheSkillsCLI: a public published skill's page shows
// the `npx skills add` command for the site's discovery index (which the
// discovery interop test proves that CLI reads); a skill anonymous
// discovery does not list shows none.
func TestInstallBoxOffersTheSkillsCLI(t *testing.T) {
	e := start(t)
	tn := e.tenant("acme")
	e.publicDiscovery(tn)
	md := func(name string) map[string]string {
		return map[string]string{"SKILL.md": "---\nname: " + name + "\ndescription: The " + name + " skill.\n---\n# " + name + "\n"}
	}
	e.publishFiles(tn, tn.Admin, "admin", md("open-skill"), service.PublishOptions{Visibility: "public"})
	e.publishFiles(tn, tn.Admin, "admin", md("inside-skill"), service.PublishOptions{Visibility: "tenant"})
	b := e.client()
	b.signIn(e.loginLink(tn, tn.Admin))

	page := html.UnescapeString(b.get("/skills/open-skill").Body)
	if want := "npx skills add " + e.URL + " --skill open-skill"; !strings.Contains(page, want) {
		t.Errorf("the public skill's install box lacks %q", want)
	}
	// (The git installer lines, with credentials, are offered for every
	// skill; the anonymous discovery form only for public ones.)
	if page := html.UnescapeString(b.get("/skills/inside-skill").Body); strings.Contains(page, "npx skills add "+e.URL+" --skill") {
		t.Error("a tenant-only skill's page offers the anonymous skills CLI")
	}
	if !strings.Contains(page, "skillvault install open-skill --agent claude") {
		t.Error("the skillvault install commands are gone")
	}
}

// publicDiscovery turns on the tenant's anonymous discovery (and public
// skills).
func (e *env) publicDiscovery(tn *tenant) {
	e.t.Helper()
	on := true
	if _, err := e.TS.Svc.UpdateSettings(context.Background(), service.System(tn.ID), service.SettingsPatch{PublicDiscovery: &on}); err != nil {
		e.t.Fatal(err)
	}
}
