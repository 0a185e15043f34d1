package web

import (
	"html"
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/service"
)

// TestSkillPageGitInstall: the install box offers the agents' own
// installers with the tenant's git repository: the URL that always asks
// for credentials for a private skill, the public one for a public skill,
// and the marketplace named after the tenant.
func TestSkillPageGitInstall(t *testing.T) {
	e := start(t)
	tn := e.tenant("default")
	e.publishFiles(tn, tn.Member, "member", map[string]string{"SKILL.md": "---\nname: notes\ndescription: Private notes.\n---\n# Notes\n"},
		service.PublishOptions{Visibility: "private", Publish: true})
	b := e.client()
	b.signIn(e.loginLink(tn, tn.Member))
	page := html.UnescapeString(b.get("/skills/notes").Body)
	for _, want := range []string{
		"npx skills add " + e.URL + "/git/auth/skills.git --skill notes",
		"claude plugin marketplace add " + e.URL + "/git/auth/skills.git && claude plugin install notes@default",
		"git clone " + e.URL + "/git/auth/skills.git",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("skill page lacks %q", want)
		}
	}
}
