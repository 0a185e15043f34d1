package schema

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Citus re-creates policies on its shards itself, and in doing so drops
// AS RESTRICTIVE (at distribution time and for every later CREATE POLICY);
// it applies some DDL to the coordinator only; and it runs the look-up
// functions' queries on the workers as their owner. What migrate does
// about each of those, and what verify checks, is here. Every tenant table
// is distributed by tenant_id, all co-located, and tenants is a reference
// table (a copy on every node), so one tenant's rows of every table live in
// one shard group and a statement that names the tenant is sent to that
// group alone.

// CitusVersion returns the version of the citus extension in the database
// conn is connected to, or "" when the database is plain PostgreSQL.
func CitusVersion(ctx context.Context, conn *pgx.Conn) (string, error) {
	var v string
	err := conn.QueryRow(ctx, "SELECT extversion FROM pg_extension WHERE extname = 'citus'").Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("check for citus: %w", err)
	}
	return v, nil
}

// How a declared table is placed: tenants is a reference table (a copy on
// every node; its unique slug and domains could not be enforced on a table
// distributed by id), every other table is distributed by tenant_id.
const (
	placedReference   = "reference"
	placedDistributed = "distributed"
)

func wantPlacement(t Table) string {
	if t.Name == "tenants" {
		return placedReference
	}
	return placedDistributed
}

// placement reads how Citus holds a table: reference, distributed, local
// (a Citus-managed local table, which Citus makes of a local table that
// references a reference table) or "" (a plain table).
func placement(ctx context.Context, conn *pgx.Conn, table string) (string, error) {
	var method, repmodel string
	err := conn.QueryRow(ctx, "SELECT partmethod::text, repmodel::text FROM pg_dist_partition WHERE logicalrelid = to_regclass('public.' || $1)", table).Scan(&method, &repmodel)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("placement of %s: %w", table, err)
	case method == "h":
		return placedDistributed, nil
	case repmodel == "t":
		return placedReference, nil
	}
	return "local", nil
}

// distribute places every declared table that is not yet placed as it
// should be. Citus can neither distribute a table while a local table's
// foreign key points at it nor keep a local table out of its metadata once
// it references a reference table, so the foreign keys that touch the
// tables being placed are taken off first and put back, as they were,
// once every table is placed.
func distribute(ctx context.Context, conn *pgx.Conn, log *slog.Logger) error {
	var pending []Table
	for _, t := range Tables {
		got, err := placement(ctx, conn, t.Name)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if got != wantPlacement(t) {
			pending = append(pending, t)
		}
	}
	if len(pending) == 0 {
		return nil
	}
	names := make([]string, len(pending))
	for i, t := range pending {
		names[i] = "public." + t.Name
	}
	rows, err := conn.Query(ctx, `SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
		WHERE contype = 'f' AND (conrelid = ANY($1::regclass[]) OR confrelid = ANY($1::regclass[])) ORDER BY conrelid, conname`, names)
	if err != nil {
		return fmt.Errorf("migrate: list foreign keys: %w", err)
	}
	type fkey struct{ table, name, def string }
	fkeys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (fkey, error) {
		var k fkey
		return k, r.Scan(&k.table, &k.name, &k.def)
	})
	if err != nil {
		return fmt.Errorf("migrate: list foreign keys: %w", err)
	}
	for _, k := range fkeys {
		if _, err := conn.Exec(ctx, fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT %s", k.table, pgx.Identifier{k.name}.Sanitize())); err != nil {
			return fmt.Errorf("migrate: set aside foreign key %s: %w", k.name, err)
		}
	}
	for _, t := range pending {
		got, err := placement(ctx, conn, t.Name)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if got == "local" {
			if _, err := conn.Exec(ctx, "SELECT undistribute_table($1)", "public."+t.Name); err != nil {
				return fmt.Errorf("migrate: take %s out of citus's local tables: %w", t.Name, err)
			}
		}
		stmt := "SELECT create_distributed_table($1, 'tenant_id', colocate_with => 'default')"
		if wantPlacement(t) == placedReference {
			stmt = "SELECT create_reference_table($1)"
		}
		if _, err := conn.Exec(ctx, stmt, "public."+t.Name); err != nil {
			return fmt.Errorf("migrate: place %s as a %s table: %w", t.Name, wantPlacement(t), err)
		}
		log.Info("placed table on citus", "table", t.Name, "as", wantPlacement(t))
	}
	for _, k := range fkeys {
		if _, err := conn.Exec(ctx, fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", k.table, pgx.Identifier{k.name}.Sanitize(), k.def)); err != nil {
			return fmt.Errorf("migrate: restore foreign key %s: %w", k.name, err)
		}
	}
	return nil
}

