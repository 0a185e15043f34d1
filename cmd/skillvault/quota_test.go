package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/dbtest"
)

// cells joins a table's columns with "|" (tabwriter pads with two spaces
// or more; values have single spaces at most).
func cells(out string) string { return regexp.MustCompile(`  +`).ReplaceAllString(out, "|") }

// TestTenantQuotaAndGCCommands: the operator sets, shows and resets a
// tenant's quotas; the defaults come from the environment; `key create`
// counts against them; `skillvault gc` sweeps leftovers.
func TestTenantQuotaAndGCCommands(t *testing.T) {
	envv, db := externalEnv(t)
	envv["SKILLVAULT_QUOTA_KEYS_PER_USER"] = "1"
	for _, slug := range []string{"acme", "other"} {
		if code, _, errs := runCLI(t, envv, "tenant", "create", "--slug", slug); code != exitOK {
			t.Fatalf("tenant create: %s", errs)
		}
	}
	code, out, errs := runCLI(t, envv, "tenant", "quota", "--slug", "acme", "--bytes", "5GiB", "--skills", "500", "--versions", "unlimited")
	if code != exitOK {
		t.Fatalf("tenant quota: %d %s", code, errs)
	}
	for _, want := range []string{"bytes|5.0 GiB|tenant|0 bytes", "skills|500|tenant|0", "versions|unlimited|tenant", "keys_per_user|1|default"} {
		if !strings.Contains(cells(out), want) {
			t.Errorf("tenant quota output lacks %q:\n%s", want, out)
		}
	}
	if code, out, _ := runCLI(t, envv, "tenant", "list"); code != exitOK || !strings.Contains(out, "bytes=5.0 GiB,skills=500,versions=unlimited") {
		t.Errorf("tenant list does not show the overrides: %s", out)
	}
	// The other tenant keeps the defaults.
	if code, out, _ := runCLI(t, envv, "tenant", "quota", "--slug", "other"); code != exitOK || !strings.Contains(cells(out), "bytes|1.0 GiB|default") {
		t.Errorf("other tenant: %s", out)
	}
	if code, out, _ := runCLI(t, envv, "tenant", "quota", "--slug", "acme", "--skills", "default"); code != exitOK || !strings.Contains(cells(out), "skills|1000|default") {
		t.Errorf("reset to default: %s", out)
	}
	for _, bad := range [][]string{{"--bytes", "lots"}, {"--skills", "-1"}, {"--versions", "1.5"}} {
		if code, _, errs := runCLI(t, envv, append([]string{"tenant", "quota", "--slug", "acme"}, bad...)...); code != exitFail || !strings.Contains(errs, "quota") {
			t.Errorf("%v: exit %d %s", bad, code, errs)
		}
	}
	if code, _, _ := runCLI(t, envv, "tenant", "quota", "--slug", "nope"); code != exitFail {
		t.Errorf("unknown tenant: exit %d", code)
	}

	// key create applies the environment's default of one key per user.
	if code, _, errs := runCLI(t, envv, "user", "create", "--tenant", "acme", "--email", "ann@acme.com"); code != exitOK {
		t.Fatal(errs)
	}
	if code, _, errs := runCLI(t, envv, "key", "create", "--tenant", "acme", "--user", "ann@acme.com"); code != exitOK {
		t.Fatal(errs)
	}
	if code, _, errs := runCLI(t, envv, "key", "create", "--tenant", "acme", "--user", "ann@acme.com"); code != exitFail || !strings.Contains(errs, "keys_per_user quota") {
		t.Errorf("second key: exit %d %s", code, errs)
	}

	// gc frees one tenant's leftover, audited in that tenant.
	conn := dbtest.Connect(t, db.AdminURL)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, `INSERT INTO blobs (tenant_id, sha256, size, data)
		SELECT id, repeat('c', 64), 3, '\x000102' FROM tenants`); err != nil {
		t.Fatal(err)
	}
	code, out, errs = runCLI(t, envv, "gc", "--tenant", "acme")
	if code != exitOK || !strings.Contains(out, "acme\t1 blobs\t3 bytes freed") {
		t.Fatalf("gc: %d %q %s", code, out, errs)
	}
	var left, audited int
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM blobs), (SELECT count(*) FROM audit_logs WHERE action = 'blob.collect')`).Scan(&left, &audited); err != nil {
		t.Fatal(err)
	}
	if left != 1 || audited != 1 {
		t.Errorf("after gc --tenant acme: %d blobs left, %d audit rows", left, audited)
	}
	if code, out, _ := runCLI(t, envv, "gc"); code != exitOK || !strings.Contains(out, "other\t1 blobs") {
		t.Errorf("gc of every tenant: %s", out)
	}
}
