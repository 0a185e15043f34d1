package api_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/skillvault/skillvault/internal/testserver"
)

// TestSearchNoMatchAPI: GET /api/v1/search for a need no skill covers
// answers no items, the message "no skill matches" and the closest skills
// in their own field, none with a negative score; a covered need answers
// items and neither field.
func TestSearchNoMatchAPI(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	a := s.Tenant("acme")
	create(t, s, a.Member.Key, describedBundle("weekly-sales-report", "Turn CSV exports of orders into a weekly sales summary for the team."), "?publish=true")
	create(t, s, a.Member.Key, describedBundle("release-notes", "Write release notes from the merged changes of a sprint."), "?publish=true")
	create(t, s, a.Member.Key, describedBundle("brand-slides", "Apply the company's colours and fonts to presentation slides."), "?publish=true")
	s.Svc.EmbedDue(context.Background())
	type answer struct {
		Items   []map[string]any `json:"items"`
		Message string           `json:"message"`
		Closest []map[string]any `json:"closest"`
	}
	for _, mode := range []string{"hybrid", "semantic"} {
		var got answer
		getJSON(t, s, a.Member.Key, "/api/v1/search?mode="+mode+"&q="+url.QueryEscape("kubernetes helm chart"), &got)
		if len(got.Items) != 0 || got.Message != "no skill matches" || len(got.Closest) == 0 {
			t.Errorf("%s: items %v, message %q, closest %v; want no items, the message and closest skills", mode, got.Items, got.Message, got.Closest)
		}
		for _, c := range got.Closest {
			if c["score"].(float64) < 0 || c["name"] == "" {
				t.Errorf("%s: closest %v", mode, c)
			}
		}
		got = answer{}
		getJSON(t, s, a.Member.Key, "/api/v1/search?mode="+mode+"&q="+url.QueryEscape("weekly sales summary of orders"), &got)
		if len(got.Items) == 0 || got.Items[0]["name"] != "weekly-sales-report" || got.Message != "" || got.Closest != nil {
			t.Errorf("%s: a covered need: %+v", mode, got)
		}
		for _, h := range got.Items {
			if h["score"].(float64) < 0 || h["matched"] == nil {
				t.Errorf("%s: hit %v lacks a positive score or its reasons", mode, h)
			}
		}
	}
}
