package service

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/dbtest"
	"github.com/skillvault/skillvault/internal/store"
)

// TestRankAllowedDeepens: when the best vectors of the tenant are all
// hidden from the actor, semantic ranking reads the actor's allowed ids
// and still returns exactly the best allowed skills, the same as when
// nothing is hidden in front of them.
func TestRankAllowedDeepens(t *testing.T) {
	env := dbtest.New(t)
	s := New(env.DB, Options{})
	ctx := context.Background()
	tn := env.Tenant(t, "acme")
	sys := System(tn.ID)
	if err := s.EnsureTenant(ctx, sys); err != nil {
		t.Fatal(err)
	}
	member := func(email string) Actor {
		u, err := s.CreateUser(ctx, sys, NewUser{Email: email, Role: "member"})
		if err != nil {
			t.Fatal(err)
		}
		return Actor{TenantID: tn.ID, UserID: u.ID, Email: email, Role: "member", Scopes: []string{"read", "write"}}
	}
	a1, a2 := member("a1@acme.test"), member("a2@acme.test")
	publish := func(a Actor, name, desc, visibility string) {
		md := fmt.Sprintf("---\nname: %s\ndescription: %s\n---\n# %s\n\n%s\n", name, desc, name, desc)
		if _, err := s.CreateSkill(ctx, a, []bundle.File{{Path: "SKILL.md", Data: []byte(md)}},
			PublishOptions{Publish: true, Visibility: visibility}); err != nil {
			t.Fatal(err)
		}
	}
	const query = "rotate kafka broker credentials and client secrets"
	for i := range 6 {
		publish(a2, fmt.Sprintf("secret-rotation-%d", i), "Rotate Kafka broker credentials and client secrets, runbook "+fmt.Sprint(i)+".", "private")
	}
	publish(a1, "kafka-lag", "Tune Kafka consumer lag.", "tenant")
	publish(a1, "kafka-topics", "Design Kafka topics on brokers.", "tenant")
	publish(a1, "garden", "Plan watering for a vegetable garden.", "tenant")
	s.EmbedDue(ctx)

	st := store.Settings{EmbeddingProvider: "builtin", SemanticSearchEnabled: true}
	var stamp string
	if err := s.db.Read(ctx, a1.scope(), func(q database.Q) (err error) { stamp, err = store.EmbeddingStamp(ctx, q); return err }); err != nil {
		t.Fatal(err)
	}
	tv, err := s.tenantVectors(ctx, tn.ID, modelName(st), stamp)
	if err != nil {
		t.Fatal(err)
	}
	em, err := s.embedders.get(st)
	if err != nil {
		t.Fatal(err)
	}
	vecs, err := em.Embed(ctx, []string{query})
	if err != nil {
		t.Fatal(err)
	}
	v := vecs[0]
	// The premise: the best two of the tenant are a2's private skills, so
	// the first check of 2n = 2 candidates finds none a1 may see.
	var best []uuid.UUID
	for _, r := range tv.rank(v, 2, uuid.Nil, nil) {
		best = append(best, r.ID)
	}
	allowed, err := s.searchAllowed(ctx, a1, store.SearchFilter{}, best)
	if err != nil {
		t.Fatal(err)
	}
	if len(allowed) != 0 {
		t.Fatalf("the tenant's best two include a skill a1 may see; the test proves nothing")
	}
	// What a1 may see, ranked with nothing hidden in front of it (2n
	// covers the whole tenant).
	want, err := s.rankAllowed(ctx, a1, store.SearchFilter{}, tv, v, len(tv.ids), uuid.Nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 3 {
		t.Fatalf("a1 may see %d skills, want 3", len(want))
	}
	for n := 1; n <= 3; n++ {
		got, err := s.rankAllowed(ctx, a1, store.SearchFilter{}, tv, v, n, uuid.Nil)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want[:n]) {
			t.Errorf("best %d for a1: %v, want %v", n, got, want[:n])
		}
	}
}

// TestRankOrderIsTotal: equal scores are ordered by id, so the top n of
// a set never depends on the order the vectors were cached in.
func TestRankOrderIsTotal(t *testing.T) {
	tv := &tenantVectors{dims: 1}
	for range 50 {
		tv.ids = append(tv.ids, uuid.New())
		tv.flat = append(tv.flat, 1)
	}
	got := tv.rank([]float32{1}, 5, uuid.Nil, nil)
	ids := append([]uuid.UUID(nil), tv.ids...)
	all := make([]store.Ranked, len(ids))
	for i, id := range ids {
		all[i] = store.Ranked{ID: id, Score: 1}
	}
	for i := range all {
		for j := i + 1; j < len(all); j++ {
			if better(all[j], all[i]) {
				all[i], all[j] = all[j], all[i]
			}
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(all[:5]) {
		t.Fatalf("top 5 of equal scores %v, want the 5 lowest ids %v", got, all[:5])
	}
}
