package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/dbtest"
	"github.com/skillvault/skillvault/internal/embed/embedtest"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/store"
)

type fixture struct {
	env *dbtest.Env
	svc *service.Service
}

func newFixture(t *testing.T) *fixture {
	env := dbtest.New(t)
	return &fixture{env: env, svc: service.New(env.DB, service.Options{})}
}

// tenant creates a tenant with an admin and a member and returns actors
// for both.
func (f *fixture) tenant(t *testing.T, slug string) (admin, member service.Actor) {
	t.Helper()
	ctx := context.Background()
	o, err := database.OpenOwner(ctx, f.env.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	tn, err := o.CreateTenant(ctx, database.NewTenant{Slug: slug})
	o.Close()
	if err != nil {
		t.Fatal(err)
	}
	sys := service.System(tn.ID)
	if err := f.svc.EnsureTenant(ctx, sys); err != nil {
		t.Fatal(err)
	}
	actor := func(email, role string) service.Actor {
		u, err := f.svc.CreateUser(ctx, sys, service.NewUser{Email: email, Role: role})
		if err != nil {
			t.Fatal(err)
		}
		scopes := []string{"read", "write"}
		if role == "admin" {
			scopes = append(scopes, "admin")
		}
		return service.Actor{TenantID: tn.ID, UserID: u.ID, Email: email, Role: role, Scopes: scopes, Source: "api"}
	}
	return actor("admin@"+slug+".test", "admin"), actor("member@"+slug+".test", "member")
}

func (f *fixture) publish(t *testing.T, a service.Actor, files []bundle.File, visibility string) {
	t.Helper()
	_, err := f.svc.CreateSkill(context.Background(), a, files, service.PublishOptions{Publish: true, Visibility: visibility})
	if err != nil {
		t.Fatal(err)
	}
}

// skillFiles makes a small bundle.
func skillFiles(name, description, body string) []bundle.File {
	md := fmt.Sprintf("---\nname: %s\ndescription: %s\n---\n# %s\n\n%s\n", name, description, name, body)
	return []bundle.File{{Path: "SKILL.md", Data: []byte(md)}}
}

func names(hits []service.SearchHit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.Name)
	}
	return out
}

