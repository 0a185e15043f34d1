package mcpserver_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/mcpserver"
	"github.com/skillvault/skillvault/internal/service"
)

// TestSearchRanksOnlyVisibleMCP: search_skills answers a member the same
// before and after another member publishes a private skill that is the
// best match (the order of the hybrid fusion depended on it).
func TestSearchRanksOnlyVisibleMCP(t *testing.T) {
	s := start(t)
	a := s.Tenant("acme")
	a2 := s.User(a.ID, "a2@acme.example", "member", "read", "write")
	files := func(name, desc, body string) []bundle.File {
		return []bundle.File{{Path: "SKILL.md", Data: []byte("---\nname: " + name + "\ndescription: " + desc + "\n---\n# " + name + "\n\n" + body + "\n")}}
	}
	publish(t, s, a.Member.Key, files("kafka-consumer-lag", "Tune Kafka consumer lag and partition rebalancing.", "Kafka consumers and brokers."), "tenant")
	publish(t, s, a.Admin.Key, files("kafka-topic-design", "Design Kafka topics, partitions and retention.", "Kafka topics on brokers."), "tenant")
	publish(t, s, a.Member.Key, files("kafka-schema-registry", "Evolve Avro schemas in a Kafka schema registry.", "Kafka schemas."), "tenant")
	s.Svc.EmbedDue(context.Background())
	args := map[string]any{"query": "rotate kafka broker credentials"}
	search := func(key string) string {
		out := call[mcpserver.SearchOutput](t, connect(t, s, key), "search_skills", args)
		data, _ := json.Marshal(out)
		return string(data)
	}
	without := search(a.Member.Key)
	publish(t, s, a2.Key, files("kafka-credential-rotation", "Rotate Kafka broker credentials and client secrets.",
		"Rotate the Kafka broker credentials: new SASL credentials for every broker, then rotate client secrets."), "private")
	s.Svc.EmbedDue(context.Background())
	if got := search(a2.Key); !strings.HasPrefix(got, `{"skills":[{"name":"kafka-credential-rotation"`) {
		t.Fatalf("the author's results do not start with the private skill; the test proves nothing: %s", got)
	}
	if with := search(a.Member.Key); with != without {
		t.Errorf("the member's answer depends on the private skill:\nwithout: %s\nwith:    %s", without, with)
	}
}

// TestForgedCursorsMCP: list_skills and resources/list refuse a cursor
// they did not make (the reported negative offset, zero, null) with an
// invalid-input error, and still page with their own.
func TestForgedCursorsMCP(t *testing.T) {
	s := start(t)
	a := s.Tenant("acme")
	for _, n := range []string{"one-skill", "two-skill"} {
		publish(t, s, a.Member.Key, skillFiles(n, "A skill called "+n+"."), "tenant")
	}
	cs := connect(t, s, a.Member.Key)
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, c := range []string{"LTU", b64("-5"), b64("0"), b64("null"), b64("{}"), b64("1e3"), "!!"} {
		msg := callErr(t, cs, "list_skills", map[string]any{"cursor": c})
		if !strings.Contains(msg, "cursor") {
			t.Errorf("list_skills cursor=%s: %q does not name the cursor", c, msg)
		}
		if _, err := cs.ListResources(ctxT(t), &mcp.ListResourcesParams{Cursor: c}); err == nil || !strings.Contains(err.Error(), "cursor") {
			t.Errorf("resources/list cursor=%s: %v, want a cursor error", c, err)
		}
	}
	// Its own cursors still page.
	first := call[mcpserver.ListOutput](t, cs, "list_skills", nil)
	if first.NextCursor != "" {
		next := call[mcpserver.ListOutput](t, cs, "list_skills", map[string]any{"cursor": first.NextCursor})
		if len(next.Skills) == 0 {
			t.Error("the next page is empty")
		}
	}
}

// TestNameConflictIsNeutralMCP: publish_skill under the name of another
// member's private skill or draft says the name is not available, the
// same for both, and not that a skill holds it.
func TestNameConflictIsNeutralMCP(t *testing.T) {
	s := start(t)
	a := s.Tenant("acme")
	a2 := s.User(a.ID, "a2@acme.example", "member", "read", "write")
	publish(t, s, a2.Key, skillFiles("hidden-private", "A2's private plan."), "private")
	if _, err := s.Svc.CreateSkill(context.Background(), actor(t, s, a2.Key), skillFiles("hidden-draft", "A2's draft."), service.PublishOptions{Visibility: "private"}); err != nil {
		t.Fatal(err)
	}
	cs := connect(t, s, a.Member.Key)
	answer := func(name string) string {
		msg := callErr(t, cs, "publish_skill", map[string]any{"files": []map[string]any{
			{"path": "SKILL.md", "content": "---\nname: " + name + "\ndescription: Mine.\n---\n# " + name + "\n"}}})
		for _, leak := range []string{"exists", "skill named", "/versions"} {
			if strings.Contains(msg, leak) {
				t.Errorf("publish_skill %s: %q says %q", name, msg, leak)
			}
		}
		if !strings.Contains(msg, "not available") {
			t.Errorf("publish_skill %s: %q", name, msg)
		}
		return strings.ReplaceAll(msg, name, "NAME")
	}
	if p, d := answer("hidden-private"), answer("hidden-draft"); p != d {
		t.Errorf("the answers differ by who holds the name:\n%s\n%s", p, d)
	}
}
