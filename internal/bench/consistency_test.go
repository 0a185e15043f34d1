package bench

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/dbtest"
	"github.com/skillvault/skillvault/internal/service"
)

// TestCheckConsistency: the oracle the soak and fault tests rely on finds
// each kind of half-applied write, and nothing in a database written only
// through the service.
func TestCheckConsistency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := dbtest.New(t)
	o, err := database.OpenOwner(ctx, env.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	tn, err := o.CreateTenant(ctx, database.NewTenant{Slug: "consistent"})
	o.Close()
	if err != nil {
		t.Fatal(err)
	}
	svc := service.New(env.DB, service.Options{})
	sys := service.System(tn.ID)
	if err := svc.EnsureTenant(ctx, sys); err != nil {
		t.Fatal(err)
	}
	u, err := svc.CreateUser(ctx, sys, service.NewUser{Email: "a@consistent.example", Role: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	a := sys
	a.UserID, a.Role = u.ID, "admin"
	files := []bundle.File{
		{Path: "SKILL.md", Data: []byte("---\nname: kept\ndescription: Keep it.\n---\n# Kept\n")},
		{Path: "scripts/run.sh", Data: []byte("#!/bin/sh\necho kept\n")},
	}
	if _, err := svc.CreateSkill(ctx, a, files, service.PublishOptions{Publish: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RecordUsage(ctx, a, []service.UsageInput{{Skill: "kept", Event: "view", Source: "api"}, {Skill: "kept", Event: "install", Source: "cli"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Rate(ctx, a, "kept", 4, "fine"); err != nil {
		t.Fatal(err)
	}
	svc.Wait()
	if probs, err := CheckConsistency(ctx, env.AdminURL); err != nil || len(probs) > 0 {
		t.Fatalf("a database written through the service: %v %v", probs, err)
	}

	admin := dbtest.Connect(t, env.AdminURL)
	for _, c := range []struct{ damage, undo, want string }{
		{"DELETE FROM skill_version_files WHERE path = 'scripts/run.sh'", "", "every version has all its files"},
		{"UPDATE blobs SET data = 'tampered'::bytea WHERE size = 48", "", "match their digest"},
		{"UPDATE skills SET latest_version = 2", "UPDATE skills SET latest_version = 1", "numbered"},
		{"UPDATE skills SET published_version = NULL", "UPDATE skills SET published_version = 1", "published skill points"},
		{"UPDATE skills SET view_count = view_count + 1", "UPDATE skills SET view_count = view_count - 1", "usage counters"},
		{"UPDATE skills SET rating_sum = 5", "UPDATE skills SET rating_sum = 4", "rating totals"},
	} {
		if _, err := admin.Exec(ctx, c.damage); err != nil {
			t.Fatalf("%s: %v", c.damage, err)
		}
		probs, err := CheckConsistency(ctx, env.AdminURL)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.Join(probs, "\n"), c.want) {
			t.Errorf("after %q the problems are %q, want one about %q", c.damage, probs, c.want)
		}
		if c.undo != "" {
			if _, err := admin.Exec(ctx, c.undo); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestPercentiles(t *testing.T) {
	var lat []time.Duration
	for i := 1; i <= 100; i++ {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	if p50, p95, p99 := pct(lat, 50), pct(lat, 95), pct(lat, 99); p50 != 50 || p95 != 95 || p99 != 99 {
		t.Errorf("percentiles of 1..100 ms: %v %v %v", p50, p95, p99)
	}
	if pct(nil, 50) != 0 || pct(lat[:1], 99) != 1 {
		t.Error("percentiles of empty and single samples")
	}
	st := summarize("s", "n", 1, sample{lat: lat[:50], elapsed: time.Second}, sample{lat: lat[50:], elapsed: time.Second})
	if st.Ops != 100 || st.PerSec != 50 || st.P50ms != 50 {
		t.Errorf("summary of two slices: %+v", st)
	}
}
