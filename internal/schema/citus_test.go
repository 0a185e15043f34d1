package schema_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/dbtest"
	"github.com/skillvault/skillvault/internal/schema"
)

// TestCitusVerifyChecksTheShards: on a Citus cluster a fresh database
// verifies clean (migrate restored what Citus dropped on the shards), and
// a single shard placement or worker that drifts is reported by name:
// the restrictive kind lost, FORCE off, the LEAKPROOF mark gone. Migrate
// repairs all of it.
func TestCitusVerifyChecksTheShards(t *testing.T) {
	dbtest.NeedCitus(t)
	env := dbtest.NewEmpty(t)
	ctx := context.Background()
	for _, p := range verify(t, env.OwnerURL) {
		t.Errorf("drift on a fresh Citus database: %s", p)
	}
	admin := dbtest.Connect(t, env.AdminURL)
	var shard int64
	var host string
	var port int
	err := admin.QueryRow(ctx, `SELECT p.shardid, n.nodename, n.nodeport FROM pg_dist_placement p
		JOIN pg_dist_node n ON n.groupid = p.groupid JOIN pg_dist_shard s ON s.shardid = p.shardid
		WHERE s.logicalrelid = 'skills'::regclass ORDER BY p.shardid LIMIT 1`).Scan(&shard, &host, &port)
	if err != nil {
		t.Fatal(err)
	}
	// Straight to the worker that holds the shard, as someone repairing
	// (or breaking) it by hand would.
	var worker *url.URL
	for _, n := range dbtest.CitusNodes() {
		if n.Host == fmt.Sprintf("%s:%d", host, port) {
			worker = n
		}
	}
	if worker == nil {
		t.Fatalf("no node of %s is %s:%d", dbtest.CitusEnv, host, port)
	}
	w := *worker
	w.Path = "/" + env.Name
	wconn := dbtest.Connect(t, w.String())
	name := fmt.Sprintf("skills_%d", shard)
	for _, stmt := range []string{
		"SET citus.enable_ddl_propagation = off",
		"DROP POLICY tenant_isolation ON " + name,
		"CREATE POLICY tenant_isolation ON " + name + " AS PERMISSIVE FOR ALL TO public USING (" + schema.TenantClamp + ") WITH CHECK (" + schema.TenantClamp + ")",
		"ALTER TABLE " + name + " NO FORCE ROW LEVEL SECURITY",
		"ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) NOT LEAKPROOF",
	} {
		if _, err := wconn.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	probs := verify(t, env.OwnerURL)
	want := []string{
		fmt.Sprintf("skills on %s shard %d: policy tenant_isolation differs from the declaration: permissive=true, want false", worker.Host, shard),
		fmt.Sprintf("skills on %s shard %d: FORCE ROW LEVEL SECURITY is off", worker.Host, shard),
		fmt.Sprintf("ts_match_vq on %s: is not LEAKPROOF", worker.Host),
	}
	for _, wnt := range want {
		found := false
		for _, p := range probs {
			found = found || strings.HasPrefix(p.String(), wnt)
		}
		if !found {
			t.Errorf("verify did not report %q; it reported %v", wnt, probs)
		}
	}
	if len(probs) != len(want) {
		t.Errorf("verify reported %d problems, want %d: %v", len(probs), len(want), probs)
	}
	if err := schema.Migrate(ctx, env.AdminURL, schema.Passwords{}, nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range verify(t, env.OwnerURL) {
		t.Errorf("migrate did not repair: %s", p)
	}
}
