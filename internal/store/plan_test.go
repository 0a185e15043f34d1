package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/dbtest"
	"github.com/skillvault/skillvault/internal/store"
)

// planNode is the part of EXPLAIN (FORMAT JSON) the test reads.
type planNode struct {
	Type      string     `json:"Node Type"`
	Index     string     `json:"Index Name"`
	Relation  string     `json:"Relation Name"`
	IndexCond string     `json:"Index Cond"`
	Plans     []planNode `json:"Plans"`
}

// walk calls fn for n and every node below it.
func (n planNode) walk(fn func(planNode)) {
	fn(n)
	for _, c := range n.Plans {
		c.walk(fn)
	}
}

// below reports whether a node of type typ is somewhere under n.
func (n planNode) below(typ string) bool {
	found := false
	for _, c := range n.Plans {
		c.walk(func(m planNode) { found = found || m.Type == typ })
	}
	return found
}

// listPages are the default list's statements: the first page of 30
// (and the row that shows a next page), whose limit is in the statement,
// and a later page, whose offset and limit are parameters.
var listPages = []struct {
	name string
	stmt string
	args []any
}{
	{"first page", store.ListStatement("", false, 31), nil},
	{"later page", store.ListStatement("", false, 0), []any{30, 31}},
}

// TestDefaultListWalksUpdatedIndex checks, at 1,000 and 10,000 skills, that
// the default list page reads skills_tenant_updated in order and stops after
// the page: no Sort node, in both the custom plan of one execution and the
// generic plan a cached statement falls back to. It runs EXPLAIN as the app
// role inside a tenant scope, so row-level security and skill_visible are
// part of the plan, for a member and for an anonymous caller.
func TestDefaultListWalksUpdatedIndex(t *testing.T) {
	env, owner := planEnv(t, "10,000 skills")
	ctx := context.Background()
	// A second tenant of the same size, so the index holds rows the scope
	// must skip.
	var tenant uuid.UUID
	var user uuid.UUID
	for i := range 2 {
		tn, err := owner.CreateTenant(ctx, database.NewTenant{Slug: fmt.Sprintf("plan-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		tenant = tn.ID
	}
	ownerConn := dbtest.Connect(t, env.OwnerURL)
	seeded := 0
	for _, size := range []int{1000, 10000} {
		for _, tn := range tenantIDs(t, ownerConn, "SELECT id FROM tenants") {
			user = seedSkills(t, env.DB, tn, seeded, size)
		}
		seeded = size
		// What autovacuum would have done by the time a tenant has this many.
		if _, err := ownerConn.Exec(ctx, "ANALYZE"); err != nil {
			t.Fatal(err)
		}
		for _, sc := range []database.Scope{
			{TenantID: tenant, UserID: user, Role: "member"},
			{TenantID: tenant},
		} {
			for _, page := range listPages {
				name := fmt.Sprintf("%d skills, role %q, %s", size, sc.Role, page.name)
				custom := explain(t, env.DB, sc, page.stmt, page.args, false)
				assertIndexWalk(t, name+", custom plan", custom)
				generic := explain(t, env.DB, sc, page.stmt, page.args, true)
				assertIndexWalk(t, name+", generic plan", generic)
			}
		}
	}
}

// planEnv is a fresh database and its owner, who creates tenants; both
// end with the test. Plan tests read plain PostgreSQL's plans, so they
// skip on Citus, and in -short mode, as they seed what seeds says.
func planEnv(t *testing.T, seeds string) (*dbtest.Env, *database.Owner) {
	t.Helper()
	if dbtest.CitusNodes() != nil {
		t.Skip("these are plain PostgreSQL's plans; on Citus every statement's plan is checked by TestCitusStatementsRouteToOneShard")
	}
	if testing.Short() {
		t.Skip("seeds " + seeds)
	}
	env := dbtest.New(t)
	owner, err := database.OpenOwner(context.Background(), env.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(owner.Close)
	return env, owner
}

// tenantIDs runs stmt on the owner's connection and returns the ids it
// answers with.
func tenantIDs(t *testing.T, conn *pgx.Conn, stmt string) []uuid.UUID {
	t.Helper()
	rows, err := conn.Query(context.Background(), stmt)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// seedSkills gives tenant a user (once) and skills numbered from..to-1,
// published and public, with distinct update times.
func seedSkills(t *testing.T, db *database.DB, tenant uuid.UUID, from, to int) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	var user uuid.UUID
	err := db.Write(ctx, database.Scope{TenantID: tenant, Role: "system"}, func(q database.Q) error {
		err := q.QueryRow(ctx, `INSERT INTO users (tenant_id, email) VALUES ($1, 'u@example.com')
			ON CONFLICT (tenant_id, email) DO UPDATE SET email = excluded.email RETURNING id`, tenant).Scan(&user)
		if err != nil {
			return err
		}
		_, err = q.Exec(ctx, `INSERT INTO skills (tenant_id, name, description, author_id, body, status, visibility, updated_at)
			SELECT $1, 'skill-' || g, 'Description of skill ' || g, $2, 'body', 'published', 'public',
			       now() - g * interval '1 minute'
			FROM generate_series($3::int, $4::int - 1) g`, tenant, user, from, to)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return user
}

// explain returns the plan of stmt with args in scope s; with generic
// set, the plan PostgreSQL caches for a prepared statement once it stops
// planning per execution.
func explain(t *testing.T, db *database.DB, s database.Scope, stmt string, args []any, generic bool) planNode {
	t.Helper()
	ctx := context.Background()
	var out []byte
	err := db.Write(ctx, s, func(q database.Q) error {
		if !generic {
			return q.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+stmt, args...).Scan(&out)
		}
		var err error
		out, err = genericPlan(ctx, q, stmt)
		return err
	})
	if err != nil {
		t.Fatalf("explain: %v", err)
	}
	var plans []struct {
		Plan planNode `json:"Plan"`
	}
	if err := json.Unmarshal(out, &plans); err != nil || len(plans) != 1 {
		t.Fatalf("explain output %s: %v", out, err)
	}
	return plans[0].Plan
}

// genericPlan returns EXPLAIN (FORMAT JSON) of the generic plan of stmt,
// the one PostgreSQL caches for a prepared statement once it stops
// planning per execution: it prepares stmt with plan_cache_mode forced to
// generic and executes it with every parameter NULL (a generic plan does
// not depend on the values). It runs inside q's transaction.
func genericPlan(ctx context.Context, q database.Q, stmt string) ([]byte, error) {
	if _, err := q.Exec(ctx, "SET LOCAL plan_cache_mode = force_generic_plan"); err != nil {
		return nil, err
	}
	// PREPARE takes no bind parameters: the tenant becomes one more
	// parameter of the prepared statement, as the scope binds it.
	stmt = strings.ReplaceAll(stmt, database.TenantParam, fmt.Sprintf("$%d", highestParam(stmt)+1))
	if _, err := q.Exec(ctx, "PREPARE plan_test_stmt AS "+stmt); err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	defer q.Exec(ctx, "DEALLOCATE plan_test_stmt")
	var params int
	err := q.QueryRow(ctx, "SELECT cardinality(parameter_types) FROM pg_prepared_statements WHERE name = 'plan_test_stmt'").Scan(&params)
	if err != nil {
		return nil, err
	}
	call := "EXECUTE plan_test_stmt"
	if params > 0 {
		call += "(" + strings.TrimSuffix(strings.Repeat("NULL, ", params), ", ") + ")"
	}
	var out []byte
	err = q.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+call).Scan(&out)
	return out, err
}

// assertIndexWalk checks that plan cuts the page from a walk of
// skills_tenant_updated: a Limit over that index scan, with no Sort below
// the Limit. A Sort above it orders the page's few rows after their
// joins, which is no cost; one below it would sort all of a tenant's
// skills.
func assertIndexWalk(t *testing.T, name string, plan planNode) {
	t.Helper()
	var walked bool
	var nodes []string
	var visit func(n planNode, underLimit bool)
	visit = func(n planNode, underLimit bool) {
		nodes = append(nodes, n.Type+" "+n.Index)
		switch {
		case strings.Contains(n.Type, "Sort") && (underLimit || !n.below("Limit")):
			t.Errorf("%s: plan has a %s node that is not above the page's Limit", name, n.Type)
		case n.Type == "Limit":
			underLimit = true
		case strings.HasPrefix(n.Type, "Index") && n.Index == "skills_tenant_updated" && underLimit:
			walked = true
		}
		for _, c := range n.Plans {
			visit(c, underLimit)
		}
	}
	visit(plan, false)
	if !walked {
		t.Errorf("%s: plan does not cut the page from a scan of skills_tenant_updated", name)
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("%s: nodes %q", name, nodes)
	}
}

// TestLargeTenantListWalksUpdatedIndex is the case the statistics get
// wrong: one tenant of 10,000 skills among 2,000 tenants of 5. The
// planner's estimate for "tenant_id = $1" in a generic plan is the
// average tenant's, 10 rows, for which a sort looks as cheap as the walk;
// for the large tenant that sort reads all 10,000 of its skills on every
// page. The large tenant's custom and generic plans must both walk the
// index. So must the generic plan when a small tenant asks, since a
// connection caches one generic plan for every tenant it serves; a small
// tenant's own custom plan may sort its five rows.
func TestLargeTenantListWalksUpdatedIndex(t *testing.T) {
	env, _ := planEnv(t, "20,000 skills in 2,001 tenants")
	ctx := context.Background()
	ownerConn := dbtest.Connect(t, env.OwnerURL)
	ids := tenantIDs(t, ownerConn, `INSERT INTO tenants (slug, name)
		SELECT 'plan-' || g, 'Plan ' || g FROM generate_series(0, 2000) g RETURNING id`)
	large, small := ids[0], ids[1]
	largeUser := seedSkills(t, env.DB, large, 0, 10000)
	var smallUser uuid.UUID
	for _, tn := range ids[1:] {
		u := seedSkills(t, env.DB, tn, 0, 5)
		if tn == small {
			smallUser = u
		}
	}
	if _, err := ownerConn.Exec(ctx, "ANALYZE"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		scope  database.Scope
		custom bool
	}{
		{"large tenant, member", database.Scope{TenantID: large, UserID: largeUser, Role: "member"}, true},
		{"large tenant, anonymous", database.Scope{TenantID: large}, true},
		{"small tenant, member", database.Scope{TenantID: small, UserID: smallUser, Role: "member"}, false},
	} {
		for _, page := range listPages {
			name := c.name + ", " + page.name
			if c.custom {
				assertIndexWalk(t, name+", custom plan", explain(t, env.DB, c.scope, page.stmt, page.args, false))
			}
			assertIndexWalk(t, name+", generic plan", explain(t, env.DB, c.scope, page.stmt, page.args, true))
		}
	}

	// The pages are marked database.PlanOnce, so the large tenant's pages
	// run on that generic plan: without the mark PostgreSQL keeps planning
	// each execution for it (its custom plan looks cheaper), which cost
	// twice the execution. One connection, so its prepared statement's
	// counters are the ones read.
	one, err := database.Open(ctx, env.AppURL, database.Options{MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	scope := database.Scope{TenantID: large, UserID: largeUser, Role: "member"}
	for _, f := range []store.SkillFilter{{Limit: 31}, {Offset: 30, Limit: 31}} {
		for range 8 {
			err := one.Read(ctx, scope, func(q database.Q) error {
				page, err := store.ListSkills(ctx, q, f)
				if err == nil && len(page) != 31 {
					err = fmt.Errorf("page of %d skills, want 31", len(page))
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	err = one.Read(ctx, scope, func(q database.Q) error {
		rows, err := q.Query(ctx, `SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements
			WHERE statement LIKE '%'||$1||'%' AND statement NOT LIKE '%pg_prepared_statements%'`, database.PlanOnce)
		if err != nil {
			return err
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var stmt string
			var generic, custom int64
			if err := rows.Scan(&stmt, &generic, &custom); err != nil {
				return err
			}
			n++
			if custom != 0 || generic != 8 {
				t.Errorf("%d generic and %d custom plans for 8 executions of %.60q…; want 8 generic", generic, custom, stmt)
			}
		}
		if n != 2 {
			t.Errorf("%d prepared list statements marked PlanOnce; want the first page and the later page", n)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
}
