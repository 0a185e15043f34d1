package schema

import (
	"fmt"
	"sort"
	"strings"
)

// PolicySQL is the SQL that makes the live database match the declaration:
// RLS enabled and forced on every declared table, exactly the declared
// policies (any other policy is dropped), exactly the declared grants for
// the app role, and the look-up functions' privileges. It is idempotent and
// runs as the owner after every migration.
func PolicySQL() string { return strings.Join(PolicyStatements(), ";\n") + ";\n" }

// PolicyStatements is PolicySQL one statement at a time, as migrate sends
// it: Citus cannot forward a string of several statements to its workers.
func PolicyStatements() []string {
	out := []string{
		fmt.Sprintf("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %s, PUBLIC", AppRole),
		fmt.Sprintf("REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM %s, PUBLIC", AppRole),
		fmt.Sprintf("REVOKE ALL ON FUNCTION public.audit_logs_append_only() FROM %s, PUBLIC", AppRole),
		fmt.Sprintf("GRANT USAGE ON SCHEMA public TO %s, %s", AppRole, ResolverRole),
		"REVOKE CREATE ON SCHEMA public FROM PUBLIC",
	}
	for _, t := range Tables {
		out = append(out, TableStatements(t)...)
	}
	names := make([]string, 0, len(resolverGrants))
	for n := range resolverGrants {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		out = append(out, fmt.Sprintf("GRANT %s ON public.%s TO %s", strings.Join(resolverGrants[n], ", "), n, ResolverRole))
	}
	for _, f := range Lookups {
		out = append(out,
			fmt.Sprintf("REVOKE ALL ON FUNCTION public.%s FROM PUBLIC", f),
			fmt.Sprintf("GRANT EXECUTE ON FUNCTION public.%s TO %s", f, AppRole))
	}
	return out
}

// TableStatements is the part of PolicyStatements for one table.
func TableStatements(t Table) []string {
	out := []string{
		fmt.Sprintf("ALTER TABLE public.%s ENABLE ROW LEVEL SECURITY", t.Name),
		fmt.Sprintf("ALTER TABLE public.%s FORCE ROW LEVEL SECURITY", t.Name),
		fmt.Sprintf(`DO $$ DECLARE p record; BEGIN
  FOR p IN SELECT policyname FROM pg_policies WHERE schemaname = 'public' AND tablename = '%s' LOOP
    EXECUTE format('DROP POLICY %%I ON public.%s', p.policyname);
  END LOOP;
END $$`, t.Name, t.Name),
	}
	for _, p := range t.Policies {
		out = append(out, CreatePolicySQL(t.Name, p))
	}
	return append(out, fmt.Sprintf("GRANT %s ON public.%s TO %s", strings.Join(t.Grants, ", "), t.Name, AppRole))
}

// CreatePolicySQL renders one CREATE POLICY statement.
func CreatePolicySQL(table string, p Policy) string { return createPolicy("public."+table, p) }

// createPolicy renders CREATE POLICY on target: a qualified table name, or
// the %s of a command run on every shard.
func createPolicy(target string, p Policy) string {
	kind := "PERMISSIVE"
	if p.Restrictive {
		kind = "RESTRICTIVE"
	}
	s := fmt.Sprintf("CREATE POLICY %s ON %s AS %s FOR %s TO %s",
		p.Name, target, kind, p.Command, strings.Join(p.Roles, ", "))
	if p.Using != "" {
		s += " USING (" + p.Using + ")"
	}
	if p.Check != "" {
		s += " WITH CHECK (" + p.Check + ")"
	}
	return s
}
