package mcpserver_test

import (
	"context"
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/dbtest"
	"github.com/skillvault/skillvault/internal/mcpserver"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/testserver"
)

// TestPublishSkillQuotas: publish_skill goes through the same quotas as
// the REST API; a refusal names the quota and stores nothing.
func TestPublishSkillQuotas(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{Mount: testserver.MountMCP, Service: service.Options{Quotas: service.Quotas{Bytes: 4096, Skills: 1, Versions: 1}}})
	tn := s.Tenant("acme")
	cs := connect(t, s, tn.Member.Key)
	md := func(name, extra string) string {
		return "---\nname: " + name + "\ndescription: A skill named " + name + ".\n---\n# " + name + "\n" + extra
	}
	versions := func() int {
		var n int
		conn := dbtest.Connect(t, s.Env.AdminURL)
		if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM skill_versions WHERE tenant_id = $1", tn.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	call[mcpserver.PublishOutput](t, cs, "publish_skill", map[string]any{"files": []map[string]any{{"path": "SKILL.md", "content": md("first", "")}}})
	for _, c := range []struct {
		content, want string
	}{
		{md("second", ""), "skills quota"},
		{md("first", "more\n"), "versions quota"},
	} {
		msg := callErr(t, cs, "publish_skill", map[string]any{"files": []map[string]any{{"path": "SKILL.md", "content": c.content}}})
		wantContains(t, "quota refusal", msg, "conflict", c.want)
	}
	if n := versions(); n != 1 {
		t.Errorf("%d versions stored after the refusals, want 1", n)
	}

	other := s.Tenant("bytes-co")
	cs = connect(t, s, other.Member.Key)
	msg := callErr(t, cs, "publish_skill", map[string]any{"files": []map[string]any{
		{"path": "SKILL.md", "content": md("big", strings.Repeat("x", 5000))}}})
	wantContains(t, "bytes quota", msg, "too large", "bytes quota")
}
