package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/service"
)

// TestReviewQueue: with review required, a member's publication waits in
// the queue; an admin approves one (it is published) and rejects another
// with a reason (it goes back to draft). Both are audited; members cannot
// decide.
func TestReviewQueue(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	a := e.tenant("acme")
	on := true
	if _, err := e.TS.Svc.UpdateSettings(ctx, service.System(a.ID), service.SettingsPatch{RequireReview: &on}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"good-skill", "weak-skill"} {
		e.publishFiles(a, a.Member, "member", map[string]string{"SKILL.md": "---\nname: " + n + "\ndescription: The " + n + " does a thing when asked.\n---\n# " + n + "\n"},
			service.PublishOptions{Publish: true})
	}
	adm := e.client()
	adm.signIn(e.loginLink(a, a.Admin))
	q := adm.get("/admin/reviews")
	if q.Status != 200 || !strings.Contains(q.Body, "good-skill") || !strings.Contains(q.Body, "weak-skill") {
		t.Fatalf("review queue: %d", q.Status)
	}
	// The builtin reviewer's scores show in the queue.
	if !strings.Contains(q.Body, "builtin-v2") || !strings.Contains(q.Body, "Safety") {
		t.Error("the queue does not show the reviews")
	}
	tok := adm.csrf()
	if p := adm.do("POST", "/admin/reviews/weak-skill", url.Values{"csrf": {tok}, "decision": {"reject"}}); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "needs a reason") {
		t.Errorf("reject without reason: %d", p.Status)
	}
	if p := adm.do("POST", "/admin/reviews/good-skill", url.Values{"csrf": {tok}, "decision": {"approve"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("approve: %d %s", p.Status, p.Body)
	}
	if p := adm.do("POST", "/admin/reviews/weak-skill", url.Values{"csrf": {tok}, "decision": {"reject"}, "reason": {"Say when to use it."}}); p.Status != http.StatusSeeOther {
		t.Fatalf("reject: %d %s", p.Status, p.Body)
	}
	for name, want := range map[string]string{"good-skill": "published", "weak-skill": "draft"} {
		sk, err := e.TS.Svc.Skill(ctx, service.System(a.ID), name)
		if err != nil || sk.Status != want {
			t.Errorf("%s is %q (%v), want %s", name, sk.Status, err, want)
		}
	}
	if q := adm.get("/admin/reviews"); strings.Contains(q.Body, "good-skill") || !strings.Contains(q.Body, "Nothing is waiting") {
		t.Error("decided skills are still in the queue")
	}
	rej := auditActions(t, e, a, "skill.review_reject")
	if len(rej) != 1 || !strings.Contains(string(rej[0].Details), "Say when to use it.") || len(auditActions(t, e, a, "skill.review_approve")) != 1 {
		t.Errorf("review decisions audited: %d rejections %v", len(rej), rej)
	}
	mem := e.client()
	mem.signIn(e.loginLink(a, a.Member))
	if p := mem.do("POST", "/admin/reviews/weak-skill", url.Values{"csrf": {mem.csrf()}, "decision": {"approve"}}); p.Status != http.StatusForbidden {
		t.Errorf("member decides a review: %d", p.Status)
	}
}
