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
	owner, err := database.OpenOwner(ctx, env.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	tenant, err := owner.CreateTenant(ctx, database.NewTenant{Slug: "acme"})
	owner.Close()
	if err != nil {
		t.Fatal(err)
	}
	scope := database.Scope{TenantID: tenant.ID}
	err = env.DB.Write(ctx, scope, func(q database.Q) error {
		_, err := q.Exec(ctx, "INSERT INTO audit_logs (tenant_id, actor_type, action) VALUES ($1, 'system', 'test.event')", tenant.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, who := range []struct{ name, url string }{{"app", env.AppURL}, {"owner", env.OwnerURL}} {
		conn := dbtest.Connect(t, who.url)
		if _, err := conn.Exec(ctx, "SELECT set_config('app.current_tenant_id', $1, false)", tenant.ID.String()); err != nil {
			t.Fatal(err)
		}
		for _, stmt := range []string{
			"UPDATE audit_logs SET action = 'forged'",
			"DELETE FROM audit_logs",
			"TRUNCATE audit_logs",
		} {
			if _, err := conn.Exec(ctx, stmt); err == nil {
				t.Errorf("%s: %q succeeded", who.name, stmt)
			}
		}
		// Setting the migration flag by hand does not help the app role.
		if who.name == "app" {
			conn.Exec(ctx, "SET skillvault.migrating = on")
			if _, err := conn.Exec(ctx, "DELETE FROM audit_logs"); err == nil {
				t.Errorf("app: DELETE with skillvault.migrating=on succeeded")
			}
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
