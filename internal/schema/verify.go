package schema

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Problem is one difference between the live database and the declaration.
type Problem struct {
	Object string // table, role or function
	What   string
	Fix    string
}

func (p Problem) String() string {
	return fmt.Sprintf("%s: %s (fix: %s)", p.Object, p.What, p.Fix)
}

var fixMigrate = "run `skillvault migrate`"

// Verify reads the live catalog through conn (the owner or a superuser) and
// reports every way it differs from Tables: RLS or FORCE off, a policy
// missing, changed or undeclared, a tenant table without declaration, an
// app role that could bypass RLS, grants beyond the declaration, the audit
// triggers, and the look-up functions. No problems means the database is
// exactly as declared.
func Verify(ctx context.Context, conn *pgx.Conn) ([]Problem, error) {
	var probs []Problem
	add := func(obj, what, fix string) { probs = append(probs, Problem{obj, what, fix}) }

	// The declared policies, normalised by PostgreSQL itself: create each
	// one on its table inside a transaction that is rolled back, and read
	// back how the catalog prints it.
	want, err := normalisedPolicies(ctx, conn)
	if err != nil {
		return nil, err
	}

	for _, t := range Tables {
		var rls, force bool
		err := conn.QueryRow(ctx, `SELECT relrowsecurity, relforcerowsecurity FROM pg_class
			WHERE oid = to_regclass('public.' || $1)`, t.Name).Scan(&rls, &force)
		if errors.Is(err, pgx.ErrNoRows) {
			add(t.Name, "declared table does not exist", fixMigrate)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("verify %s: %w", t.Name, err)
		}
		if !rls {
			add(t.Name, "row-level security is disabled", "ALTER TABLE "+t.Name+" ENABLE ROW LEVEL SECURITY, or "+fixMigrate)
		}
		if !force {
			add(t.Name, "FORCE ROW LEVEL SECURITY is off, so the owner bypasses the policies", "ALTER TABLE "+t.Name+" FORCE ROW LEVEL SECURITY, or "+fixMigrate)
		}
		live, err := livePolicies(ctx, conn, t.Name)
		if err != nil {
			return nil, err
		}
		for _, p := range t.Policies {
			got, ok := live[p.Name]
			if !ok {
				add(t.Name, "policy "+p.Name+" is missing", fixMigrate)
				continue
			}
			if d := got.diff(want[t.Name+"."+p.Name]); d != "" {
				add(t.Name, "policy "+p.Name+" differs from the declaration: "+d, fixMigrate)
			}
			delete(live, p.Name)
		}
		for name := range live {
			add(t.Name, "policy "+name+" is not declared", "DROP POLICY "+name+" ON "+t.Name+", or declare it in internal/schema/tables.go")
		}
		probs = append(probs, checkGrants(ctx, conn, t)...)
	}

	// Every table holding tenant_id must be declared.
	rows, err := conn.Query(ctx, `SELECT c.relname FROM pg_attribute a
		JOIN pg_class c ON c.oid = a.attrelid
		WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
		  AND a.attname = 'tenant_id' AND NOT a.attisdropped ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("verify: list tenant tables: %w", err)
	}
	tenantTables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("verify: list tenant tables: %w", err)
	}
	for _, name := range tenantTables {
		if _, ok := TableNamed(name); !ok {
			add(name, "has a tenant_id column but no declaration, so nothing guards it", "declare it in internal/schema/tables.go and "+fixMigrate)
		}
	}

	citus, err := CitusVersion(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	if citus != "" {
		p, err := verifyCitus(ctx, conn, want)
		if err != nil {
			return nil, err
		}
		probs = append(probs, p...)
	}

	p, err := checkRoles(ctx, conn)
	if err != nil {
		return nil, err
	}
	probs = append(probs, p...)
	p, err = checkFunctions(ctx, conn)
	if err != nil {
		return nil, err
	}
	probs = append(probs, p...)
	return probs, nil
}

type livePolicy struct {
	Command, Using, Check string
	Permissive            bool
	Roles                 []string
}

func (l livePolicy) diff(w livePolicy) string {
	var d []string
	if l.Command != w.Command {
		d = append(d, fmt.Sprintf("command %s, want %s", l.Command, w.Command))
	}
	if l.Permissive != w.Permissive {
		d = append(d, fmt.Sprintf("permissive=%t, want %t", l.Permissive, w.Permissive))
	}
	if !slices.Equal(l.Roles, w.Roles) {
		d = append(d, fmt.Sprintf("roles %v, want %v", l.Roles, w.Roles))
	}
	if l.Using != w.Using {
		d = append(d, fmt.Sprintf("USING %q, want %q", l.Using, w.Using))
	}
	if l.Check != w.Check {
		d = append(d, fmt.Sprintf("WITH CHECK %q, want %q", l.Check, w.Check))
	}
	return strings.Join(d, "; ")
}

const policyQuery = `SELECT p.polname, p.polcmd::text, p.polpermissive,
	coalesce(pg_get_expr(p.polqual, p.polrelid), ''), coalesce(pg_get_expr(p.polwithcheck, p.polrelid), ''),
	ARRAY(SELECT CASE WHEN r = 0 THEN 'public' ELSE r::regrole::text END FROM unnest(p.polroles) r ORDER BY 1)
	FROM pg_policy p WHERE p.polrelid = to_regclass('public.' || $1)`

var commands = map[string]string{"*": "ALL", "r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE"}

func livePolicies(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, table string) (map[string]livePolicy, error) {
	rows, err := q.Query(ctx, policyQuery, table)
	if err != nil {
		return nil, fmt.Errorf("verify: read policies of %s: %w", table, err)
	}
	defer rows.Close()
	out := map[string]livePolicy{}
	for rows.Next() {
		var name, cmd string
		var p livePolicy
		if err := rows.Scan(&name, &cmd, &p.Permissive, &p.Using, &p.Check, &p.Roles); err != nil {
			return nil, err
		}
		p.Command = commands[cmd]
		out[name] = p
	}
	return out, rows.Err()
}

func normalisedPolicies(ctx context.Context, conn *pgx.Conn) (map[string]livePolicy, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)
	out := map[string]livePolicy{}
	for _, t := range Tables {
		if _, err := tx.Exec(ctx, "SAVEPOINT declared"); err != nil {
			return nil, err
		}
		for _, p := range t.Policies {
			tmp := p
			tmp.Name = "skillvault_verify_" + p.Name
			if _, err := tx.Exec(ctx, CreatePolicySQL(t.Name, tmp)); err != nil {
				// The table is missing; that is reported elsewhere.
				tx.Exec(ctx, "ROLLBACK TO SAVEPOINT declared")
				break
			}
		}
		live, err := livePolicies(ctx, tx, t.Name)
		if err != nil {
			return nil, err
		}
		for name, p := range live {
			if n, ok := strings.CutPrefix(name, "skillvault_verify_"); ok {
				out[t.Name+"."+n] = p
			}
		}
	}
	return out, nil
}

var privileges = []string{"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"}

func checkGrants(ctx context.Context, conn *pgx.Conn, t Table) []Problem {
	var probs []Problem
	for _, priv := range privileges {
		var has bool
		err := conn.QueryRow(ctx, "SELECT has_table_privilege($1, 'public.' || $2, $3)", AppRole, t.Name, priv).Scan(&has)
		if err != nil {
			probs = append(probs, Problem{t.Name, "cannot check " + priv + ": " + err.Error(), fixMigrate})
			continue
		}
		want := slices.Contains(t.Grants, priv)
		switch {
		case has && priv == "TRUNCATE":
			probs = append(probs, Problem{t.Name, "the app role may TRUNCATE, which ignores row-level security", "REVOKE TRUNCATE ON " + t.Name + " FROM " + AppRole})
		case has && !want:
			probs = append(probs, Problem{t.Name, "the app role has " + priv + ", which is not declared", "REVOKE " + priv + " ON " + t.Name + " FROM " + AppRole})
		case !has && want:
			probs = append(probs, Problem{t.Name, "the app role lacks declared " + priv, fixMigrate})
		}
	}
	return probs
}

// checkRoles reports an app role that could bypass RLS: superuser,
// BYPASSRLS, owner of anything in the schema, or able to become a role
// that is.
func checkRoles(ctx context.Context, conn *pgx.Conn) ([]Problem, error) {
	var probs []Problem
	var exists, super, bypass bool
	err := conn.QueryRow(ctx, `SELECT true, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1`, AppRole).Scan(&exists, &super, &bypass)
	if errors.Is(err, pgx.ErrNoRows) {
		return []Problem{{AppRole, "role does not exist", fixMigrate}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("verify: read app role: %w", err)
	}
	if super {
		probs = append(probs, Problem{AppRole, "is a superuser, which bypasses row-level security", "ALTER ROLE " + AppRole + " NOSUPERUSER"})
	}
	if bypass {
		probs = append(probs, Problem{AppRole, "has BYPASSRLS", "ALTER ROLE " + AppRole + " NOBYPASSRLS"})
	}
	rows, err := conn.Query(ctx, `SELECT r.rolname FROM pg_roles r
		WHERE r.rolname <> $1 AND pg_has_role($1, r.oid, 'MEMBER')
		  AND (r.rolsuper OR r.rolbypassrls OR EXISTS (SELECT 1 FROM pg_class c WHERE c.relowner = r.oid AND c.relnamespace = 'public'::regnamespace))`, AppRole)
	if err != nil {
		return nil, fmt.Errorf("verify: app role memberships: %w", err)
	}
	via, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	for _, r := range via {
		probs = append(probs, Problem{AppRole, "is a member of " + r + ", which can bypass row-level security", "REVOKE " + r + " FROM " + AppRole})
	}
	rows, err = conn.Query(ctx, `SELECT c.relname FROM pg_class c
		WHERE c.relnamespace = 'public'::regnamespace AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = $1) ORDER BY 1`, AppRole)
	if err != nil {
		return nil, fmt.Errorf("verify: app role ownership: %w", err)
	}
	owned, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	for _, o := range owned {
		probs = append(probs, Problem{AppRole, "owns " + o + ", and an owner can switch its row-level security off", "ALTER TABLE " + o + " OWNER TO " + OwnerRole})
	}
	var login, rbypass bool
	err = conn.QueryRow(ctx, `SELECT rolcanlogin, rolbypassrls FROM pg_roles WHERE rolname = $1`, ResolverRole).Scan(&login, &rbypass)
	if errors.Is(err, pgx.ErrNoRows) {
		probs = append(probs, Problem{ResolverRole, "role does not exist", fixMigrate})
	} else if err != nil {
		return nil, err
	} else if login {
		probs = append(probs, Problem{ResolverRole, "can log in, and it bypasses row-level security", "ALTER ROLE " + ResolverRole + " NOLOGIN"})
	}
	return probs, nil
}

func checkFunctions(ctx context.Context, conn *pgx.Conn) ([]Problem, error) {
	var probs []Problem
	for _, f := range Lookups {
		var owner string
		var definer bool
		var config []string
		err := conn.QueryRow(ctx, `SELECT proowner::regrole::text, prosecdef, coalesce(proconfig, '{}')
			FROM pg_proc WHERE oid = to_regprocedure('public.' || $1)`, f).Scan(&owner, &definer, &config)
		if errors.Is(err, pgx.ErrNoRows) {
			probs = append(probs, Problem{f, "look-up function is missing", fixMigrate})
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("verify %s: %w", f, err)
		}
		if owner != ResolverRole {
			probs = append(probs, Problem{f, "is owned by " + owner + ", want " + ResolverRole, fixMigrate})
		}
		if !definer {
			probs = append(probs, Problem{f, "is not SECURITY DEFINER", fixMigrate})
		}
		if !slices.ContainsFunc(config, func(s string) bool { return strings.HasPrefix(s, "search_path=") }) {
			probs = append(probs, Problem{f, "has no fixed search_path", fixMigrate})
		}
	}
	rows, err := conn.Query(ctx, `SELECT tgname FROM pg_trigger
		WHERE tgrelid = to_regclass('public.audit_logs') AND tgenabled <> 'D' AND NOT tgisinternal`)
	if err != nil {
		return nil, fmt.Errorf("verify: audit triggers: %w", err)
	}
	have, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	for _, want := range AuditTriggers {
		if !slices.Contains(have, want) {
			probs = append(probs, Problem{"audit_logs", "trigger " + want + " is missing or disabled, so audit rows can be changed", fixMigrate})
		}
	}
	sort.SliceStable(probs, func(i, j int) bool { return probs[i].Object < probs[j].Object })
	return probs, nil
}
