package service_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/dbtest"
	"github.com/skillvault/skillvault/internal/service"
)

// eventually polls cond for up to two seconds.
func eventually(cond func() bool) bool { return within(2*time.Second, cond) }

// otherProcess is another server process on f's database, its auth cache
// listening (and so in use) until cancel is called.
func otherProcess(t *testing.T, f *fixture) (*service.Service, context.CancelFunc) {
	t.Helper()
	listening, cancel := context.WithCancel(context.Background())
	other := service.New(f.env.DB, service.Options{})
	go other.RunAuthListener(listening)
	if !eventually(other.AuthCacheActive) {
		cancel()
		t.Fatal("the auth cache never became active")
	}
	return other, cancel
}

// byHand is how long a change made by hand in SQL may take to reach a
// cache: the triggers' notification on PostgreSQL; on Citus, where there
// are none, the cache's 5 s bound.
func byHand(db *database.DB) time.Duration {
	if db.Citus() {
		return 7 * time.Second
	}
	return 2 * time.Second
}

// within polls cond for up to d.
func within(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// TestAuthCacheAcrossProcesses: a process that caches API key look-ups
// stops accepting a key revoked, a user demoted or deactivated through
// another process.
func TestAuthCacheAcrossProcesses(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	admin, member := f.tenant(t, "acme")
	other, cancel := otherProcess(t, f)
	defer cancel()
	mk := func(a service.Actor, scopes ...string) string {
		k, err := f.svc.CreateKey(ctx, a, a.UserID, service.NewKey{Scopes: scopes})
		if err != nil {
			t.Fatal(err)
		}
		return k.Secret
	}
	auth := func(key string) (service.Actor, error) { return other.Authenticate(ctx, key, service.RequestMeta{}) }

	// Revocation.
	key := mk(member, "read")
	for range 3 {
		if _, err := auth(key); err != nil {
			t.Fatal(err)
		}
	}
	if other.AuthCacheHits() < 2 {
		t.Fatalf("cache hits %d: look-ups are not cached", other.AuthCacheHits())
	}
	list, err := f.svc.ListKeys(ctx, member, false, nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range list {
		if _, err := f.svc.RevokeKey(ctx, member, k.ID); err != nil {
			t.Fatal(err)
		}
	}
	if !eventually(func() bool { _, err := auth(key); return err != nil }) {
		t.Fatal("a revoked key is still accepted by the other process")
	}

	// Demotion: the key loses its admin scope.
	second := f.addMember(t, admin, "second@acme.test")
	promote, demote := "admin", "member"
	if _, err := f.svc.UpdateUser(ctx, admin, second.UserID, service.UserChange{Role: &promote}); err != nil {
		t.Fatal(err)
	}
	second.Role, second.Scopes = "admin", []string{"read", "write", "admin"}
	akey := mk(second, "read", "write", "admin")
	if a, err := auth(akey); err != nil || !slices.Contains(a.Scopes, "admin") {
		t.Fatalf("admin key: %v %v", a.Scopes, err)
	}
	if _, err := f.svc.UpdateUser(ctx, admin, second.UserID, service.UserChange{Role: &demote}); err != nil {
		t.Fatal(err)
	}
	if !eventually(func() bool { a, err := auth(akey); return err == nil && !slices.Contains(a.Scopes, "admin") }) {
		t.Fatal("a demoted admin's key keeps the admin scope in the other process")
	}

	// Deactivation.
	off := false
	if _, err := f.svc.UpdateUser(ctx, admin, second.UserID, service.UserChange{Active: &off}); err != nil {
		t.Fatal(err)
	}
	if !eventually(func() bool { _, err := auth(akey); return err != nil }) {
		t.Fatal("a deactivated user's key is still accepted by the other process")
	}

	// A change made by hand in SQL is told by the database's triggers.
	third := f.addMember(t, admin, "third@acme.test")
	hkey := mk(third, "read")
	if _, err := auth(hkey); err != nil {
		t.Fatal(err)
	}
	su := dbtest.Connect(t, f.env.AdminURL)
	if _, err := su.Exec(ctx, "UPDATE tenants SET active = false WHERE id = $1", admin.TenantID); err != nil {
		t.Fatal(err)
	}
	if !within(byHand(f.env.DB), func() bool { _, err := auth(hkey); return err != nil }) {
		t.Fatal("a key of a tenant deactivated in SQL is still accepted")
	}
	if _, err := su.Exec(ctx, "UPDATE tenants SET active = true WHERE id = $1", admin.TenantID); err != nil {
		t.Fatal(err)
	}

	// Without its listener a process caches nothing.
	cancel()
	if !eventually(func() bool { return !other.AuthCacheActive() }) {
		t.Fatal("the cache stays active after its listener stopped")
	}
	key2 := mk(admin, "read")
	auth(key2)
	k2, _ := f.svc.ListKeys(ctx, admin, false, nil, 10)
	for _, k := range k2 {
		f.svc.RevokeKey(ctx, admin, k.ID)
	}
	if _, err := other.Authenticate(context.Background(), key2, service.RequestMeta{}); err == nil {
		t.Fatal("a revoked key was accepted by a process without its listener")
	}
}
