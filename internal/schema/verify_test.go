package schema_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/skillvault/skillvault/internal/dbtest"
	"github.com/skillvault/skillvault/internal/pglocal"
	"github.com/skillvault/skillvault/internal/schema"
)

func verify(t *testing.T, url string) []schema.Problem {
	t.Helper()
	conn := dbtest.Connect(t, url)
	probs, err := schema.Verify(context.Background(), conn)
	if err != nil {
		t.Fatal(err)
	}
	return probs
}

func TestFreshDatabaseVerifiesClean(t *testing.T) {
	env := dbtest.NewEmpty(t)
	for _, p := range verify(t, env.OwnerURL) {
		t.Errorf("drift on a fresh database: %s", p)
	}
}

func TestMigrateIsIdempotentAndRepairs(t *testing.T) {
	env := dbtest.NewEmpty(t)
	conn := dbtest.Connect(t, env.OwnerURL)
	ctx := context.Background()
	for _, stmt := range []string{"ALTER TABLE skills NO FORCE ROW LEVEL SECURITY", "DROP POLICY tenant_isolation ON users"} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	if len(verify(t, env.OwnerURL)) == 0 {
		t.Fatal("drift not seen")
	}
	if err := schema.Migrate(ctx, env.AdminURL, schema.Passwords{}, nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range verify(t, env.OwnerURL) {
		t.Errorf("migrate did not repair: %s", p)
	}
}

// Each drift, introduced as the owner on a fresh database, is reported.
func TestVerifyReportsDrift(t *testing.T) {
	cases := []struct {
		name, sql, want string
	}{
		{"rls disabled", "ALTER TABLE skills DISABLE ROW LEVEL SECURITY", "skills: row-level security is disabled"},
		{"force off", "ALTER TABLE ratings NO FORCE ROW LEVEL SECURITY", "ratings: FORCE ROW LEVEL SECURITY is off"},
		{"policy missing", "DROP POLICY tenant_isolation ON api_keys", "api_keys: policy tenant_isolation is missing"},
		{"expression changed", "ALTER POLICY tenant_isolation ON users USING (true)", "users: policy tenant_isolation differs from the declaration: USING"},
		{"check changed", "ALTER POLICY tenant_isolation ON users WITH CHECK (true)", "users: policy tenant_isolation differs from the declaration: WITH CHECK"},
		{"roles changed", "ALTER POLICY app_access ON skills TO PUBLIC", "skills: policy app_access differs from the declaration: roles"},
		{"made permissive", `DROP POLICY tenant_isolation ON blobs;
			CREATE POLICY tenant_isolation ON blobs AS PERMISSIVE FOR ALL TO public USING (` + schema.TenantClamp + `) WITH CHECK (` + schema.TenantClamp + `)`,
			"blobs: policy tenant_isolation differs from the declaration: permissive=true, want false"},
		{"command changed", `DROP POLICY tenant_isolation ON blobs;
			CREATE POLICY tenant_isolation ON blobs AS RESTRICTIVE FOR SELECT TO public USING (` + schema.TenantClamp + `)`,
			"blobs: policy tenant_isolation differs from the declaration: command SELECT, want ALL"},
		{"undeclared policy", "CREATE POLICY open_door ON skills FOR SELECT USING (true)", "skills: policy open_door is not declared"},
		{"undeclared tenant table", "CREATE TABLE notes (tenant_id uuid NOT NULL, body text)", "notes: has a tenant_id column but no declaration"},
		{"truncate granted", "GRANT TRUNCATE ON skills TO " + schema.AppRole, "skills: the app role may TRUNCATE"},
		{"extra grant", "GRANT UPDATE ON audit_logs TO " + schema.AppRole, "audit_logs: the app role has UPDATE, which is not declared"},
		{"app owns table", "CREATE TABLE scratch (x int); ALTER TABLE scratch OWNER TO " + schema.AppRole, "skillvault_app: owns scratch"},
		{"audit trigger disabled", "ALTER TABLE audit_logs DISABLE TRIGGER audit_logs_append_only", "audit_logs: trigger audit_logs_append_only is missing or disabled"},
		{"audit trigger dropped", "DROP TRIGGER audit_logs_no_truncate ON audit_logs", "audit_logs: trigger audit_logs_no_truncate is missing or disabled"},
		{"lookup not definer", "ALTER FUNCTION lookup_tenant_by_email_domain(text) SECURITY INVOKER", "lookup_tenant_by_email_domain(text): is not SECURITY DEFINER"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			env := dbtest.NewEmpty(t)
			// Owner-level drift, as the owner; ownership and grants to the
			// app role as the superuser.
			url := env.OwnerURL
			if strings.Contains(c.name, "owns") || strings.Contains(c.name, "definer") {
				url = env.AdminURL
			}
			conn := dbtest.Connect(t, url)
			if dbtest.CitusNodes() != nil {
				// Trigger DDL on a distributed table needs it.
				if _, err := conn.Exec(context.Background(), "SET citus.enable_unsafe_triggers = on"); err != nil {
					t.Fatal(err)
				}
			}
			// One statement at a time: Citus cannot forward several.
			for _, stmt := range strings.Split(c.sql, ";") {
				if _, err := conn.Exec(context.Background(), stmt); err != nil {
					t.Fatal(err)
				}
			}
			probs := verify(t, env.OwnerURL)
			var got []string
			for _, p := range probs {
				got = append(got, p.String())
				if strings.HasPrefix(p.String(), c.want) {
					return
				}
			}
			t.Fatalf("want a problem starting %q, got:\n%s", c.want, strings.Join(got, "\n"))
		})
	}
}

// Role attributes are cluster-wide, so these drifts get a private cluster
// and cannot disturb the other tests.
func TestVerifyReportsRoleDrift(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a private PostgreSQL cluster")
	}
	dir, err := os.MkdirTemp("", "skillvault-roles-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	c := pglocal.OpenWithOptions(filepath.Join(dir, "pg"), pglocal.Options{Fast: true})
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop(ctx); os.RemoveAll(dir) })
	admin := c.SuperuserURL("postgres")
	if err := schema.Migrate(ctx, admin, schema.Passwords{Owner: "o", App: "a"}, nil); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ sql, undo, want string }{
		{"ALTER ROLE skillvault_app SUPERUSER", "ALTER ROLE skillvault_app NOSUPERUSER", "skillvault_app: is a superuser"},
		{"ALTER ROLE skillvault_app BYPASSRLS", "ALTER ROLE skillvault_app NOBYPASSRLS", "skillvault_app: has BYPASSRLS"},
		{"GRANT skillvault_resolver TO skillvault_app", "REVOKE skillvault_resolver FROM skillvault_app", "skillvault_app: is a member of skillvault_resolver"},
		{"ALTER ROLE skillvault_resolver LOGIN", "ALTER ROLE skillvault_resolver NOLOGIN", "skillvault_resolver: can log in"},
	}
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, cs := range cases {
		if _, err := conn.Exec(ctx, cs.sql); err != nil {
			t.Fatal(err)
		}
		probs, err := schema.Verify(ctx, conn)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, p := range probs {
			found = found || strings.HasPrefix(p.String(), cs.want)
		}
		if !found {
			t.Errorf("%s: want %q in %v", cs.sql, cs.want, probs)
		}
		if _, err := conn.Exec(ctx, cs.undo); err != nil {
			t.Fatal(err)
		}
	}
	probs, err := schema.Verify(ctx, conn)
	if err != nil || len(probs) != 0 {
		t.Fatalf("after undoing: %v %v", probs, err)
	}
}