// TestSearchRelevance measures recall@1, recall@3 and MRR over the
// relevance set (the real corpus, the project's fixtures and the search
// fixtures; embedtest) for keyword, semantic, plain RRF and score-aware
// fusion, and holds hybrid search to floors a little under what it
// reaches (BENCHMARKS.md, "Search relevance").
func TestSearchRelevance(t *testing.T) {
	skills := embedtest.RelevanceSet(t)
	f := newFixture(t)
	admin, _ := f.tenant(t, "acme")
	ctx := context.Background()
	loaded := map[string]bool{}
	for _, s := range skills {
		f.publish(t, admin, s.Files, "tenant")
		loaded[s.Frontmatter.Name] = true
	}
	if n := f.svc.EmbedDue(ctx); n != len(skills) {
		t.Fatalf("embedded %d skills, want %d", n, len(skills))
	}
	var queries []embedtest.Query
	for _, q := range embedtest.Queries {
		if !loaded[q.Want] {
			t.Fatalf("query %q wants %s, which the relevance set lacks", q.Query, q.Want)
		}
		queries = append(queries, q)
	}
	if len(queries) < 60 || len(skills) < 80 {
		t.Fatalf("the relevance set has %d queries over %d skills; want at least 60 over 80", len(queries), len(skills))
	}
	type result struct{ r1, r3, mrr float64 }
	results := map[string]result{}
	for _, mode := range []string{"keyword", "semantic", "rrf", "hybrid"} {
		var rankings [][]string
		for _, q := range queries {
			sq := service.SearchQuery{Text: q.Query, Mode: mode, Limit: 10}
			if mode == "rrf" {
				sq = service.UseRRF(service.SearchQuery{Text: q.Query, Mode: "hybrid", Limit: 10})
			}
			hits, err := f.svc.Search(ctx, admin, sq)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range hits {
				if h.Score < 0 {
					t.Errorf("%s %q: %s has the negative score %f", mode, q.Query, h.Name, h.Score)
				}
			}
			rankings = append(rankings, names(hits))
		}
		r := result{embedtest.Recall(queries, rankings, 1), embedtest.Recall(queries, rankings, 3), embedtest.MRR(queries, rankings)}
		results[mode] = r
		t.Logf("%-8s recall@1 %.2f  recall@3 %.2f  MRR %.3f  (%d queries, %d skills)", mode, r.r1, r.r3, r.mrr, len(queries), len(skills))
	}
	if h := results["hybrid"]; h.r3 < hybridRecall3Floor || h.mrr < hybridMRRFloor {
		t.Errorf("hybrid recall@3 %.2f, MRR %.3f; want at least %.2f and %.3f", h.r3, h.mrr, hybridRecall3Floor, hybridMRRFloor)
	}
	if h, r := results["hybrid"], results["rrf"]; h.r3 < r.r3 || h.mrr < r.mrr {
		t.Errorf("score-aware fusion (recall@3 %.2f, MRR %.3f) is behind plain RRF (%.2f, %.3f)", h.r3, h.mrr, r.r3, r.mrr)
	}
	// Needs no skill covers: the builtin embedder tells too few of them
	// from real needs by similarity alone (BENCHMARKS.md), so the floor
	// holds the share it reaches; those rejected offer the closest skills
	// apart, and no score is negative.
	rejected := 0
	for _, q := range embedtest.NoMatch {
		res, err := f.svc.SearchWithClosest(ctx, admin, service.SearchQuery{Text: q})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Hits) == 0 {
			rejected++
			if len(res.Closest) == 0 {
				t.Errorf("%q matches nothing but offers no closest skills", q)
			}
		} else {
			t.Logf("unrelated need %q matched %v", q, names(res.Hits))
		}
		for _, h := range append(res.Hits, res.Closest...) {
			if h.Score < 0 {
				t.Errorf("%q: %s has the negative score %f", q, h.Name, h.Score)
			}
		}
	}
	t.Logf("%d of %d unrelated needs match nothing", rejected, len(embedtest.NoMatch))
	if rejected < noMatchFloor {
		t.Errorf("%d of %d unrelated needs match nothing; want at least %d", rejected, len(embedtest.NoMatch), noMatchFloor)
	}
}

// Floors of the relevance test: a little under the figures of
// BENCHMARKS.md, so a change that loses a query or two fails.
const (
	hybridRecall3Floor = 0.65
	hybridMRRFloor     = 0.57
	noMatchFloor       = 3
)

