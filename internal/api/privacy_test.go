package api_test

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/testserver"
)

const privateRankQuery = "rotate kafka broker credentials"

var rankRE = regexp.MustCompile(`"(keyword|semantic) #(\d+) \(`)

// TestSearchRanksOnlyVisible (REST): a member's /api/v1/search answer is
// ranked among the skills they may see: ranks start at 1 with no gap,
// and the answer (names, order, ranks, scores, snippets, next cursor) is
// byte for byte the same before and after another member publishes a
// private skill that is the best match, and after it is deleted.
func TestSearchRanksOnlyVisible(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	a := s.Tenant("acme")
	a2 := s.User(a.ID, "a2@acme.example", "member", "read", "write")
	create(t, s, a.Member.Key, describedBundle("kafka-consumer-lag", "Tune Kafka consumer lag and partition rebalancing."), "?publish=true")
	create(t, s, a.Admin.Key, describedBundle("kafka-topic-design", "Design Kafka topics, partitions and retention."), "?publish=true")
	create(t, s, a.Member.Key, describedBundle("kafka-schema-registry", "Evolve Avro schemas in a Kafka schema registry."), "?publish=true")
	s.Svc.EmbedDue(context.Background())
	var paths []string
	for _, mode := range []string{"keyword", "semantic", "hybrid"} {
		for _, limit := range []string{"1", "2", "20"} {
			paths = append(paths, "/api/v1/search?q="+strings.ReplaceAll(privateRankQuery, " ", "+")+"&mode="+mode+"&limit="+limit)
		}
	}
	answers := func() map[string]string {
		out := map[string]string{}
		for _, p := range paths {
			r := s.Do("GET", p, a.Member.Key, nil)
			wantStatus(t, r, http.StatusOK)
			out[p] = string(r.Body)
		}
		return out
	}
	without := answers()

	create(t, s, a2.Key, describedBundle("kafka-credential-rotation", "Rotate Kafka broker credentials and client secrets."), "?publish=true&visibility=private")
	s.Svc.EmbedDue(context.Background())
	// The premise: the private skill is the best match for its author.
	for _, p := range paths {
		var pg page[map[string]any]
		getJSON(t, s, a2.Key, p, &pg)
		if len(pg.Items) == 0 || pg.Items[0]["name"] != "kafka-credential-rotation" {
			t.Fatalf("%s: the author's results do not start with the private skill; the test proves nothing", p)
		}
	}
	with := answers()
	for _, p := range paths {
		body := with[p]
		if body != without[p] {
			t.Errorf("%s: the member's answer depends on the private skill:\nwithout it: %s\nwith it:    %s", p, without[p], body)
		}
		if !strings.HasSuffix(p, "limit=20") {
			continue // a short page holds some of the ranks only
		}
		ranks := map[string][]int{}
		for _, m := range rankRE.FindAllStringSubmatch(body, -1) {
			n, _ := strconv.Atoi(m[2])
			ranks[m[1]] = append(ranks[m[1]], n)
		}
		if len(ranks) == 0 {
			t.Fatalf("%s: no ranks in %s", p, body)
		}
		for kind, rs := range ranks {
			slices.Sort(rs)
			if rs[0] != 1 || rs[len(rs)-1] != len(rs) {
				t.Errorf("%s: %s ranks %v, want 1 to %d", p, kind, rs, len(rs))
			}
		}
	}
	// Deleted, its vector stays cached a while; nothing changes either.
	wantStatus(t, s.Do("DELETE", "/api/v1/skills/kafka-credential-rotation", a2.Key, nil), http.StatusNoContent)
	for p, body := range answers() {
		if body != without[p] {
			t.Errorf("%s: after the private skill was deleted:\nbefore: %s\nafter:  %s", p, without[p], body)
		}
	}
}

