package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/dbtest"
	"github.com/skillvault/skillvault/internal/schema"
	"github.com/skillvault/skillvault/internal/store"
)

// seqScanAllowed are the statements that read all (or most) of their
// tenant's rows of a table by design, each with the reason. None of them is
// one of the common reads (point reads, the default list, discovery files).
// An entry whose statement no longer reads its tenant's rows fails the
// test, so the list only shrinks.
var seqScanAllowed = map[string]string{
	"ActivityTopUsers":            "the admin activity report: a period's events grouped by the tenant's users",
	"BlobsCollectAll":             "the garbage collector: every blob the tenant's versions no longer reference",
	"DiscoveryEntries":            "the discovery index lists every published skill; it is built once per stamp and cached",
	"EmbeddingAllSkills":          "re-embedding every skill of the tenant after a model change (background)",
	"EmbeddingCounts":             "the admin search status: counts of the tenant's embeddings by state",
	"EmbeddingVectors":            "loads every vector of the tenant into its in-memory search cache (once per stamp)",
	"KeyList":                     "the admin and per-user key lists: the optional user filter ($1 IS NULL OR ...) leaves the generic plan reading the tenant's keys (a handful per user)",
	"OAuthGrantList":              "the admin and per-user OAuth grant lists, as KeyList",
	"QuotaBytesUsed":              "the quota check on publish sums the sizes of all the tenant's blobs",
	"QuotaSkillCount":             "the quota check on publish counts all the tenant's skills",
	"SearchKeyword":               "for a tenant under 2,000 skills the statement tests each row by design (see its comment); larger tenants use the GIN index",
	"SessionDeleteExpired":        "the periodic clean-up of the tenant's expired sessions",
	"SkillList rating first page": "no index orders by the computed rating: the page is a top-N sort of the tenant's visible skills",
	"SkillList rating later page": "as the rating first page",
	"SkillList uses first page":   "no index orders by the computed use count: the page is a top-N sort of the tenant's visible skills",
	"SkillList uses later page":   "as the uses first page",
	"UserCountActiveAdmins":       "runs only when an admin is demoted or deactivated, to keep one",
	"PublishedVersions":           "the git repository of a view holds every published version (built once per stamp and cached)",
	"SkillDecideReview":           "finds the skill among the tenant's skills waiting for review (the partial index skills_tenant_pending), a handful",
	// Optional filters ("$n = '' OR ..."): PostgreSQL plans these per
	// execution with the values (their generic plan costs more than the
	// custom ones), so a filter left empty drops out; the generic plan
	// judged here is not the one that runs.
	"AuditList":                  "optional filters, planned per execution",
	"SkillList name filtered":    "optional filters, planned per execution",
	"SkillList rating filtered":  "optional filters, planned per execution",
	"SkillList updated filtered": "optional filters, planned per execution",
	"SkillList uses filtered":    "optional filters, planned per execution",
}