// TestSearchIsolation: no mode ever returns another tenant's skill or
// another member's private skill, also after the other tenant's vectors
// are cached.
func TestSearchIsolation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	aAdmin, aMember := f.tenant(t, "alpha")
	bAdmin, bMember := f.tenant(t, "beta")
	f.publish(t, aAdmin, skillFiles("kafka-consumer-tuning", "Tune Kafka consumer lag and partition rebalancing. Use for Kafka streaming issues.", "Kafka consumers, partitions, lag."), "tenant")
	f.publish(t, aMember, skillFiles("kafka-secret-notes", "Private notes about Kafka broker credentials rotation.", "Kafka brokers."), "private")
	f.publish(t, bAdmin, skillFiles("garden-watering", "Plan watering for a vegetable garden. Use for gardening.", "Tomatoes and beans."), "tenant")
	f.svc.EmbedDue(ctx)
	for _, mode := range []string{"keyword", "semantic", "hybrid"} {
		// Populate A's cache first.
		hits, err := f.svc.Search(ctx, aAdmin, service.SearchQuery{Text: "kafka consumer lag", Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) == 0 || hits[0].Name != "kafka-consumer-tuning" {
			t.Fatalf("%s: tenant A's own search: %v", mode, names(hits))
		}
		for _, b := range []service.Actor{bAdmin, bMember} {
			hits, err := f.svc.Search(ctx, b, service.SearchQuery{Text: "kafka consumer lag broker credentials", Mode: mode})
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range hits {
				if strings.HasPrefix(h.Name, "kafka") {
					t.Errorf("%s: tenant B found tenant A's %s", mode, h.Name)
				}
			}
		}
		// Tenant A's admin sees the member's private skill; another
		// member would not (the admin is the only other user here, so
		// check a second member).
		_ = aMember
	}
	other := f.addMember(t, aAdmin, "other@alpha.test")
	for _, mode := range []string{"keyword", "semantic", "hybrid"} {
		hits, err := f.svc.Search(ctx, other, service.SearchQuery{Text: "kafka broker credentials rotation notes", Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hits {
			if h.Name == "kafka-secret-notes" {
				t.Errorf("%s: a member found another member's private skill", mode)
			}
		}
		hits, err = f.svc.Search(ctx, aMember, service.SearchQuery{Text: "kafka broker credentials rotation notes", Mode: mode})
		if err != nil || len(hits) == 0 {
			t.Fatalf("%s: the author cannot find their own private skill: %v %v", mode, names(hits), err)
		}
	}
	// Similar skills stay inside the tenant too.
	sim, err := f.svc.Similar(ctx, bAdmin, "garden-watering", 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range sim {
		if strings.HasPrefix(h.Name, "kafka") {
			t.Errorf("similar of B's skill lists A's %s", h.Name)
		}
	}
	if _, err := f.svc.Similar(ctx, bAdmin, "kafka-consumer-tuning", 10); service.KindOf(err) != service.NotFound {
		t.Errorf("similar of A's skill as B: %v, want not found", err)
	}
}

func (f *fixture) addMember(t *testing.T, admin service.Actor, email string) service.Actor {
	u, err := f.svc.CreateUser(context.Background(), admin, service.NewUser{Email: email, Role: "member"})
	if err != nil {
		t.Fatal(err)
	}
	return service.Actor{TenantID: admin.TenantID, UserID: u.ID, Email: email, Role: "member", Scopes: []string{"read", "write"}}
}

// TestVectorCacheSeesOtherProcesses: a vector stored through another
// Service (another server process) is used by the next search.
func TestVectorCacheSeesOtherProcesses(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin, _ := f.tenant(t, "acme")
	f.publish(t, admin, skillFiles("first-skill", "Format Markdown tables neatly. Use for tables.", "Tables."), "tenant")
	f.svc.EmbedDue(ctx)
	// The warm-up loads the cache; it asks for what the skill is about,
	// since an unrelated query is below the similarity floor.
	if hits, err := f.svc.Search(ctx, admin, service.SearchQuery{Text: "format markdown tables", Mode: "semantic"}); err != nil || len(hits) != 1 {
		t.Fatalf("warm-up: %v %v", names(hits), err)
	}
	other := service.New(f.env.DB, service.Options{})
	if _, err := other.CreateSkill(ctx, admin, skillFiles("image-resizer", "Resize and crop photographs and pictures. Use for image resizing.", "Images."),
		service.PublishOptions{Publish: true}); err != nil {
		t.Fatal(err)
	}
	other.EmbedDue(ctx)
	hits, err := f.svc.Search(ctx, admin, service.SearchQuery{Text: "photograph resizing", Mode: "semantic"})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) == 0 || hits[0].Name != "image-resizer" {
		t.Fatalf("after another process embedded a skill: %v", names(hits))
	}
}

// toyVector is the 8-dimension embedding of the test providers: word
// lengths, counted.
func toyVector(text string) []float32 {
	v := make([]float32, 8)
	for _, w := range strings.Fields(strings.ToLower(text)) {
		v[len(w)%8] += 1
	}
	return v
}

// remoteServer speaks the Ollama or OpenAI embeddings API with toyVector,
// and fails while broken is set.
func remoteServer(t *testing.T, kind string, broken *atomic.Bool, calls *atomic.Int64) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if broken.Load() {
			http.Error(w, "model not loaded", http.StatusInternalServerError)
			return
		}
		var in struct {
			Model string   `json:"model"`
			Input []string `json:"input"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		switch kind {
		case "ollama":
			if r.URL.Path != "/api/embed" {
				http.NotFound(w, r)
				return
			}
			var out struct {
				Embeddings [][]float32 `json:"embeddings"`
			}
			for _, s := range in.Input {
				out.Embeddings = append(out.Embeddings, toyVector(s))
			}
			json.NewEncoder(w).Encode(out)
		default:
			if r.URL.Path != "/v1/embeddings" || r.Header.Get("Authorization") != "Bearer test-key" {
				http.Error(w, "unauthorized", 401)
				return
			}
			writeOpenAIEmbeddings(w, in.Input)
		}
	}))
}

// writeOpenAIEmbeddings answers an OpenAI-compatible embeddings request
// with toyVector of each input.
func writeOpenAIEmbeddings(w http.ResponseWriter, inputs []string) {
	type item struct {
		Index     int       `json:"index"`
		Embedding []float32 `json:"embedding"`
	}
	var out struct {
		Data []item `json:"data"`
	}
	for i, s := range inputs {
		out.Data = append(out.Data, item{i, toyVector(s)})
	}
	json.NewEncoder(w).Encode(out)
}

// TestRemoteProviders: a tenant switched to ollama or openai embeds
// through that API; failures are recorded per skill and retried.
func TestRemoteProviders(t *testing.T) {
	for _, kind := range []string{"ollama", "openai"} {
		t.Run(kind, func(t *testing.T) {
			var broken atomic.Bool
			var calls atomic.Int64
			srv := remoteServer(t, kind, &broken, &calls)
			defer srv.Close()
			// The operator's key goes with the operator's endpoint.
			f := loopbackFixture(t, service.Options{Embed: service.EmbedConfig{URLs: []string{srv.URL}, APIKey: "test-key"}})
			env, svc := f.env, f.svc
			ctx := context.Background()
			admin, _ := f.tenant(t, "acme")
			prov, url, model := kind, srv.URL, "test-model"
			if _, err := svc.UpdateSettings(ctx, admin, service.SettingsPatch{EmbeddingProvider: &prov, EmbeddingURL: &url, EmbeddingModel: &model}); err != nil {
				t.Fatal(err)
			}
			broken.Store(true)
			f.publish(t, admin, skillFiles("alpha-skill", "Does alpha things. Use for alpha.", "Alpha."), "tenant")
			svc.EmbedDue(ctx)
			st, err := svc.EmbeddingState(ctx, admin, "alpha-skill")
			if err != nil {
				t.Fatal(err)
			}
			if st.State != "failed" || st.Attempts != 1 || st.LastError != "provider answered 500" {
				t.Fatalf("after a provider error: %+v", st)
			}
			// Hybrid search still answers (keyword only) while the provider fails.
			if hits, err := svc.Search(ctx, admin, service.SearchQuery{Text: "alpha"}); err != nil || len(hits) != 1 {
				t.Fatalf("hybrid during outage: %v %v", names(hits), err)
			}
			// The retry waits for its backoff; make it due now.
			su := dbtest.Connect(t, env.AdminURL)
			if _, err := su.Exec(ctx, "UPDATE skill_embeddings SET next_attempt_at = now()"); err != nil {
				t.Fatal(err)
			}
			broken.Store(false)
			if n := svc.EmbedDue(ctx); n != 1 {
				t.Fatalf("retry stored %d vectors", n)
			}
			st, err = svc.EmbeddingState(ctx, f.mustAdmin(t), "alpha-skill")
			if err != nil || st.State != "ready" || st.Model != kind+":test-model" {
				t.Fatalf("after retry: %+v %v", st, err)
			}
			hits, err := svc.Search(ctx, f.mustAdmin(t), service.SearchQuery{Text: "alpha things", Mode: "semantic"})
			if err != nil || len(hits) != 1 {
				t.Fatalf("semantic search with %s: %v %v", kind, names(hits), err)
			}
		})
	}
}

// mustAdmin returns the admin actor of the fixture's only tenant.
func (f *fixture) mustAdmin(t *testing.T) service.Actor {
	t.Helper()
	conn := dbtest.Connect(t, f.env.AdminURL)
	var tenant, user uuid.UUID
	if err := conn.QueryRow(context.Background(), "SELECT tenant_id, id FROM users WHERE role = 'admin' LIMIT 1").Scan(&tenant, &user); err != nil {
		t.Fatal(err)
	}
	return service.Actor{TenantID: tenant, UserID: user, Role: "admin", Scopes: []string{"read", "write", "admin"}}
}

func TestDuplicateWarning(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin, _ := f.tenant(t, "acme")
	f.publish(t, admin, skillFiles("pdf-invoice-extractor", "Extract totals, dates and line items from PDF invoices. Use when processing invoices.",
		"## Steps\n\nOpen the PDF invoice, find the totals, dates and line items, and return them as JSON."), "tenant")
	f.svc.EmbedDue(ctx)
	p, err := f.svc.CreateSkill(ctx, admin, skillFiles("invoice-pdf-extraction", "Extract totals, dates and line items from invoices in PDF. Use when processing PDF invoices.",
		"## Steps\n\nOpen the invoice PDF, find the line items, totals and dates, and return them as JSON."), service.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.PossibleDuplicates) != 1 || p.PossibleDuplicates[0].Name != "pdf-invoice-extractor" {
		t.Fatalf("possible duplicates: %+v", p.PossibleDuplicates)
	}
	p, err = f.svc.CreateSkill(ctx, admin, skillFiles("garden-planner", "Plan a vegetable garden by season.", "Tomatoes."), service.PublishOptions{})
	if err != nil || len(p.PossibleDuplicates) != 0 {
		t.Fatalf("unrelated skill flagged: %+v %v", p.PossibleDuplicates, err)
	}
}

// TestProviderChangeReembeds: switching a tenant's provider queues every
// skill for a new vector; reindex rebuilds all with progress.
func TestProviderChangeReembeds(t *testing.T) {
	f := loopbackFixture(t, service.Options{})
	ctx := context.Background()
	admin, _ := f.tenant(t, "acme")
	for i := range 3 {
		f.publish(t, admin, skillFiles(fmt.Sprintf("skill-%d", i), "Does thing number "+fmt.Sprint(i)+".", "Body."), "tenant")
	}
	if n := f.svc.EmbedDue(ctx); n != 3 {
		t.Fatalf("embedded %d", n)
	}
	var broken atomic.Bool
	var calls atomic.Int64
	srv := remoteServer(t, "ollama", &broken, &calls)
	defer srv.Close()
	prov, url, model := "ollama", srv.URL, "m1"
	if _, err := f.svc.UpdateSettings(ctx, admin, service.SettingsPatch{EmbeddingProvider: &prov, EmbeddingURL: &url, EmbeddingModel: &model}); err != nil {
		t.Fatal(err)
	}
	st, err := f.svc.EmbeddingState(ctx, admin, "skill-0")
	if err != nil || st.State != "pending" || st.Model != "ollama:m1" {
		t.Fatalf("after the provider change: %+v %v", st, err)
	}
	if n := f.svc.EmbedDue(ctx); n != 3 {
		t.Fatalf("re-embedded %d, want 3", n)
	}
	var seen []int
	if err := f.svc.Reindex(ctx, admin, func(done, total int) {
		if total != 3 {
			t.Errorf("total %d", total)
		}
		seen = append(seen, done)
	}); err != nil {
		t.Fatal(err)
	}
	if len(seen) < 2 || seen[len(seen)-1] != 3 {
		t.Fatalf("progress %v", seen)
	}
	_, member := admin, admin
	member.Role, member.Scopes = "member", []string{"read", "write"}
	if err := f.svc.Reindex(ctx, member, nil); service.KindOf(err) != service.Forbidden {
		t.Fatalf("member reindex: %v", err)
	}
}

// TestKeywordSearchEitherSideOfTheSizeSwitch: the keyword statement tests
// a small tenant's rows one by one and uses the GIN index for a larger
// one (search.sql). Both ways must return exactly the tenant's own
// matching skills that the actor may see, ranked the same way.
func TestKeywordSearchEitherSideOfTheSizeSwitch(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, c := range []struct {
		slug   string
		skills int
	}{{"small", 120}, {"edge", 1999}, {"large", 2500}} { // search.sql switches at 2,000 skills
		admin, member := f.tenant(t, c.slug)
		other := f.addMember(t, admin, "other@"+c.slug+".test")
		// Every step-th skill mentions zebras (about 50 in all), every
		// third of those twice (so ranked first); every second of those is
		// the member's private skill.
		step := max(7, c.skills/50)
		want, wantMember, double := map[string]bool{}, map[string]bool{}, map[string]bool{}
		var names, bodies, vis []string
		var authors []uuid.UUID
		for i := range c.skills {
			name := fmt.Sprintf("%s-skill-%d", c.slug, i)
			body := fmt.Sprintf("Filler text number %d about ordinary things.", i)
			v, author := "tenant", admin.UserID
			if i%step == 0 {
				body += " Zebra crossing."
				want[name] = true
				if i%(2*step) == 0 {
					v, author = "private", member.UserID
				} else {
					wantMember[name] = true
				}
				if i%(3*step) == 0 {
					body += " Zebra stripes."
					double[name] = true
				}
			}
			names, bodies, vis, authors = append(names, name), append(bodies, body), append(vis, v), append(authors, author)
		}
		err := f.env.DB.Write(ctx, database.Scope{TenantID: admin.TenantID, Role: "system"}, func(q database.Q) error {
			_, err := q.Exec(ctx, `INSERT INTO skills (tenant_id, name, description, body, status, visibility, author_id, latest_version, published_version)
				SELECT current_setting('app.current_tenant_id')::uuid, n, 'Generated skill for the size switch test.', b, 'published', v, a, 1, 1
				FROM unnest($1::text[], $2::text[], $3::text[], $4::uuid[]) AS x(n, b, v, a)`, names, bodies, vis, authors)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		check := func(a service.Actor, who string, want map[string]bool) {
			t.Helper()
			hits, err := f.svc.Search(ctx, a, service.SearchQuery{Text: "zebra", Mode: "keyword", Limit: 200})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			doubles := 0
			for name := range want {
				if double[name] {
					doubles++
				}
			}
			for i, h := range hits {
				got[h.Name] = true
				if !want[h.Name] {
					t.Errorf("%s, %s: unexpected hit %s", c.slug, who, h.Name)
				}
				// The double mentions come first.
				if i < doubles != double[h.Name] {
					t.Errorf("%s, %s: hit #%d is %s", c.slug, who, i+1, h.Name)
				}
			}
			if len(got) != len(want) {
				t.Errorf("%s, %s: %d hits, want %d", c.slug, who, len(got), len(want))
			}
		}
		check(admin, "admin", want)
		check(member, "author of the private skills", want)
		check(other, "another member", wantMember)
		// The author filter keeps the member's own (private) skills, in
		// either mode that reads hits through SearchHits.
		for _, mode := range []string{"keyword", "hybrid"} {
			hits, err := f.svc.Search(ctx, admin, service.SearchQuery{Text: "zebra", Mode: mode, Limit: 200,
				Filter: store.SearchFilter{Author: member.Email}})
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range hits {
				if !want[h.Name] || wantMember[h.Name] {
					t.Errorf("%s, %s, author filter: %s is not the member's zebra skill", c.slug, mode, h.Name)
				}
			}
			if mode == "keyword" && len(hits) != len(want)-len(wantMember) {
				t.Errorf("%s, author filter: %d hits, want %d", c.slug, len(hits), len(want)-len(wantMember))
			}
		}
	}
	// Another tenant's search never reaches these skills, large or small.
	stranger, _ := f.tenant(t, "stranger")
	hits, err := f.svc.Search(ctx, stranger, service.SearchQuery{Text: "zebra", Mode: "keyword"})
	if err != nil || len(hits) != 0 {
		t.Fatalf("another tenant: %v %v", names(hits), err)
	}
}
