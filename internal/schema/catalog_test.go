package schema_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/skillvault/skillvault/internal/dbtest"
	"github.com/skillvault/skillvault/internal/schema"
)

// Every key on a tenant table includes tenant_id: foreign keys then cannot
// cross tenants or reveal another tenant's ids, uniqueness is per tenant,
// and the schema stays distributable by tenant_id (DESIGN.md §1, §7).
func TestKeysIncludeTenantID(t *testing.T) {
	env := dbtest.NewEmpty(t)
	conn := dbtest.Connect(t, env.OwnerURL)
	rows, err := conn.Query(context.Background(), `
		SELECT c.conrelid::regclass::text, c.conname, c.contype::text
		FROM pg_constraint c
		WHERE c.connamespace = 'public'::regnamespace AND c.contype IN ('p', 'u', 'f')
		  AND c.conrelid::regclass::text <> 'tenants' AND c.conrelid::regclass::text <> 'goose_db_version'
		  AND NOT EXISTS (SELECT 1 FROM pg_attribute a
		                  WHERE a.attrelid = c.conrelid AND a.attname = 'tenant_id' AND a.attnum = ANY (c.conkey))
		UNION ALL
		SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text, 'unique index'
		FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
		WHERE t.relnamespace = 'public'::regnamespace AND i.indisunique
		  AND t.relname NOT IN ('tenants', 'goose_db_version')
		  AND NOT EXISTS (SELECT 1 FROM pg_attribute a
		                  WHERE a.attrelid = i.indrelid AND a.attname = 'tenant_id' AND a.attnum = ANY (i.indkey))`)
	if err != nil {
		t.Fatal(err)
	}
	type bad struct{ Table, Name, Kind string }
	bads, err := pgx.CollectRows(rows, pgx.RowToStructByPos[bad])
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bads {
		if dbtest.CitusNodes() != nil {
			// The coordinator holds a placement of the tenants reference
			// table, tenants_<shard id>.
			var shard bool
			if err := conn.QueryRow(context.Background(), "SELECT relation_is_a_known_shard($1::regclass)", b.Table).Scan(&shard); err != nil {
				t.Fatal(err)
			}
			if shard {
				continue
			}
		}
		t.Errorf("%s: %s %s does not include tenant_id", b.Table, b.Kind, b.Name)
	}
	// And the check looked at every declared table.
	var n int
	err = conn.QueryRow(context.Background(), `SELECT count(DISTINCT conrelid) FROM pg_constraint
		WHERE connamespace = 'public'::regnamespace AND contype = 'p'`).Scan(&n)
	if err != nil || n < len(schema.Tables) {
		t.Fatalf("only %d tables have primary keys, %d declared (%v)", n, len(schema.Tables), err)
	}
}

func TestPolicySQLComesFromDeclaration(t *testing.T) {
	sql := schema.PolicySQL()
	for _, tb := range schema.Tables {
		for _, p := range tb.Policies {
			if !contains(sql, schema.CreatePolicySQL(tb.Name, p)) {
				t.Errorf("policy %s.%s not in the generated SQL", tb.Name, p.Name)
			}
		}
		if tb.Name != "tenants" && !hasIsolation(tb) {
			t.Errorf("%s lacks the restrictive tenant_isolation policy", tb.Name)
		}
		for _, g := range tb.Grants {
			if g == "TRUNCATE" {
				t.Errorf("%s grants TRUNCATE to the app role", tb.Name)
			}
		}
	}
}

func hasIsolation(tb schema.Table) bool {
	for _, p := range tb.Policies {
		if p.Name == "tenant_isolation" && p.Restrictive && p.Using == schema.TenantClamp && p.Check == schema.TenantClamp {
			return true
		}
	}
	return false
}

func contains(s, sub string) bool {
	return len(sub) > 0 && len(s) >= len(sub) && (func() bool {
		for i := 0; i+len(sub) <= len(s); i++ {
			if s[i:i+len(sub)] == sub {
				return true
			}
		}
		return false
	})()
}

// TestTextSearchMatchIsLeakproof: under row-level security PostgreSQL
// lets an operator be an index condition only if its function is
// LEAKPROOF; migrate marks the text-search match so, or keyword search
// reads every row of a tenant instead of the GIN index (measured in
// BENCHMARKS.md: 20 ms vs 7 ms on a 10,000-skill tenant).
func TestTextSearchMatchIsLeakproof(t *testing.T) {
	env := dbtest.NewEmpty(t)
	conn := dbtest.Connect(t, env.AppURL)
	var leakproof bool
	err := conn.QueryRow(context.Background(),
		"SELECT proleakproof FROM pg_proc WHERE oid = 'pg_catalog.ts_match_vq(tsvector, tsquery)'::regprocedure").Scan(&leakproof)
	if err != nil || !leakproof {
		t.Fatalf("ts_match_vq leakproof = %v (%v)", leakproof, err)
	}
}