// TestNoSequentialScanOfTenantRows prepares every statement of
// internal/store/sql as the app role inside a tenant scope and fails when
// its generic plan (the plan PostgreSQL keeps for a prepared statement)
// reads all of the tenant's rows of a table, outside seqScanAllowed: a Seq
// Scan, or an index or bitmap scan on the tenant alone that no Limit stops
// (tenantScans). Two tenants of the same size hold every tenant table's
// rows: 1,000 skills each with two versions of two files (each version its
// own SKILL.md blob), ratings, usage, embedding rows and reviews, and 1,000
// members each with a key, a web session, a login link and an OAuth grant
// with a code and two tokens. A tenant is then half of each table, so the
// planner's estimates for it are right, and a statement that reads its
// tenant's rows shows (as it would in a deployment with one tenant). Tables
// that stay small (a tenant's few OAuth clients) are not judged. A
// thousand more tenants have only their tenants and site_settings rows (one
// each), as in a deployment. Only EXPLAIN runs: no statement executes.
func TestNoSequentialScanOfTenantRows(t *testing.T) {
	env, owner := planEnv(t, "2,000 skills")
	ctx := context.Background()
	var tenant, user uuid.UUID
	for i := range 2 {
		tn, err := owner.CreateTenant(ctx, database.NewTenant{Slug: fmt.Sprintf("scan-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		tenant = tn.ID
		user = seedSkills(t, env.DB, tenant, 0, 1000)
		seedActivity(t, env.DB, tenant)
	}
	admin := dbtest.Connect(t, env.AdminURL)
	for _, stmt := range []string{
		`INSERT INTO tenants (slug, name) SELECT 'bulk-' || g, 'Bulk' FROM generate_series(1, 1000) g`,
		`INSERT INTO site_settings (tenant_id) SELECT id FROM tenants WHERE slug LIKE 'bulk-%'`,
		"ANALYZE",
	} {
		if _, err := admin.Exec(ctx, stmt); err != nil {
			t.Fatalf("%.60s: %v", stmt, err)
		}
	}
	// The tenant tables of at least a thousand rows. A tenant has only a
	// handful of OAuth clients: a scan of their page or two is cheaper
	// than any index, and is left to the planner.
	big := map[string]bool{}
	for _, tb := range schema.Tables {
		var rows float64
		if err := admin.QueryRow(ctx, "SELECT reltuples FROM pg_class WHERE oid = $1::regclass", tb.Name).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		big[tb.Name] = rows >= 1000
	}
	if !big["skills"] || !big["users"] || !big["site_settings"] {
		t.Fatalf("the seeded tables are too small: %v", big)
	}
	statements := map[string]string{}
	for name, stmt := range store.Queries {
		switch name {
		case "SkillList":
			for _, sort := range []string{"updated", "rating", "uses", "name"} {
				statements[name+" "+sort+" first page"] = store.ListStatement(sort, false, 31)
				statements[name+" "+sort+" later page"] = store.ListStatement(sort, false, 0)
				statements[name+" "+sort+" filtered"] = store.ListStatement(sort, true, 0)
			}
		case "SkillListFilters":
			// a fragment of SkillList
		default:
			statements[name] = stmt
		}
	}
	names := make([]string, 0, len(statements))
	for name := range statements {
		names = append(names, name)
	}
	slices.Sort(names)
	scope := database.Scope{TenantID: tenant, UserID: user, Role: "member"}
	for _, name := range names {
		var out []byte
		err := env.DB.Write(ctx, scope, func(q database.Q) error {
			var err error
			out, err = genericPlan(ctx, q, statements[name])
			return err
		})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var plans []struct {
			Plan planNode `json:"Plan"`
		}
		if err := json.Unmarshal(out, &plans); err != nil || len(plans) != 1 {
			t.Fatalf("%s: explain output %s: %v", name, out, err)
		}
		scans := tenantScans(plans[0].Plan, big, false)
		switch _, allowed := seqScanAllowed[name]; {
		case len(scans) > 0 && !allowed:
			t.Errorf("%s: the generic plan %s:\n%s", name, strings.Join(scans, "; "), statements[name])
		case len(scans) == 0 && allowed:
			t.Errorf("%s reads no longer all of its tenant's rows: remove it from seqScanAllowed", name)
		}
	}
	for name := range seqScanAllowed {
		if _, ok := statements[name]; !ok {
			t.Errorf("seqScanAllowed names %s, which is no statement", name)
		}
	}
}

// tenantScans lists the scans in plan that read all of the tenant's rows
// of a table in big: a Seq Scan, or an index or bitmap scan whose only
// index condition is the tenant (every index leads with tenant_id), unless
// a Limit above it stops the scan early (limited: the index gives the
// order, no Sort, aggregate or hash in between). site_settings holds one
// row per tenant, so the tenant is its key.
func tenantScans(n planNode, big map[string]bool, limited bool) []string {
	var out []string
	switch n.Type {
	case "Limit":
		limited = true
	case "Sort", "Incremental Sort", "Aggregate", "Hash", "Materialize", "Unique", "SetOp", "WindowAgg", "Gather Merge":
		limited = false
	}
	if big[n.Relation] && n.Relation != "site_settings" {
		switch {
		case n.Type == "Seq Scan":
			out = append(out, "scans "+n.Relation+" sequentially")
		case (n.Type == "Index Scan" || n.Type == "Index Only Scan") && onlyTenant(n.IndexCond) && !limited:
			out = append(out, "reads all of the tenant's "+n.Relation+" through "+n.Index)
		case n.Type == "Bitmap Heap Scan" && tenantBitmap(n):
			out = append(out, "reads all of the tenant's "+n.Relation+" through a bitmap")
		}
	}
	for i, c := range n.Plans {
		// The inner side of a nested loop runs once per outer row, with the
		// outer row's key.
		out = append(out, tenantScans(c, big, limited || (n.Type == "Nested Loop" && i == 1))...)
	}
	return out
}

// tenantBitmap reports whether a bitmap heap scan's bitmap holds all of
// the tenant's rows: a bitmap index scan on the tenant alone, or an OR
// with one.
func tenantBitmap(n planNode) bool {
	for _, c := range n.Plans {
		switch c.Type {
		case "Bitmap Index Scan":
			if onlyTenant(c.IndexCond) {
				return true
			}
		case "BitmapOr":
			if tenantBitmap(c) {
				return true
			}
		case "BitmapAnd":
			all := true
			for _, cc := range c.Plans {
				all = all && onlyTenant(cc.IndexCond)
			}
			if all {
				return true
			}
		}
	}
	return false
}

// onlyTenant reports whether an index condition names nothing but the
// tenant ("(tenant_id = $0)", or an outer row's tenant_id), or is empty.
func onlyTenant(cond string) bool {
	for _, term := range strings.Split(strings.TrimSpace(cond), " AND ") {
		term = strings.Trim(term, "() ")
		if term != "" && !strings.HasPrefix(term, "tenant_id = ") {
			return false
		}
	}
	return true
}

// seedActivity gives every skill of tenant two versions of two files,
// ratings by three members, four usage events, an embedding row and a
// review, and the tenant 1,000 more members, each with an API key, a web
// session, a login link and an OAuth grant (with a code and two tokens)
// of one of two clients, and 2,000 audit events: a tenant in use has rows
// in every tenant table.
func seedActivity(t *testing.T, db *database.DB, tenant uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	random32 := "decode(md5(random()::text) || md5(random()::text), 'hex')"
	err := db.Write(ctx, database.Scope{TenantID: tenant, Role: "system"}, func(q database.Q) error {
		for _, stmt := range []string{
			`INSERT INTO skill_versions (tenant_id, skill_id, number, frontmatter, digest, file_count, total_size, author_id)
			 SELECT s.tenant_id, s.id, g, '{}'::jsonb, 'sha256:' || encode(sha256((s.id::text || g)::bytea), 'hex'), 2, 19, s.author_id
			 FROM skills s, generate_series(1, 2) g`,
			`UPDATE skills SET latest_version = 2, published_version = 2`,
			`INSERT INTO blobs (tenant_id, sha256, size, data)
			 SELECT current_setting('app.current_tenant_id')::uuid, encode(sha256(d), 'hex'), length(d), d
			 FROM (SELECT ('SKILL.md of ' || id)::bytea FROM skill_versions UNION ALL SELECT 'script'::bytea) AS b(d)`,
			`INSERT INTO skill_version_files (tenant_id, version_id, path, sha256, size)
			 SELECT v.tenant_id, v.id, f.path, encode(sha256(f.d), 'hex'), length(f.d)
			 FROM skill_versions v, LATERAL (VALUES ('SKILL.md', ('SKILL.md of ' || v.id)::bytea), ('scripts/run.sh', 'script'::bytea)) AS f(path, d)`,
			`INSERT INTO users (tenant_id, email, role)
			 SELECT current_setting('app.current_tenant_id')::uuid, 'rater' || g || '@example.com', 'member' FROM generate_series(1, 3) g`,
			`INSERT INTO ratings (tenant_id, skill_id, user_id, stars)
			 SELECT s.tenant_id, s.id, u.id, 1 + abs(hashtext(s.id::text || u.id::text)) % 5
			 FROM skills s, users u WHERE u.email LIKE 'rater%'`,
			`INSERT INTO usage_events (tenant_id, skill_id, version, event, source)
			 SELECT s.tenant_id, s.id, 2, (ARRAY['install', 'download', 'view', 'invoke'])[g], 'api'
			 FROM skills s, generate_series(1, 4) g`,
			`INSERT INTO skill_embeddings (tenant_id, skill_id, model, state) SELECT tenant_id, id, 'builtin', 'ready' FROM skills`,
			`INSERT INTO skill_reviews (tenant_id, skill_id, version_id, digest, reviewer, quality, clarity, completeness, safety)
			 SELECT v.tenant_id, v.skill_id, v.id, v.digest, 'builtin', 7, 7, 7, 9 FROM skill_versions v`,
			`INSERT INTO users (tenant_id, email, role)
			 SELECT current_setting('app.current_tenant_id')::uuid, 'member' || g || '@example.com', 'member' FROM generate_series(1, 1000) g`,
			`INSERT INTO api_keys (tenant_id, user_id, name, prefix, key_hash, scopes)
			 SELECT tenant_id, id, 'key', 'sv_' || left(md5(id::text), 8), ` + random32 + `, '{read}' FROM users WHERE email LIKE 'member%'`,
			`INSERT INTO web_sessions (tenant_id, user_id, token_hash, csrf_token, expires_at)
			 SELECT tenant_id, id, ` + random32 + `, 'csrf', now() + interval '1 day' FROM users WHERE email LIKE 'member%'`,
			`INSERT INTO login_links (tenant_id, user_id, token_hash, expires_at)
			 SELECT tenant_id, id, ` + random32 + `, now() + interval '1 hour' FROM users WHERE email LIKE 'member%'`,
			`INSERT INTO oauth_clients (tenant_id, client_id, kind, name, redirect_uris)
			 SELECT current_setting('app.current_tenant_id')::uuid, 'https://client' || g || '.example/meta', 'metadata', 'client', '{https://client.example/cb}'
			 FROM generate_series(1, 2) g`,
			`INSERT INTO oauth_grants (tenant_id, client_id, user_id, scopes, resource)
			 SELECT u.tenant_id, c.id, u.id, '{read}', 'https://example/mcp'
			 FROM users u JOIN oauth_clients c ON c.client_id = 'https://client' || (1 + abs(hashtext(u.email)) % 2) || '.example/meta'
			 WHERE u.email LIKE 'member%'`,
			`INSERT INTO oauth_codes (tenant_id, code_hash, client_id, user_id, redirect_uri, code_challenge, scopes, resource, expires_at)
			 SELECT tenant_id, ` + random32 + `, client_id, user_id, 'https://client.example/cb', repeat('c', 43), scopes, resource, now() + interval '1 minute'
			 FROM oauth_grants`,
			`INSERT INTO oauth_tokens (tenant_id, grant_id, kind, token_hash, expires_at)
			 SELECT g.tenant_id, g.id, k, ` + random32 + `, now() + interval '1 hour' FROM oauth_grants g, unnest('{access,refresh}'::text[]) k`,
			`INSERT INTO audit_logs (tenant_id, actor_type, action, resource_type, resource_id)
			 SELECT current_setting('app.current_tenant_id')::uuid, 'system', 'seed.event', 'skill', g::text FROM generate_series(1, 2000) g`,
		} {
			if _, err := q.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("%.70s: %w", stmt, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
