package database_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/dbtest"
)

// TestQuotaOverridesAreOperatorOnly: the operator (owner role) sets a
// tenant's quota overrides; the app role reads its own tenant's and no
// other's, and cannot change any, even its own.
func TestQuotaOverridesAreOperatorOnly(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	owner, err := database.OpenOwner(ctx, w.env.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	five, zero, minus := int64(5<<30), int64(0), int64(-1)
	tn, err := owner.SetQuotas(ctx, w.a.Slug, map[string]*int64{"bytes": &five, "skills": &zero})
	if err != nil {
		t.Fatal(err)
	}
	if tn.Quotas.Bytes == nil || *tn.Quotas.Bytes != five || tn.Quotas.Skills == nil || *tn.Quotas.Skills != 0 || tn.Quotas.Versions != nil {
		t.Fatalf("overrides %+v", tn.Quotas)
	}
	// nil returns a quota to the server's default.
	if tn, err = owner.SetQuotas(ctx, w.a.Slug, map[string]*int64{"skills": nil}); err != nil || tn.Quotas.Skills != nil {
		t.Fatalf("reset skills: %+v %v", tn.Quotas, err)
	}
	for _, bad := range []map[string]*int64{{"rows": &five}, {"bytes": &minus}, {"skills": &five}} {
		if _, err := owner.SetQuotas(ctx, w.a.Slug, bad); !errors.Is(err, database.ErrInvalid) {
			t.Errorf("SetQuotas(%v): %v, want invalid", bad, err)
		}
	}
	if _, err := owner.SetQuotas(ctx, "no-such-tenant", map[string]*int64{"bytes": &five}); !errors.Is(err, database.ErrNotFound) {
		t.Errorf("unknown tenant: %v", err)
	}

	conn := dbtest.Connect(t, w.env.AppURL)
	inTx(t, conn, str(w.a.ID.String()), func(tx pgx.Tx) {
		var n int
		var bytes *int64
		if err := tx.QueryRow(ctx, "SELECT count(*), max(quota_bytes) FROM tenants").Scan(&n, &bytes); err != nil {
			t.Fatal(err)
		}
		if n != 1 || bytes == nil || *bytes != five {
			t.Errorf("tenant A reads %d tenant rows, quota %v", n, bytes)
		}
		if _, err := tx.Exec(ctx, "UPDATE tenants SET quota_bytes = NULL"); pgCode(err) != "42501" {
			t.Errorf("the app role changed its tenant's quota: %v", err)
		}
	})
	inTx(t, conn, str(w.b.ID.String()), func(tx pgx.Tx) {
		var n int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM tenants WHERE quota_bytes IS NOT NULL OR id = $1", w.a.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("tenant B sees %d rows of tenant A's quotas", n)
		}
	})
}
