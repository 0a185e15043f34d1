package service_test

import (
	"context"
	"errors"
	"testing"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/dbtest"
)

// TestHostCacheAcrossProcesses: a process that caches tenant-by-host
// look-ups answers repeated look-ups from the cache, and stops answering
// with a tenant whose slug or vanity domain moved, that was deactivated
// or deleted by hand in SQL; without its listener it caches nothing.
func TestHostCacheAcrossProcesses(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin, _ := f.tenant(t, "acme")
	other, cancel := otherProcess(t, f)
	defer cancel()
	su := dbtest.Connect(t, f.env.AdminURL)
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := su.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	lookup := func(host string) (database.TenantRef, error) { return other.TenantByHost(ctx, host) }
	gone := func(host string) func() bool {
		return func() bool { _, err := lookup(host); return errors.Is(err, database.ErrNotFound) }
	}

	exec("UPDATE tenants SET vanity_domain = 'skills.acme.test' WHERE id = $1", admin.TenantID)
	// The update's own notification may still be on its way and evict
	// the first entry, so look up until the cache answers.
	if !eventually(func() bool {
		tn, err := lookup("skills.acme.test")
		if err != nil || tn.ID != admin.TenantID {
			t.Fatalf("look-up: %v %v", tn, err)
		}
		return other.HostCacheHits() >= 2
	}) {
		t.Fatalf("cache hits %d: host look-ups are not cached", other.HostCacheHits())
	}

	// The domain moves: the old one names no tenant any more.
	exec("UPDATE tenants SET vanity_domain = 'new.acme.test' WHERE id = $1", admin.TenantID)
	if !within(byHand(f.env.DB), gone("skills.acme.test")) {
		t.Fatal("a vanity domain moved away still resolves to its old tenant")
	}

	// The slug moves.
	if _, err := lookup("acme"); err != nil {
		t.Fatal(err)
	}
	exec("UPDATE tenants SET slug = 'acme2' WHERE id = $1", admin.TenantID)
	if !within(byHand(f.env.DB), gone("acme")) {
		t.Fatal("a renamed slug still resolves to its tenant")
	}

	// Deactivation.
	if tn, err := lookup("acme2"); err != nil || !tn.Active {
		t.Fatalf("look-up: %v %v", tn, err)
	}
	exec("UPDATE tenants SET active = false WHERE id = $1", admin.TenantID)
	if !within(byHand(f.env.DB), func() bool { tn, err := lookup("acme2"); return err == nil && !tn.Active }) {
		t.Fatal("a deactivated tenant is still reported active")
	}

	// Without its listener a process caches nothing: a change is seen at
	// once even though no notification can reach it.
	cancel()
	if !eventually(func() bool { return !other.AuthCacheActive() }) {
		t.Fatal("the cache stays active after its listener stopped")
	}
	lookup("new.acme.test")
	hits := other.HostCacheHits()
	exec("UPDATE tenants SET vanity_domain = NULL WHERE id = $1", admin.TenantID)
	if _, err := lookup("new.acme.test"); !errors.Is(err, database.ErrNotFound) {
		t.Fatalf("a process without its listener answered from the cache: %v", err)
	}
	if other.HostCacheHits() != hits {
		t.Fatal("host look-ups were cached without a listener")
	}
}
