package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/skillvault/skillvault/internal/service"
)

// TestPageViewIsNotAUse: opening a skill's page counts a view, never a
// use; the page says both, in words.
func TestPageViewIsNotAUse(t *testing.T) {
	e := start(t)
	tn := e.tenant("acme")
	e.publishFiles(tn, tn.Admin, "admin", map[string]string{"SKILL.md": "---\nname: viewed\ndescription: A skill people look at.\n---\n# Viewed\n"}, service.PublishOptions{Visibility: "tenant"})
	b := e.client()
	b.signIn(e.loginLink(tn, tn.Member))
	var body string
	for range 3 {
		p := b.get("/skills/viewed")
		if p.Status != http.StatusOK {
			t.Fatalf("skill page: %d", p.Status)
		}
		body = p.Body
	}
	if !strings.Contains(body, "0 uses · 2 views") {
		t.Errorf("third visit of the page does not say 0 uses and 2 views (the earlier visits)")
	}
	to := time.Now().Add(time.Hour)
	st, err := e.TS.Svc.SkillStats(context.Background(), tn.actor(tn.Member, "member"), "viewed", to.Add(-48*time.Hour), to)
	if err != nil {
		t.Fatal(err)
	}
	if st.Views != 3 || st.Total != 0 || st.InRange != 0 {
		t.Errorf("after 3 page views: views %d, uses %d, uses in range %d; want 3, 0, 0", st.Views, st.Total, st.InRange)
	}
}