// authNotifyTriggers send pg_notify from triggers. On Citus they would
// fire on the workers, where no server listens, and a NOTIFY makes the
// two-phase commit of a multi-node transaction fail, so migrate drops
// them there; the servers then hear of changes from each other and
// bound what they cache by time (service.authCache).
var authNotifyTriggers = [][2]string{
	{"api_keys", "api_keys_auth_change"},
	{"users", "users_auth_change"},
	{"tenants", "tenants_auth_change"},
}

// prepareCitus runs before the migrations, as the superuser: the workers'
// public schema must be the owner's too (ALTER SCHEMA is not propagated).
// The owner's and the app role's inter-node passwords are recorded first:
// the migrations' DDL reaches the workers as the owner.
func prepareCitus(ctx context.Context, conn *pgx.Conn, pw Passwords) error {
	if err := interNodeAuth(ctx, conn, map[string]string{AppRole: pw.App, OwnerRole: pw.Owner}); err != nil {
		return err
	}
	if err := onWorkers(ctx, conn, "ALTER SCHEMA public OWNER TO "+OwnerRole); err != nil {
		return fmt.Errorf("migrate: hand the workers' schema to the owner: %w", err)
	}
	return nil
}

// finishCitus runs after the migrations and the policy SQL, as the
// superuser: it distributes the declared tables that are not yet
// distributed, puts back the restrictive kind of every shard policy, and
// repeats on the workers what PostgreSQL keeps per node.
func finishCitus(ctx context.Context, conn *pgx.Conn, pw Passwords, log *slog.Logger) error {
	// The triggers that stay (audit append-only, discovery stamp) act on
	// their own shard's rows only, which is what Citus's "unsafe" warns
	// about in general; trigger DDL on distributed tables needs it too.
	if _, err := conn.Exec(ctx, "SET citus.enable_unsafe_triggers = on"); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, tr := range authNotifyTriggers {
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_trigger WHERE tgrelid = to_regclass('public.' || $1) AND tgname = $2", tr[0], tr[1]).Scan(&n); err != nil {
			return fmt.Errorf("migrate: find %s: %w", tr[1], err)
		}
		if n == 0 {
			continue
		}
		if _, err := conn.Exec(ctx, fmt.Sprintf("DROP TRIGGER %s ON public.%s", tr[1], tr[0])); err != nil {
			return fmt.Errorf("migrate: drop %s for citus: %w", tr[1], err)
		}
	}
	if err := distribute(ctx, conn, log); err != nil {
		return err
	}
	for _, t := range Tables {
		for _, p := range t.Policies {
			if !p.Restrictive {
				continue
			}
			// One command per shard, run by the worker as one transaction,
			// so a shard is never left without the policy.
			cmd := fmt.Sprintf("DROP POLICY IF EXISTS %s ON %%1$s; %s", p.Name, createPolicy("%1$s", p))
			if err := onShards(ctx, conn, t.Name, cmd); err != nil {
				return fmt.Errorf("migrate: restore restrictive policy %s on the shards of %s: %w", p.Name, t.Name, err)
			}
			// The workers' shell tables (metadata synced from the
			// coordinator) lose it the same way; fixed there, locally.
			shell := strings.ReplaceAll(cmd, "%1$s", "public."+t.Name)
			if err := onWorkers(ctx, conn, shell); err != nil {
				return fmt.Errorf("migrate: restore restrictive policy %s on the workers' %s: %w", p.Name, t.Name, err)
			}
		}
	}
	resolverPassword, err := resolverPasswordFor(ctx, conn, pw.Resolver)
	if err != nil {
		return err
	}
	if err := interNodeAuth(ctx, conn, map[string]string{ResolverRole: resolverPassword}); err != nil {
		return err
	}
	for _, stmt := range []string{
		superuserSQL,
		// The look-up functions run their queries on the workers as their
		// owner, which must therefore be able to log in there (only
		// there: the coordinator's copy stays NOLOGIN), with the password
		// pg_dist_authinfo gives the coordinator. Role changes made on the
		// coordinator, as migrate's own, reach the workers, so migrate
		// puts this back every time.
		"ALTER ROLE " + ResolverRole + " LOGIN PASSWORD " + quoteLiteral(resolverPassword),
	} {
		if err := onWorkers(ctx, conn, stmt); err != nil {
			// Not the statement itself: it may carry a password.
			return fmt.Errorf("migrate: on the workers: %s: %w", strings.Join(strings.Fields(stmt)[:3], " "), err)
		}
	}
	// SET LOCAL of the tenant reaches the workers only with this setting
	// (and only inside a transaction block: database.Options.Citus).
	var db string
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf("ALTER ROLE %s IN DATABASE %s SET citus.propagate_set_commands = 'local'",
		AppRole, pgx.Identifier{db}.Sanitize())); err != nil {
		return fmt.Errorf("migrate: set citus.propagate_set_commands for the app role: %w", err)
	}
	return nil
}

