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
func PolicySQL() string {
	var b strings.Builder
	fmt.Fprintf(&b, "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %s, PUBLIC;\n", AppRole)
	fmt.Fprintf(&b, "REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM %s, PUBLIC;\n", AppRole)
	fmt.Fprintf(&b, "REVOKE ALL ON FUNCTION public.audit_logs_append_only() FROM %s, PUBLIC;\n", AppRole)
	fmt.Fprintf(&b, "GRANT USAGE ON SCHEMA public TO %s, %s;\n", AppRole, ResolverRole)
	fmt.Fprintf(&b, "REVOKE CREATE ON SCHEMA public FROM PUBLIC;\n")
	for _, t := range Tables {
		b.WriteString(TableSQL(t))
	}
	names := make([]string, 0, len(resolverGrants))
	for n := range resolverGrants {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "GRANT %s ON public.%s TO %s;\n", strings.Join(resolverGrants[n], ", "), n, ResolverRole)
	}
	for _, f := range Lookups {
		fmt.Fprintf(&b, "REVOKE ALL ON FUNCTION public.%s FROM PUBLIC;\n", f)
		fmt.Fprintf(&b, "GRANT EXECUTE ON FUNCTION public.%s TO %s;\n", f, AppRole)
	}
	return b.String()
}

// TableSQL is the part of PolicySQL for one table.
func TableSQL(t Table) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ALTER TABLE public.%s ENABLE ROW LEVEL SECURITY;\n", t.Name)
	fmt.Fprintf(&b, "ALTER TABLE public.%s FORCE ROW LEVEL SECURITY;\n", t.Name)
	fmt.Fprintf(&b, `DO $$ DECLARE p record; BEGIN
  FOR p IN SELECT policyname FROM pg_policies WHERE schemaname = 'public' AND tablename = '%s' LOOP
    EXECUTE format('DROP POLICY %%I ON public.%s', p.policyname);
  END LOOP;
END $$;
`, t.Name, t.Name)
	for _, p := range t.Policies {
		b.WriteString(CreatePolicySQL(t.Name, p))
		b.WriteString(";\n")
	}
	fmt.Fprintf(&b, "GRANT %s ON public.%s TO %s;\n", strings.Join(t.Grants, ", "), t.Name, AppRole)
	return b.String()
}

// CreatePolicySQL renders one CREATE POLICY statement.
func CreatePolicySQL(table string, p Policy) string {
	kind := "PERMISSIVE"
	if p.Restrictive {
		kind = "RESTRICTIVE"
	}
	s := fmt.Sprintf("CREATE POLICY %s ON public.%s AS %s FOR %s TO %s",
		p.Name, table, kind, p.Command, strings.Join(p.Roles, ", "))
	if p.Using != "" {
		s += " USING (" + p.Using + ")"
	}
	if p.Check != "" {
		s += " WITH CHECK (" + p.Check + ")"
	}
	return s
}
