package database_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/skillvault/skillvault/internal/database"
)

// TestTenantParamRewrite checks the text a $tenant statement is sent as:
// the token becomes one parameter past the highest, every time it occurs,
// and nothing in comments, literals or dollar quotes counts or changes.
func TestTenantParamRewrite(t *testing.T) {
	var twelve []string
	for i := 12; i >= 1; i-- {
		twelve = append(twelve, fmt.Sprintf("$%d", i))
	}
	for _, c := range []struct{ in, want string }{
		{"SELECT $tenant::uuid", "SELECT $1::uuid"},
		{"SELECT 1 FROM users WHERE tenant_id = $tenant AND id = $1", "SELECT 1 FROM users WHERE tenant_id = $2 AND id = $1"},
		{"SELECT " + strings.Join(twelve, ", ") + ", $tenant", "SELECT " + strings.Join(twelve, ", ") + ", $13"},
		{"SELECT $2, $tenant, $1, $tenant::uuid = $tenant", "SELECT $2, $3, $1, $3::uuid = $3"},
		// Only real parameters count, only real tokens change.
		{"SELECT $1 -- $9 and $tenant\n, $tenant", "SELECT $1 -- $9 and $tenant\n, $2"},
		{"SELECT '$7 $tenant', $tenant /* $8 $tenant */", "SELECT '$7 $tenant', $1 /* $8 $tenant */"},
		{"SELECT E'\\' $5', \"$6\", $tenant", "SELECT E'\\' $5', \"$6\", $1"},
		{"SELECT $q$ $4 $tenant $q$, $$ $3 $$, $tenant", "SELECT $q$ $4 $tenant $q$, $$ $3 $$, $1"},
		{"SELECT $tenant_id, $tenant", "SELECT $tenant_id, $1"},
	} {
		got, binds := database.BindTenantForTest(c.in)
		if got != c.want || !binds {
			t.Errorf("%q\n became %q (binds %v)\n  want %q", c.in, got, binds, c.want)
		}
	}
	for _, sql := range []string{"SELECT $1, $2", "SELECT '$tenant'", "SELECT 1 -- $tenant", "SELECT $tenant_id"} {
		if got, binds := database.BindTenantForTest(sql); got != sql || binds {
			t.Errorf("%q has no token but became %q (binds %v)", sql, got, binds)
		}
	}
}

// TestTenantParamBindsScope runs $tenant statements through every path of
// a scope (each Read statement, the pipelined first statement of a Write
// and the later ones inside its transaction; Exec, Query and QueryRow) for
// two tenants on one connection: the bound value is always the scope's
// own tenant, whatever the other parameters.
func TestTenantParamBindsScope(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	db := w.pool(t, database.Options{MaxConns: 1})
	twelve := make([]any, 12)
	var cols []string
	for i := range twelve {
		twelve[i] = i + 1
		cols = append(cols, fmt.Sprintf("$%d::int", i+1))
	}
	many := "SELECT $tenant::uuid, " + strings.Join(cols, " + ") + ", $tenant::uuid = $tenant"
	for round := range 4 {
		for _, tenant := range []uuid.UUID{w.a.ID, w.b.ID} {
			op := db.Read
			if round%2 == 1 {
				op = db.Write
			}
			err := op(ctx, database.Scope{TenantID: tenant}, func(q database.Q) error {
				for i := range 2 { // the second runs inside Write's transaction
					var got uuid.UUID
					if err := q.QueryRow(ctx, "SELECT $tenant::uuid").Scan(&got); err != nil || got != tenant {
						return fmt.Errorf("statement %d: no parameters: got %s (%v)", i, got, err)
					}
					var sum int
					var same bool
					if err := q.QueryRow(ctx, many, twelve...).Scan(&got, &sum, &same); err != nil || got != tenant || sum != 78 || !same {
						return fmt.Errorf("statement %d: twelve parameters: got %s %d %v (%v)", i, got, sum, same, err)
					}
					rows, err := q.Query(ctx, "SELECT tenant_id FROM users WHERE tenant_id = $tenant AND email = $1", "ann@example.com")
					if err != nil {
						return err
					}
					ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
					if err != nil || len(ids) != 1 || ids[0] != tenant {
						return fmt.Errorf("statement %d: users of $tenant: %v (%v)", i, ids, err)
					}
					tag, err := q.Exec(ctx, "UPDATE users SET name = $1 WHERE tenant_id = $tenant", "round")
					if err != nil || tag.RowsAffected() != 1 {
						return fmt.Errorf("statement %d: update of $tenant: %v (%v)", i, tag, err)
					}
					var lit string
					if err := q.QueryRow(ctx, "SELECT '$tenant'").Scan(&lit); err != nil || lit != "$tenant" {
						return fmt.Errorf("statement %d: no token: got %q (%v)", i, lit, err)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatalf("round %d as %s: %v", round, tenant, err)
			}
		}
	}
}

// TestPlanOnceForcesTheGenericPlan: a statement marked PlanOnce and read
// on its own runs with the generic plan forced (on plain PostgreSQL; on
// Citus the mark does not apply), and only it: the next
// statement on the same connection, and a marked statement inside a
// Write (where the setting would outlive it), keep PostgreSQL's choice.
func TestPlanOnceForcesTheGenericPlan(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	db := w.pool(t, database.Options{MaxConns: 1})
	scope := database.Scope{TenantID: w.a.ID}
	marked := database.PlanOnce + " SELECT current_setting('plan_cache_mode'), $tenant::uuid"
	plain := "SELECT current_setting('plan_cache_mode'), $tenant::uuid"
	mode := func(q database.Q, stmt string) string {
		t.Helper()
		var m string
		var tenant uuid.UUID
		if err := q.QueryRow(ctx, stmt).Scan(&m, &tenant); err != nil || tenant != w.a.ID {
			t.Fatalf("%q: %s %s (%v)", stmt, m, tenant, err)
		}
		return m
	}
	forced := "force_generic_plan"
	if db.Citus() {
		forced = "auto" // the workers plan each shard's statement; see PlanOnce
	}
	// In order, on the one connection: each step's statements and the
	// plan_cache_mode each must see.
	for _, step := range []struct {
		name  string
		run   func(context.Context, database.Scope, func(database.Q) error) error
		stmts []string
		want  []string
	}{
		{"Read: the marked statement, then the next", db.Read, []string{marked, plain}, []string{forced, "auto"}},
		{"Write: a marked statement", db.Write, []string{marked}, []string{"auto"}},
		{"a later Read", db.Read, []string{plain}, []string{"auto"}},
	} {
		err := step.run(ctx, scope, func(q database.Q) error {
			for i, stmt := range step.stmts {
				if m := mode(q, stmt); m != step.want[i] {
					t.Errorf("%s: statement %d ran with plan_cache_mode %q, want %q", step.name, i+1, m, step.want[i])
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
