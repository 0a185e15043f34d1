package main

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/dbtest"
	"github.com/skillvault/skillvault/internal/testenv"
)

// runCLI runs the command in-process with the given environment.
func runCLI(t *testing.T, envv map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return envv[k] },
		log: discardLogger()}
	code := run(context.Background(), e, args)
	return code, out.String(), errb.String()
}

func externalEnv(t *testing.T) (map[string]string, *dbtest.Env) {
	db := dbtest.NewEmpty(t)
	return map[string]string{"DATABASE_URL": db.AppURL, "SKILLVAULT_OWNER_URL": db.OwnerURL, "SKILLVAULT_ADMIN_URL": db.AdminURL}, db
}

func TestVerifyExitCodes(t *testing.T) {
	envv, db := externalEnv(t)
	if code, out, errs := runCLI(t, envv, "db", "verify"); code != exitOK || !strings.HasPrefix(out, "ok:") {
		t.Fatalf("fresh database: exit %d\n%s%s", code, out, errs)
	}
	conn := dbtest.Connect(t, db.OwnerURL)
	if _, err := conn.Exec(context.Background(), "ALTER TABLE skills NO FORCE ROW LEVEL SECURITY"); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCLI(t, envv, "db", "verify")
	if code != exitFail || !strings.Contains(out, "skills: FORCE ROW LEVEL SECURITY is off") || !strings.Contains(out, "fix:") {
		t.Fatalf("drift: exit %d\n%s", code, out)
	}
	if code, out, errs := runCLI(t, envv, "migrate"); code != exitOK {
		t.Fatalf("migrate: exit %d %s %s", code, out, errs)
	}
	if code, out, _ := runCLI(t, envv, "db", "verify"); code != exitOK {
		t.Fatalf("after migrate: exit %d\n%s", code, out)
	}
}

func TestTenantUserKeyCommands(t *testing.T) {
	envv, _ := externalEnv(t)
	code, out, errs := runCLI(t, envv, "tenant", "create", "--slug", "acme", "--name", "Acme", "--domain", "acme.com")
	if code != exitOK || len(strings.TrimSpace(out)) != 36 {
		t.Fatalf("tenant create: %d %q %s", code, out, errs)
	}
	if code, _, _ := runCLI(t, envv, "tenant", "create", "--slug", "acme"); code != exitFail {
		t.Fatalf("duplicate tenant: exit %d", code)
	}
	if code, _, _ := runCLI(t, envv, "tenant", "create"); code != exitUsage {
		t.Fatalf("missing --slug: exit %d", code)
	}
	if code, out, _ := runCLI(t, envv, "tenant", "list"); code != exitOK || !strings.Contains(out, "acme.com") {
		t.Fatalf("tenant list: %d %s", code, out)
	}
	if code, _, errs := runCLI(t, envv, "user", "create", "--tenant", "acme", "--email", "Ann@Acme.com", "--role", "admin"); code != exitOK {
		t.Fatalf("user create: %d %s", code, errs)
	}
	if code, _, errs := runCLI(t, envv, "user", "create", "--tenant", "nope", "--email", "x@y.com"); code != exitFail || !strings.Contains(errs, "tenant list") {
		t.Fatalf("unknown tenant: %d %s", code, errs)
	}
	code, out, errs = runCLI(t, envv, "key", "create", "--tenant", "acme", "--user", "ann@acme.com", "--scopes", "read,write,admin")
	if code != exitOK || !strings.HasPrefix(out, "sv_") {
		t.Fatalf("key create: %d %q %s", code, out, errs)
	}
}

// TestEmbeddedDatabase: on a fresh folder, db start, migrate and db verify
// succeed, and psql as the app role sees no tenant's rows.
func TestEmbeddedDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster")
	}
	envv := embeddedHome(t)
	for _, args := range [][]string{{"db", "start"}, {"migrate"}, {"db", "verify"}, {"tenant", "create", "--slug", "acme"}} {
		if code, out, errs := runCLI(t, envv, args...); code != exitOK {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errs)
		}
	}
	code, out, _ := runCLI(t, envv, "db", "status")
	if code != exitOK || !strings.Contains(out, "running") {
		t.Fatalf("status: %s", out)
	}
	code, url, _ := runCLI(t, envv, "db", "url")
	if code != exitOK || !strings.Contains(url, "skillvault_app") {
		t.Fatalf("db url: %q", url)
	}
	psql, err := exec.LookPath("psql")
	if err != nil {
		testenv.Missing(t, "psql is not installed (apt-get install postgresql-client)")
	}
	for _, table := range []string{"tenants", "users", "skills", "api_keys", "audit_logs"} {
		got, err := exec.Command(psql, strings.TrimSpace(url), "-tAc", "SELECT count(*) FROM "+table).CombinedOutput()
		if err != nil || strings.TrimSpace(string(got)) != "0" {
			t.Errorf("psql as the app role, %s: %q %v", table, got, err)
		}
	}
	if code, _, _ := runCLI(t, envv, "db", "stop"); code != exitOK {
		t.Fatal("db stop failed")
	}
	code, out, _ = runCLI(t, envv, "db", "status")
	if !strings.Contains(out, "stopped") {
		t.Fatalf("status after stop: %s", out)
	}
}
