package schema_test

import (
	"context"
	"testing"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/dbtest"
)

// The audit log is append-only for the app role and for the owner's
// normal connections: only a migration may change it.
func TestAuditLogIsAppendOnly(t *testing.T) {
	env := dbtest.New(t)
	ctx := context.Background()
	tenant := env.Tenant(t, "acme")
	scope := database.Scope{TenantID: tenant.ID}
	err := env.DB.Write(ctx, scope, func(q database.Q) error {
		_, err := q.Exec(ctx, "INSERT INTO audit_logs (tenant_id, actor_type, action) VALUES ($1, 'system', 'test.event')", tenant.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []struct{ name, url string }{{"app", env.AppURL}, {"owner", env.OwnerURL}} {
		conn := dbtest.Connect(t, who.url)
		for _, stmt := range []string{
			"UPDATE audit_logs SET action = 'forged'",
			"DELETE FROM audit_logs",
			"TRUNCATE audit_logs",
		} {
			// The row is visible to the statement (so a refusal is the
			// trigger's, not an empty match), and the statement fails.
			tx, err := conn.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			dbtest.SetTenant(t, tx, tenant.ID)
			var n int
			if err := tx.QueryRow(ctx, "SELECT count(*) FROM audit_logs").Scan(&n); err != nil || n == 0 {
				t.Fatalf("%s sees %d audit rows (%v)", who.name, n, err)
			}
			if _, err := tx.Exec(ctx, stmt); err == nil {
				t.Errorf("%s: %q succeeded", who.name, stmt)
			}
			tx.Rollback(ctx)
		}
		// Setting the migration flag by hand does not help the app role.
		if who.name == "app" {
			tx, err := conn.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			dbtest.SetTenant(t, tx, tenant.ID)
			tx.Exec(ctx, "SET LOCAL skillvault.migrating = on")
			if _, err := tx.Exec(ctx, "DELETE FROM audit_logs"); err == nil {
				t.Errorf("app: DELETE with skillvault.migrating=on succeeded")
			}
			tx.Rollback(ctx)
		}
	}
	var action string
	err = env.DB.Read(ctx, scope, func(q database.Q) error {
		return q.QueryRow(ctx, "SELECT action FROM audit_logs").Scan(&action)
	})
	if err != nil || action != "test.event" {
		t.Fatalf("audit row after attempts: %q %v", action, err)
	}
}
