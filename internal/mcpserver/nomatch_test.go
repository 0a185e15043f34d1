package mcpserver_test

import (
	"context"
	"testing"

	"github.com/skillvault/skillvault/internal/mcpserver"
)

// TestSearchNoMatchMCP: search_skills for a need no skill covers answers
// no skills, a "no skill matches" message and the closest skills apart; a
// covered need answers skills and neither.
func TestSearchNoMatchMCP(t *testing.T) {
	s := start(t)
	a := s.Tenant("acme")
	publish(t, s, a.Member.Key, skillFiles("weekly-sales-report", "Turn CSV exports of orders into a weekly sales summary for the team."), "tenant")
	publish(t, s, a.Member.Key, skillFiles("release-notes", "Write release notes from the merged changes of a sprint."), "tenant")
	publish(t, s, a.Member.Key, skillFiles("brand-slides", "Apply the company's colours and fonts to presentation slides."), "tenant")
	s.Svc.EmbedDue(context.Background())
	cs := connect(t, s, a.Member.Key)
	out := call[mcpserver.SearchOutput](t, cs, "search_skills", map[string]any{"query": "kubernetes helm chart"})
	if len(out.Skills) != 0 || out.Message != `no skill matches "kubernetes helm chart"` || len(out.Closest) == 0 {
		t.Errorf("no match: %+v", out)
	}
	out = call[mcpserver.SearchOutput](t, cs, "search_skills", map[string]any{"query": "weekly sales summary of orders"})
	if len(out.Skills) == 0 || out.Skills[0].Name != "weekly-sales-report" || out.Message != "" || out.Closest != nil {
		t.Errorf("a covered need: %+v", out)
	}
}
