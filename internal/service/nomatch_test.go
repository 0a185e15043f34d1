package service_test

import (
	"context"
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/service"
)

// noMatchSkills are three skills on one topic each, none about containers.
var noMatchSkills = [][3]string{
	{"weekly-sales-report", "Turn CSV exports of orders into a weekly sales summary for the team.", "Group orders by week and region, then write the summary."},
	{"release-notes", "Write release notes from the merged changes of a sprint.", "List features, fixes and breaking changes for users."},
	{"brand-slides", "Apply the company's colours and fonts to presentation slides.", "Use the palette and typefaces of the brand book."},
}

// noMatchQuery is about something none of noMatchSkills covers (issue
// 19: it returned all three, one with a negative score).
const noMatchQuery = "kubernetes helm chart"

// TestSearchNoMatch: a query no skill covers returns no match in hybrid
// and semantic mode, with the nearest skills offered apart and no negative
// score; a query a skill covers returns it and no closest list.
func TestSearchNoMatch(t *testing.T) {
	f := newFixture(t)
	admin, _ := f.tenant(t, "acme")
	ctx := context.Background()
	for _, s := range noMatchSkills {
		f.publish(t, admin, skillFiles(s[0], s[1], s[2]), "tenant")
	}
	f.svc.EmbedDue(ctx)
	for _, mode := range []string{"hybrid", "semantic", "keyword"} {
		res, err := f.svc.SearchWithClosest(ctx, admin, service.SearchQuery{Text: noMatchQuery, Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Hits) != 0 {
			t.Errorf("%s: %q matched %v", mode, noMatchQuery, names(res.Hits))
		}
		if mode != "keyword" && len(res.Closest) == 0 {
			t.Errorf("%s: no closest skills offered", mode)
		}
		for _, h := range res.Closest {
			if h.Score < 0 {
				t.Errorf("%s: closest %s scores %f", mode, h.Name, h.Score)
			}
		}
		res, err = f.svc.SearchWithClosest(ctx, admin, service.SearchQuery{Text: "weekly sales summary of orders", Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Hits) == 0 || res.Hits[0].Name != "weekly-sales-report" || len(res.Closest) != 0 {
			t.Errorf("%s: a covered need: hits %v, closest %v", mode, names(res.Hits), names(res.Closest))
		}
	}
	// A skill whose vector is still pending has no known similarity: its
	// term match stands in hybrid mode.
	f.publish(t, admin, skillFiles("helm-chart-lint", "Lint Kubernetes Helm charts before they are installed.", "Run helm lint."), "tenant")
	res, err := f.svc.SearchWithClosest(ctx, admin, service.SearchQuery{Text: noMatchQuery})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != 1 || res.Hits[0].Name != "helm-chart-lint" || res.Closest != nil {
		t.Errorf("a keyword match awaiting its vector: hits %v, closest %v", names(res.Hits), names(res.Closest))
	}
}

// TestSearchSnippetsArePlainText: a skill written in Markdown yields a
// snippet without its syntax (headings, emphasis, fences, links), with
// the query's words still highlighted.
func TestSearchSnippetsArePlainText(t *testing.T) {
	f := newFixture(t)
	admin, _ := f.tenant(t, "acme")
	ctx := context.Background()
	body := "## Frontend Design\n\n**Identify** the audience first, then pick a [bold palette](https://example.com/p).\n\n```python\nprint('palette')\n```\n\n- choose a *distinctive* typeface\n"
	f.publish(t, admin, skillFiles("frontend-look", "Design distinctive frontends.", body), "tenant")
	f.svc.EmbedDue(ctx)
	hits, err := f.svc.Search(ctx, admin, service.SearchQuery{Text: "identify palette typeface", Mode: "keyword"})
	if err != nil || len(hits) != 1 {
		t.Fatalf("search: %v %v", names(hits), err)
	}
	snip := hits[0].Snippet
	for _, md := range []string{"#", "**", "```", "](", "https://", "\n", "- choose", "*distinctive*"} {
		if strings.Contains(snip, md) {
			t.Errorf("snippet %q holds the Markdown %q", snip, md)
		}
	}
	if !strings.Contains(snip, "<mark>Identify</mark>") || !strings.Contains(snip, "<mark>palette</mark>") {
		t.Errorf("snippet %q lost its highlights", snip)
	}
}

// TestPlainSnippet covers the Markdown PlainSnippet strips.
func TestPlainSnippet(t *testing.T) {
	for in, want := range map[string]string{
		"# Frontend Design\nBuild <mark>pages</mark>":         "Frontend Design Build <mark>pages</mark>",
		"```python\nimport os\n```\nthen **run** it":          "import os then run it",
		"see [the guide](http://x.test/g) and ![logo](l.png)": "see the guide and logo",
		"| a | b |\n|---|---|\n| 1 | 2 |":                     "a b 1 2",
		"> quoted `code` and ~~old~~ text":                    "quoted code and old text",
		"1. first\n2) second\n- [x] done":                     "first second done",
		"keep snake_case names":                               "keep snake_case names",
		"intro text ## Usage here":                            "intro text Usage here",
	} {
		if got := service.PlainSnippet(in); got != want {
			t.Errorf("PlainSnippet(%q) = %q, want %q", in, got, want)
		}
	}
}