// resolverPasswordFor is the resolver role's inter-node password: the one
// given, else the one this database already records, else a new random
// one. Roles are the cluster's, not the database's: several Skillvault
// databases on one cluster must be given the same password, or the last
// migrate's wins.
func resolverPasswordFor(ctx context.Context, conn *pgx.Conn, given string) (string, error) {
	if given != "" {
		return given, nil
	}
	var info string
	err := conn.QueryRow(ctx, "SELECT authinfo FROM pg_dist_authinfo WHERE nodeid = 0 AND rolename = $1", ResolverRole).Scan(&info)
	if errors.Is(err, pgx.ErrNoRows) {
		return rand.Text(), nil
	}
	if err != nil {
		return "", fmt.Errorf("migrate: read the resolver's inter-node password: %w", err)
	}
	v, ok := strings.CutPrefix(info, "password='")
	if !ok || !strings.HasSuffix(v, "'") {
		return rand.Text(), nil
	}
	return strings.NewReplacer(`\\`, `\`, `\'`, `'`).Replace(strings.TrimSuffix(v, "'")), nil
}

// interNodeAuth records in pg_dist_authinfo the password each of
// Skillvault's roles presents when the coordinator connects to a worker
// on its behalf (Citus connects as the user running the statement), so the
// workers need not trust the cluster's network. An empty password leaves
// a role's entry as it is.
func interNodeAuth(ctx context.Context, conn *pgx.Conn, passwords map[string]string) error {
	for role, pw := range passwords {
		if pw == "" {
			continue
		}
		// A libpq connection-string value: quoted, \ and ' escaped.
		info := `password='` + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(pw) + `'`
		_, err := conn.Exec(ctx, `INSERT INTO pg_dist_authinfo (nodeid, rolename, authinfo) VALUES (0, $1, $2)
			ON CONFLICT (nodeid, rolename) DO UPDATE SET authinfo = EXCLUDED.authinfo`, role, info)
		if err != nil {
			return fmt.Errorf("migrate: record %s's inter-node password: %w", role, err)
		}
	}
	return nil
}

// onWorkers runs one statement on every worker, for that worker alone: a
// worker with metadata would otherwise pass DDL and role changes on to the
// other nodes (or refuse them), and fails with the workers' errors.
func onWorkers(ctx context.Context, conn *pgx.Conn, stmt string) error {
	local := "BEGIN; SET LOCAL citus.enable_ddl_propagation = off; SET LOCAL citus.enable_alter_role_propagation = off; " + stmt + "; COMMIT"
	return collectFailures(ctx, conn, "SELECT nodename || ':' || nodeport, success, result FROM run_command_on_workers($1)", local)
}

// onShards runs cmd on every shard placement of table (%s in cmd is the
// shard's name, %1$s when it appears more than once).
func onShards(ctx context.Context, conn *pgx.Conn, table, cmd string) error {
	return collectFailures(ctx, conn, "SELECT nodename || ':' || nodeport || ' ' || shardid, success, result FROM run_command_on_placements($2::regclass, $1)", cmd, "public."+table)
}

func collectFailures(ctx context.Context, conn *pgx.Conn, query string, args ...any) error {
	results, err := nodeResults(ctx, conn, query, args)
	if err != nil {
		return err
	}
	var fails []string
	for _, r := range results {
		if !r.ok {
			fails = append(fails, r.where+": "+r.result)
		}
	}
	if len(fails) > 0 {
		return fmt.Errorf("%s", strings.Join(fails, "; "))
	}
	return nil
}

// nodeResult is one row of a run_command_on_* query: where it ran, whether
// it succeeded, and what it returned.
type nodeResult struct {
	where, result string
	ok            bool
}

// nodeResults reads every row of a run_command_on_* query (selected as
// where, success, result) before any is acted on.
func nodeResults(ctx context.Context, conn *pgx.Conn, query string, args []any) ([]nodeResult, error) {
	rows, err := conn.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (nodeResult, error) {
		var r nodeResult
		return r, row.Scan(&r.where, &r.ok, &r.result)
	})
}

// nodeTable is how one node sees one table (a shard placement, or a
// worker's shell table), as placementQuery reports it.
type nodeTable struct {
	RLS      bool     `json:"rls"`
	Force    bool     `json:"force"`
	Owner    string   `json:"owner"`
	Grants   []string `json:"grants"`
	Policies []struct {
		Name       string   `json:"name"`
		Permissive bool     `json:"permissive"`
		Cmd        string   `json:"cmd"`
		Using      string   `json:"using"`
		Check      string   `json:"check"`
		Roles      []string `json:"roles"`
	} `json:"policies"`
}

// placementQuery reads a table's guard on a node; %1$s is the table.
const placementQuery = `SELECT json_build_object(
  'rls', c.relrowsecurity, 'force', c.relforcerowsecurity, 'owner', c.relowner::regrole::text,
  'grants', ARRAY(SELECT g FROM unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE','REFERENCES','TRIGGER']) g
                  WHERE has_table_privilege('` + AppRole + `', c.oid, g)),
  'policies', coalesce((SELECT json_agg(json_build_object('name', p.polname, 'permissive', p.polpermissive, 'cmd', p.polcmd,
      'using', coalesce(pg_get_expr(p.polqual, p.polrelid), ''), 'check', coalesce(pg_get_expr(p.polwithcheck, p.polrelid), ''),
      'roles', ARRAY(SELECT CASE WHEN r = 0 THEN 'public' ELSE r::regrole::text END FROM unnest(p.polroles) r ORDER BY 1)) ORDER BY p.polname)
    FROM pg_policy p WHERE p.polrelid = c.oid), '[]'))
FROM pg_class c WHERE c.oid = '%1$s'::regclass`

// verifyCitus checks what Citus keeps apart from the coordinator's
// catalog: every table placed as declared, and on every shard placement
// and every worker's shell table the same guard as declared (RLS and FORCE
// on, the owner, the app role's grants, and each policy with its
// restrictive or permissive kind); the LEAKPROOF mark and the resolver's
// login on the workers; the app role's propagate_set_commands; and no
// NOTIFY trigger left.
func verifyCitus(ctx context.Context, conn *pgx.Conn, want map[string]livePolicy) ([]Problem, error) {
	var probs []Problem
	add := func(obj, what, fix string) { probs = append(probs, Problem{obj, what, fix}) }
	for _, t := range Tables {
		got, err := placement(ctx, conn, t.Name)
		if err != nil {
			return nil, err
		}
		if got != wantPlacement(t) {
			add(t.Name, fmt.Sprintf("is placed as %q on Citus, want %s", got, wantPlacement(t)), fixMigrate)
			continue
		}
		check := func(where string, nt nodeTable) {
			obj := t.Name + " on " + where
			if !nt.RLS {
				add(obj, "row-level security is disabled", fixMigrate)
			}
			if !nt.Force {
				add(obj, "FORCE ROW LEVEL SECURITY is off", fixMigrate)
			}
			if nt.Owner != OwnerRole {
				add(obj, "is owned by "+nt.Owner+", want "+OwnerRole, fixMigrate)
			}
			if !slicesEqualSorted(nt.Grants, t.Grants) {
				add(obj, fmt.Sprintf("the app role has %v, want %v", nt.Grants, t.Grants), fixMigrate)
			}
			seen := map[string]bool{}
			for _, p := range nt.Policies {
				seen[p.Name] = true
				w, ok := want[t.Name+"."+p.Name]
				if !ok {
					add(obj, "policy "+p.Name+" is not declared", fixMigrate)
					continue
				}
				live := livePolicy{Command: commands[p.Cmd], Permissive: p.Permissive, Using: p.Using, Check: p.Check, Roles: p.Roles}
				if d := live.diff(w); d != "" {
					add(obj, "policy "+p.Name+" differs from the declaration: "+d, "run `skillvault migrate` (it restores what Citus dropped on the shards)")
				}
			}
			for _, p := range t.Policies {
				if !seen[p.Name] {
					add(obj, "policy "+p.Name+" is missing", fixMigrate)
				}
			}
		}
		read := func(where, result string) {
			var nt nodeTable
			if err := json.Unmarshal([]byte(result), &nt); err != nil {
				add(t.Name+" on "+where, "cannot read the table there: "+result, fixMigrate)
				return
			}
			check(where, nt)
		}
		// Every shard placement, then every worker's shell table.
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{"SELECT nodename || ':' || nodeport || ' shard ' || shardid, success, result FROM run_command_on_placements($2::regclass, $1)",
				[]any{placementQuery, "public." + t.Name}},
			{"SELECT nodename || ':' || nodeport || ' (shell table)', success, result FROM run_command_on_workers($1)",
				[]any{strings.ReplaceAll(placementQuery, "%1$s", "public."+t.Name)}},
		} {
			if err := eachNode(ctx, conn, q.sql, q.args, read, add); err != nil {
				return nil, err
			}
		}
	}
	workerChecks := []struct{ query, want, obj, what string }{
		{"SELECT proleakproof FROM pg_proc WHERE oid = 'pg_catalog.ts_match_vq(tsvector, tsquery)'::regprocedure", "t",
			"ts_match_vq", "is not LEAKPROOF on this worker, so keyword search scans every row"},
		{"SELECT rolcanlogin FROM pg_roles WHERE rolname = '" + ResolverRole + "'", "t",
			ResolverRole, "cannot log in on this worker, so the look-up functions fail there"},
		{"SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = '" + AppRole + "'", "f",
			AppRole, "can bypass row-level security on this worker"},
	}
	for _, c := range workerChecks {
		err := eachNode(ctx, conn, "SELECT nodename || ':' || nodeport, success, result FROM run_command_on_workers($1)", []any{c.query},
			func(where, result string) {
				if result != c.want {
					add(c.obj+" on "+where, c.what, fixMigrate)
				}
			}, add)
		if err != nil {
			return nil, err
		}
	}
	var propagated bool
	err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_db_role_setting s
		WHERE s.setrole = (SELECT oid FROM pg_roles WHERE rolname = $1)
		  AND s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
		  AND 'citus.propagate_set_commands=local' = ANY (s.setconfig))`, AppRole).Scan(&propagated)
	if err != nil {
		return nil, fmt.Errorf("verify: read the app role's settings: %w", err)
	}
	if !propagated {
		add(AppRole, "citus.propagate_set_commands is not 'local' for it, so the tenant never reaches the workers", fixMigrate)
	}
	for _, tr := range authNotifyTriggers {
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_trigger WHERE tgrelid = to_regclass('public.' || $1) AND tgname = $2", tr[0], tr[1]).Scan(&n); err != nil {
			return nil, err
		}
		if n > 0 {
			add(tr[0], "trigger "+tr[1]+" sends NOTIFY, which fails under Citus's two-phase commit", fixMigrate)
		}
	}
	return probs, nil
}

// eachNode runs a run_command_on_* query and hands each node's result to
// ok, or reports the node's failure.
func eachNode(ctx context.Context, conn *pgx.Conn, query string, args []any, ok func(where, result string), add func(obj, what, fix string)) error {
	results, err := nodeResults(ctx, conn, query, args)
	if err != nil {
		return fmt.Errorf("verify on the citus nodes: %w", err)
	}
	for _, r := range results {
		if !r.ok {
			add(r.where, "cannot be checked: "+r.result, "make the node reachable from the coordinator")
			continue
		}
		ok(r.where, r.result)
	}
	return nil
}

func slicesEqualSorted(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
