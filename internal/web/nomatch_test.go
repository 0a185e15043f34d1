package web

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/service"
)

// TestSearchPageNoMatch: the search page for a need no skill covers says
// "No skill matches" and lists the closest skills in their own section,
// not as results; for a covered need the result shows why it matched only
// inside a "why" disclosure, and its snippet carries no Markdown.
func TestSearchPageNoMatch(t *testing.T) {
	e := start(t)
	a := e.tenant("acme")
	skill := func(name, desc, body string) map[string]string {
		return map[string]string{"SKILL.md": "---\nname: " + name + "\ndescription: " + desc + "\n---\n" + body + "\n"}
	}
	e.publishFiles(a, a.Member, "member", skill("weekly-sales-report", "Turn CSV exports of orders into a weekly sales summary for the team.",
		"# Weekly Sales Report\n\n**Group** the orders by week:\n\n```python\norders.groupby('week')\n```"), service.PublishOptions{})
	e.publishFiles(a, a.Member, "member", skill("release-notes", "Write release notes from the merged changes of a sprint.", "# Release notes"), service.PublishOptions{})
	e.publishFiles(a, a.Member, "member", skill("brand-slides", "Apply the company's colours and fonts to presentation slides.", "# Brand slides"), service.PublishOptions{})
	e.TS.Svc.EmbedDue(context.Background())
	b := e.client()
	b.signIn(e.loginLink(a, a.Member))
	main := func(q string) string {
		p := b.get("/search?q=" + url.QueryEscape(q))
		if p.Status != 200 {
			t.Fatalf("search %q: %d %s", q, p.Status, p.Body)
		}
		return mainRE.FindString(p.Body)
	}
	body := main("kubernetes helm chart")
	results, closest, _ := strings.Cut(body, `class="closest"`)
	if !strings.Contains(results, "No skill matches") || strings.Contains(results, `class="result"`) {
		t.Errorf("no-match page does not say so, or lists results: %s", body)
	}
	if !strings.Contains(closest, "Closest skills") || !strings.Contains(closest, "/skills/") {
		t.Errorf("no-match page offers no closest skills apart: %s", body)
	}
	body = main("weekly sales summary of orders")
	if !strings.Contains(body, "/skills/weekly-sales-report") || strings.Contains(body, "No skill matches") {
		t.Fatalf("covered need: %s", body)
	}
	before, why, ok := strings.Cut(body, `<details class="why`)
	if !ok || !strings.Contains(why, "Why this result?") || !strings.Contains(why, "Similar meaning: #1") {
		t.Errorf("no why disclosure: %s", body)
	}
	if strings.Contains(before, "#1 (") || strings.Contains(before, "keyword #") || strings.Contains(before, "semantic #") {
		t.Errorf("scoring shown outside the disclosure: %s", before)
	}
	if strings.Contains(body, "```") || strings.Contains(body, "**Group") || strings.Contains(body, "# Weekly") {
		t.Errorf("the snippet shows Markdown: %s", body)
	}
}
