package service_test

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/store"
)

// privateRankQuery is a query the private skill of privateRankSetup
// answers best, in every mode.
const privateRankQuery = "rotate kafka broker credentials"

// privateRankSetup makes tenant acme where member A1 and the admin publish
// tenant-visible skills about Kafka, and member A2 a private skill that
// is the best match for privateRankQuery.
func privateRankSetup(t *testing.T, f *fixture) (admin, a1, a2 service.Actor) {
	t.Helper()
	admin, a1 = f.tenant(t, "acme")
	a2 = f.addMember(t, admin, "a2@acme.test")
	f.publish(t, a1, skillFiles("kafka-consumer-lag", "Tune Kafka consumer lag and partition rebalancing.", "Kafka consumers and brokers."), "tenant")
	f.publish(t, admin, skillFiles("kafka-topic-design", "Design Kafka topics, partitions and retention.", "Kafka topics on brokers."), "tenant")
	f.publish(t, a1, skillFiles("kafka-schema-registry", "Evolve Avro schemas in a Kafka schema registry.", "Kafka schemas."), "tenant")
	f.publish(t, a2, skillFiles("kafka-credential-rotation", "Rotate Kafka broker credentials and client secrets.",
		"Rotate the Kafka broker credentials: new SASL credentials for every broker, then rotate client secrets."), "private")
	f.svc.EmbedDue(context.Background())
	return admin, a1, a2
}

var matchedRE = regexp.MustCompile(`^(keyword|semantic) #(\d+) \(`)

// checkRanks fails unless, for each kind of list, the ranks the hits
// report are 1, 2, 3, … with no gap.
func checkRanks(t *testing.T, what string, hits []service.SearchHit) {
	t.Helper()
	ranks := map[string][]int{}
	for _, h := range hits {
		for _, m := range h.Matched {
			g := matchedRE.FindStringSubmatch(m)
			if g == nil {
				t.Fatalf("%s: matched %q has no rank", what, m)
			}
			n, _ := strconv.Atoi(g[2])
			ranks[g[1]] = append(ranks[g[1]], n)
		}
	}
	if len(ranks) == 0 {
		t.Fatalf("%s: no hit reports a rank: %+v", what, hits)
	}
	for kind, rs := range ranks {
		slices.Sort(rs)
		for i, n := range rs {
			if n != i+1 {
				t.Errorf("%s: %s ranks %v, want 1 to %d (a hidden skill took a place)", what, kind, rs, len(rs))
				break
			}
		}
	}
}

// TestSearchRanksOnlyVisible: a member's results are ranked among the
// skills they may see. Another member's private skill that is the best
// match changes nothing of the answer (names, order, ranks, scores,
// snippets): the answer is the same byte for byte after it is deleted.
func TestSearchRanksOnlyVisible(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin, a1, a2 := privateRankSetup(t, f)
	for _, mode := range []string{"keyword", "semantic", "hybrid"} {
		// The private skill is the best match for those who may see it.
		hits, err := f.svc.Search(ctx, admin, service.SearchQuery{Text: privateRankQuery, Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) < 4 || hits[0].Name != "kafka-credential-rotation" {
			t.Fatalf("%s: the admin's results %v do not start with the private skill: the test proves nothing", mode, names(hits))
		}
	}
	before := map[string][]byte{}
	for _, mode := range []string{"keyword", "semantic", "hybrid"} {
		hits, err := f.svc.Search(ctx, a1, service.SearchQuery{Text: privateRankQuery, Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) != 3 || slices.Contains(names(hits), "kafka-credential-rotation") {
			t.Fatalf("%s: member's results %v", mode, names(hits))
		}
		checkRanks(t, mode, hits)
		before[mode], _ = json.Marshal(hits)
	}
	if err := f.svc.DeleteSkill(ctx, a2, "kafka-credential-rotation"); err != nil {
		t.Fatal(err)
	}
	// The cached vectors still hold the deleted skill's vector (a delete
	// does not move the stamp); a fresh process has never seen it.
	fresh := service.New(f.env.DB, service.Options{})
	for _, svc := range []*service.Service{f.svc, fresh} {
		for _, mode := range []string{"keyword", "semantic", "hybrid"} {
			hits, err := svc.Search(ctx, a1, service.SearchQuery{Text: privateRankQuery, Mode: mode})
			if err != nil {
				t.Fatal(err)
			}
			if after, _ := json.Marshal(hits); string(after) != string(before[mode]) {
				t.Errorf("%s: the member's answer depended on the private skill:\nwith it:    %s\nwithout it: %s", mode, before[mode], after)
			}
		}
	}
}

// TestSearchRefusesBadPages: a negative or huge offset (a forged cursor
// reaching the service from any interface) and text that is not UTF-8
// are invalid requests, not panics or database errors.
func TestSearchRefusesBadPages(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin, _ := f.tenant(t, "acme")
	f.publish(t, admin, skillFiles("pdf-forms", "Fill in PDF forms.", "PDF forms."), "tenant")
	f.svc.EmbedDue(ctx)
	for _, mode := range []string{"keyword", "semantic", "hybrid"} {
		for _, sq := range []service.SearchQuery{
			{Text: "pdf", Offset: -5}, {Text: "pdf", Offset: -1 << 62}, {Text: "pdf", Offset: 1 << 62}, {Text: "pdf\xc3"}, {Text: "\xff"},
		} {
			sq.Mode = mode
			if _, err := f.svc.Search(ctx, admin, sq); service.KindOf(err) != service.Invalid {
				t.Errorf("%s offset %d text %q: %v, want invalid", mode, sq.Offset, sq.Text, err)
			}
		}
	}
	for _, o := range []int{-5, -1 << 62} {
		if _, err := f.svc.Skills(ctx, admin, store.SkillFilter{Offset: o, Limit: 10}); service.KindOf(err) != service.Invalid {
			t.Errorf("skills offset %d: %v, want invalid", o, err)
		}
	}
	if got := service.CutText("aé", 2); got != "a" {
		t.Errorf("CutText split a character: %q", got)
	}
}
