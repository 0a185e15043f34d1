// Package schema owns the database schema: the goose migrations, the one
// declaration of which tables are tenant-scoped and how row-level security
// guards them, the SQL generated from that declaration, and the verifier
// that compares a live database with it.
package schema

// The three roles of DESIGN.md §1. The owner runs migrations and owns every
// object; the app role serves requests and can bypass nothing; the resolver
// role cannot log in and owns only the cross-tenant look-up functions.
const (
	OwnerRole    = "skillvault_owner"
	AppRole      = "skillvault_app"
	ResolverRole = "skillvault_resolver"
)

// CurrentTenant is the SQL expression for the tenant of the running
// transaction. Unset (NULL) and reset (”) both yield NULL, so a query
// outside a scope matches no row. It has no sub-select: Citus refuses
// sub-queries in the policies of distributed tables. It is stable, so an
// index scan still uses it as a key; the store's statements also name the
// tenant as a bind parameter, which is what drives their plans (and what
// Citus routes by).
const CurrentTenant = "nullif(current_setting('app.current_tenant_id', true), '')::uuid"

// TenantClamp is the restrictive tenant_isolation policy's expression.
const TenantClamp = "tenant_id = " + CurrentTenant

// Policy is one row-level security policy.
type Policy struct {
	Name        string
	Command     string // ALL, SELECT, INSERT, UPDATE or DELETE
	Restrictive bool
	Roles       []string
	Using       string // empty when the command has no USING clause (INSERT)
	Check       string // empty when the command has no WITH CHECK clause (SELECT, DELETE)
}

// Table declares one table guarded by row-level security.
type Table struct {
	Name     string
	Grants   []string // privileges of the app role; never TRUNCATE
	Policies []Policy
}

var dml = []string{"SELECT", "INSERT", "UPDATE", "DELETE"}

// tenantIsolation is the clamp every tenant-scoped table carries. It is
// restrictive, so no permissive policy, present or future, can widen it.
var tenantIsolation = Policy{
	Name: "tenant_isolation", Command: "ALL", Restrictive: true,
	Roles: []string{"public"}, Using: TenantClamp, Check: TenantClamp,
}

// appAccess is the permissive policy that lets the app role act at all; a
// restrictive policy alone would grant nothing. It carries the tenant
// clamp too, so isolation does not rest on one keyword: Citus re-creates
// shard policies without AS RESTRICTIVE, which ORs the two policies, and
// this one must then still admit the current tenant's rows only.
var appAccess = Policy{
	Name: "app_access", Command: "ALL",
	Roles: []string{AppRole}, Using: TenantClamp, Check: TenantClamp,
}

func tenantTable(name string, grants ...string) Table {
	if len(grants) == 0 {
		grants = dml
	}
	return Table{Name: name, Grants: grants, Policies: []Policy{appAccess, tenantIsolation}}
}

// Tables is the declaration: every table that holds tenant data. Add a
// table here in the same change that creates it; `skillvault db verify`
// and the catalog tests fail for any tenant_id table missing from it.
var Tables = []Table{
	{
		// tenants is global; the app may read only its own row, and
		// tenants are created and changed by the owner (skillvault tenant).
		Name:   "tenants",
		Grants: []string{"SELECT"},
		Policies: []Policy{
			{Name: "app_read_own", Command: "SELECT", Roles: []string{AppRole}, Using: "id = " + CurrentTenant},
			{Name: "owner_manage", Command: "ALL", Roles: []string{OwnerRole}, Using: "true", Check: "true"},
		},
	},
	tenantTable("users"),
	tenantTable("skills"),
	tenantTable("skill_versions"),
	// Blobs are never updated (content-addressed). The app role may
	// delete them so that the garbage collector (service.collectGarbage)
	// frees what no version references. This is narrower than a SECURITY
	// DEFINER function or an owner-side job: the tenant clamp limits a
	// delete to the current tenant with no bypassing code at all, and the
	// composite foreign key from skill_version_files refuses the deletion
	// of any blob a version still references (foreign-key checks ignore
	// row-level security, so no version anywhere can lose its bytes). It
	// also works under Citus, where definer functions owned by a NOLOGIN
	// role fail on distributed tables (DESIGN.md §7), and needs no owner
	// connection in the server.
	tenantTable("blobs", "SELECT", "INSERT", "DELETE"),
	tenantTable("skill_version_files", "SELECT", "INSERT"),
	tenantTable("ratings"),
	tenantTable("usage_events", "SELECT", "INSERT"),
	tenantTable("skill_embeddings"),
	tenantTable("skill_reviews"),
	tenantTable("api_keys"),
	tenantTable("site_settings", "SELECT", "INSERT", "UPDATE"),
	{
		Name:   "audit_logs",
		Grants: []string{"SELECT", "INSERT"},
		Policies: []Policy{
			{Name: "app_read", Command: "SELECT", Roles: []string{AppRole}, Using: TenantClamp},
			{Name: "app_append", Command: "INSERT", Roles: []string{AppRole}, Check: TenantClamp},
			// The owner may reach its tenant's rows so that the append-only
			// trigger, not an empty match, is what refuses its changes.
			{Name: "owner_maintain", Command: "ALL", Roles: []string{OwnerRole}, Using: TenantClamp, Check: TenantClamp},
			tenantIsolation,
		},
	},
	tenantTable("web_sessions"),
	tenantTable("login_links"),
	tenantTable("oauth_clients"),
	tenantTable("oauth_grants"),
	tenantTable("oauth_codes"),
	tenantTable("oauth_tokens"),
}

// Lookups are the SECURITY DEFINER functions that run before the tenant is
// known. The resolver role owns them; the app role may only execute them.
var Lookups = []string{
	"lookup_api_key(bytea)",
	"lookup_tenant_by_host(text)",
	"lookup_tenant_by_email_domain(text)",
	"write_global_audit(text, text, jsonb, text, text, text)",
	"tenants_with_due_embeddings(integer)",
	"lookup_oauth_token(bytea)",
	"lookup_oauth_code(bytea)",
}

// resolverGrants are what the look-up functions read and write, as their
// owner. The resolver role bypasses RLS, which is why it cannot log in.
var resolverGrants = map[string][]string{
	"api_keys":   {"SELECT"},
	"users":      {"SELECT"},
	"tenants":    {"SELECT"},
	"audit_logs": {"INSERT"},
	// tenants_with_due_embeddings
	"skill_embeddings": {"SELECT"},
	// lookup_oauth_token, lookup_oauth_code
	"oauth_tokens": {"SELECT"},
	"oauth_grants": {"SELECT"},
	"oauth_codes":  {"SELECT"},
}

// AuditTriggers must exist and be enabled on audit_logs.
var AuditTriggers = []string{"audit_logs_append_only", "audit_logs_no_truncate"}

// TableNamed returns the declaration of a table.
func TableNamed(name string) (Table, bool) {
	for _, t := range Tables {
		if t.Name == name {
			return t, true
		}
	}
	return Table{}, false
}