// TestNameConflictIsNeutral: uploading or forking under a name another
// member's hidden skill (private, or a draft) holds is a 409 whose body
// does not say a skill holds it, and is the same for every hidden holder;
// a name held by a skill the caller can see keeps the helpful answer.
// Nothing is stored either way.
func TestNameConflictIsNeutral(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	a := s.Tenant("acme")
	a2 := s.User(a.ID, "a2@acme.example", "member", "read", "write")
	create(t, s, a2.Key, describedBundle("hidden-private", "A2's private plan."), "?publish=true&visibility=private")
	create(t, s, a2.Key, describedBundle("hidden-draft", "A2's draft plan."), "")
	create(t, s, a.Admin.Key, describedBundle("hidden-admin", "The admin's private plan."), "?publish=true&visibility=private")
	create(t, s, a.Admin.Key, describedBundle("shared-plan", "A plan everyone sees."), "?publish=true")
	counts := tenantCounts(t, s, a.ID)

	// neutral returns the parts of a refusal that must not depend on
	// who holds the name: status, content type, and the body with the
	// name and the request id taken out.
	neutral := func(r *testserver.Response, name string) string {
		p := wantProblem(t, r, http.StatusConflict, "/problems/conflict")
		for _, leak := range []string{"exists", "skill named", "/versions", "private", "draft", "author"} {
			if strings.Contains(strings.ToLower(strings.ReplaceAll(p.Detail, name, "NAME")), leak) {
				t.Errorf("refusal for %s says %q: %s", name, leak, p.Detail)
			}
		}
		body := strings.ReplaceAll(string(r.Body), p.Instance, "ID")
		return strconv.Itoa(r.Status) + r.Header.Get("Content-Type") + strings.ReplaceAll(body, name, "NAME")
	}
	var answers []string
	for _, name := range []string{"hidden-private", "hidden-draft", "hidden-admin"} {
		answers = append(answers,
			neutral(upload(s, a.Member.Key, "/api/v1/skills", "application/zip", zipBytes(t, describedBundle(name, "Mine."))), name),
			neutral(upload(s, a.Member.Key, "/api/v1/skills?publish=true&visibility=private", "application/zip", zipBytes(t, describedBundle(name, "Mine."))), name),
			neutral(s.Do("POST", "/api/v1/skills/shared-plan/fork", a.Member.Key, map[string]any{"name": name}), name))
	}
	for _, ans := range answers[1:] {
		if ans != answers[0] {
			t.Errorf("refusals differ by who holds the name:\n%s\n%s", answers[0], ans)
		}
	}
	// A name the caller can see: the helpful answers.
	p := wantProblem(t, upload(s, a.Member.Key, "/api/v1/skills", "application/zip", zipBytes(t, describedBundle("shared-plan", "Mine."))),
		http.StatusConflict, "/problems/conflict")
	if !strings.Contains(p.Detail, "a skill named shared-plan exists") || !strings.Contains(p.Detail, "/api/v1/skills/shared-plan/versions") {
		t.Errorf("conflict with a visible skill: %q", p.Detail)
	}
	create(t, s, a.Member.Key, describedBundle("my-plan", "Mine."), "")
	counts.Skills, counts.Versions, counts.Blobs, counts.Files = counts.Skills+1, counts.Versions+1, counts.Blobs+1, counts.Files+1
	p = wantProblem(t, s.Do("POST", "/api/v1/skills/shared-plan/fork", a.Member.Key, map[string]any{"name": "my-plan"}), http.StatusConflict, "/problems/conflict")
	if !strings.Contains(p.Detail, "a skill named my-plan exists") {
		t.Errorf("fork onto a visible skill: %q", p.Detail)
	}
	if got := tenantCounts(t, s, a.ID); got != counts {
		t.Errorf("refused uploads changed the tenant: %+v, want %+v", got, counts)
	}
	// The holders' skills are untouched.
	for _, name := range []string{"hidden-private", "hidden-draft"} {
		var sk skillJSON
		getJSON(t, s, a2.Key, "/api/v1/skills/"+name, &sk)
		if sk.LatestVersion != 1 {
			t.Errorf("%s changed: %+v", name, sk)
		}
	}
}
