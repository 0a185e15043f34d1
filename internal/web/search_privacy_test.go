package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/store"
)

// TestSearchCutsQueryOnCharacters: a query longer than the search page
// takes is cut on a character boundary, never inside one (which made the
// database refuse the text: 500).
func TestSearchCutsQueryOnCharacters(t *testing.T) {
	e := start(t)
	a := e.tenant("acme")
	e.publishFiles(a, a.Member, "member", map[string]string{"SKILL.md": "---\nname: cafe-menu\ndescription: Write a café menu.\n---\n# Menu\n"}, service.PublishOptions{})
	b := e.client()
	b.signIn(e.loginLink(a, a.Member))
	for _, q := range []string{
		strings.Repeat("a", 499) + "é",               // the cut at 500 falls inside é
		strings.Repeat("a", 498) + "€",               // inside a three-byte character
		strings.Repeat("a", 497) + "😀" + "café menu", // inside a four-byte one
		strings.Repeat("é", 400),
	} {
		p := b.get("/search?q=" + url.QueryEscape(q))
		if p.Status != http.StatusOK {
			t.Errorf("search of %d bytes ending %q: %d", len(q), q[len(q)-8:], p.Status)
		}
	}
	// A query the page keeps whole still finds its skill.
	if p := b.get("/search?q=" + url.QueryEscape("café menu")); p.Status != 200 || !strings.Contains(p.Body, "/skills/cafe-menu") {
		t.Errorf("search for café menu: %d", p.Status)
	}
}

var (
	mainRE    = regexp.MustCompile(`(?s)<main.*</main>`)
	webRankRE = regexp.MustCompile(`(Exact words|Similar meaning): #(\d+) \(`)
)

// TestSearchPageRanksOnlyVisible (web): the search page of a member
// shows ranks among the skills they may see ("semantic #1", not #2 behind
// another member's private skill), and the results are the same before
// and after that private skill, the best match, is published.
func TestSearchPageRanksOnlyVisible(t *testing.T) {
	e := start(t)
	a := e.tenant("acme")
	a2 := e.TS.User(a.ID, "a2@"+a.Domain, "member", "read", "write")
	skill := func(name, desc string) map[string]string {
		return map[string]string{"SKILL.md": "---\nname: " + name + "\ndescription: " + desc + "\n---\n# " + name + "\n\n" + desc + "\n"}
	}
	e.publishFiles(a, a.Member, "member", skill("kafka-consumer-lag", "Tune Kafka consumer lag and partition rebalancing."), service.PublishOptions{})
	e.publishFiles(a, a.Admin, "admin", skill("kafka-topic-design", "Design Kafka topics, partitions and retention."), service.PublishOptions{})
	e.publishFiles(a, a.Member, "member", skill("kafka-schema-registry", "Evolve Avro schemas in a Kafka schema registry."), service.PublishOptions{})
	e.TS.Svc.EmbedDue(context.Background())
	b := e.client()
	b.signIn(e.loginLink(a, a.Member))
	page := func(mode string) string {
		p := b.get("/search?mode=" + mode + "&q=" + url.QueryEscape("rotate kafka broker credentials"))
		if p.Status != 200 {
			t.Fatalf("search: %d %s", p.Status, p.Body)
		}
		return mainRE.FindString(p.Body)
	}
	modes := []string{"keyword", "semantic", "hybrid"}
	without := map[string]string{}
	for _, m := range modes {
		without[m] = page(m)
	}
	e.publishFiles(a, a2, "member", skill("kafka-credential-rotation", "Rotate Kafka broker credentials and client secrets."),
		service.PublishOptions{Visibility: "private", Publish: true})
	e.TS.Svc.EmbedDue(context.Background())
	for _, m := range modes {
		body := page(m)
		if strings.Contains(body, "kafka-credential-rotation") {
			t.Fatalf("%s: the member's page shows the private skill", m)
		}
		if body != without[m] {
			t.Errorf("%s: the member's results depend on the private skill:\nwithout: %s\nwith:    %s", m, without[m], body)
		}
		ranks := map[string][]int{}
		for _, g := range webRankRE.FindAllStringSubmatch(body, -1) {
			n, _ := strconv.Atoi(g[2])
			ranks[g[1]] = append(ranks[g[1]], n)
		}
		if len(ranks) == 0 {
			t.Fatalf("%s: the page shows no ranks", m)
		}
		for kind, rs := range ranks {
			slices.Sort(rs)
			if rs[0] != 1 || rs[len(rs)-1] != len(rs) {
				t.Errorf("%s: the page shows %s ranks %v, want 1 to %d", m, kind, rs, len(rs))
			}
		}
	}
}

// TestNameConflictIsNeutralWeb: publishing or forking from the web under
// the name of another member's private skill shows a message that does
// not say a skill holds the name, the same for a private skill and a
// draft; nothing is stored.
func TestNameConflictIsNeutralWeb(t *testing.T) {
	e := start(t)
	a := e.tenant("acme")
	a2 := e.TS.User(a.ID, "a2@"+a.Domain, "member", "read", "write")
	md := func(name string) string {
		return "---\nname: " + name + "\ndescription: A plan called " + name + ".\n---\n# " + name + "\n"
	}
	e.publishFiles(a, a2, "member", map[string]string{"SKILL.md": md("hidden-private")}, service.PublishOptions{Visibility: "private", Publish: true})
	e.publishFiles(a, a2, "member", map[string]string{"SKILL.md": md("hidden-draft")}, service.PublishOptions{Visibility: "private"})
	e.publishFiles(a, a.Admin, "admin", map[string]string{"SKILL.md": md("shared-plan")}, service.PublishOptions{})
	b := e.client()
	b.signIn(e.loginLink(a, a.Member))
	publish := func(name string) *resp {
		return b.publishUpload([][2]string{{"visibility", "tenant"}}, [][2]string{{name + "/SKILL.md", md(name)}})
	}
	fork := func(name string) *resp {
		return b.do("POST", "/skills/shared-plan/fork", url.Values{"csrf": {b.csrf()}, "new_name": {name}})
	}
	msgRE := regexp.MustCompile(`not available|exists`)
	answer := func(r *resp, name string) string {
		if r.Status < 400 || r.Status >= 500 {
			t.Fatalf("%s: status %d, want a refusal", name, r.Status)
		}
		main := mainRE.FindString(r.Body)
		for _, leak := range []string{"exists", "skill named", "/versions"} {
			if strings.Contains(main, leak) {
				t.Errorf("the refusal for %s says %q", name, leak)
			}
		}
		if !msgRE.MatchString(main) {
			t.Errorf("the refusal for %s does not say the name is not available: %s", name, main)
		}
		return strconv.Itoa(r.Status) + strings.ReplaceAll(main, name, "NAME")
	}
	for _, op := range []func(string) *resp{publish, fork} {
		first := answer(op("hidden-private"), "hidden-private")
		if again := answer(op("hidden-draft"), "hidden-draft"); again != first {
			t.Errorf("the refusals differ by who holds the name:\n%s\n%s", first, again)
		}
	}
	// Nothing was stored for the member.
	mine, err := e.TS.Svc.Skills(context.Background(), a.actor(a.Member, "member"), store.SkillFilter{Author: a.Member.Email, Limit: 50})
	if err != nil || len(mine) != 0 {
		t.Errorf("the member has skills %v after refusals: %v", mine, err)
	}
}
