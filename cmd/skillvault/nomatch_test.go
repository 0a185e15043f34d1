package main

import (
	"context"
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/testserver"
)

// TestSearchNoMatchCLI: `skillvault search` for a need no skill covers
// prints no result on stdout and, on stderr, "no skill matches" and the
// closest skills under their own heading; a covered need prints its skill
// on stdout and no such lines.
func TestSearchNoMatchCLI(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	a := s.Tenant("acme")
	member := service.Actor{TenantID: a.ID, UserID: a.Member.ID, Email: a.Member.Email, Role: "member", Scopes: []string{"read", "write"}, Source: "api"}
	for _, sk := range [][2]string{
		{"weekly-sales-report", "Turn CSV exports of orders into a weekly sales summary for the team."},
		{"release-notes", "Write release notes from the merged changes of a sprint."},
		{"brand-slides", "Apply the company's colours and fonts to presentation slides."},
	} {
		md := "---\nname: " + sk[0] + "\ndescription: " + sk[1] + "\n---\n# " + sk[0] + "\n\n" + sk[1] + "\n"
		if _, err := s.Svc.CreateSkill(context.Background(), member, []bundle.File{{Path: "SKILL.md", Data: []byte(md)}}, service.PublishOptions{Publish: true}); err != nil {
			t.Fatal(err)
		}
	}
	s.Svc.EmbedDue(context.Background())
	c := newCLI(t, s.URL, a.Member.Key)
	r := c.must("search", "kubernetes", "helm", "chart")
	if strings.TrimSpace(r.stdout) != "" {
		t.Errorf("stdout holds %q; want no results", r.stdout)
	}
	if !strings.Contains(r.stderr, `no skill matches "kubernetes helm chart"`) || !strings.Contains(r.stderr, "closest skills (not matches):") {
		t.Errorf("stderr %q lacks the message or the closest skills", r.stderr)
	}
	r = c.must("search", "weekly sales summary of orders")
	if !strings.Contains(r.stdout, "weekly-sales-report") || strings.Contains(r.stderr, "no skill matches") || strings.Contains(r.stderr, "closest") {
		t.Errorf("a covered need: %v", r)
	}
}
