package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/skillvault/skillvault/internal/schema"
)

// CitusEnv names the Citus cluster tests run on: its nodes, coordinator
// first, each as host:port (superuser "postgres", or $PGUSER, password from
// $PGPASSWORD) or as a postgres:// URL of a superuser. Every node must
// reach every other one as the roles the tests use (trust or a password
// file on the cluster's network).
const CitusEnv = "SKILLVAULT_TEST_CITUS"

// CitusNodes returns the superuser URLs (without a database) of the nodes
// CitusEnv names, or nil when it is unset.
func CitusNodes() []*url.URL {
	v := strings.TrimSpace(os.Getenv(CitusEnv))
	if v == "" {
		return nil
	}
	var out []*url.URL
	for _, n := range strings.Split(v, ",") {
		n = strings.TrimSpace(n)
		if !strings.Contains(n, "://") {
			user := os.Getenv("PGUSER")
			if user == "" {
				user = "postgres"
			}
			n = "postgres://" + user + "@" + n
		}
		u, err := url.Parse(n)
		if err != nil || u.Host == "" {
			panic(fmt.Sprintf("dbtest: %s: %q is neither host:port nor a URL", CitusEnv, n))
		}
		out = append(out, u)
	}
	return out
}

// NeedCitus skips t, naming the variable, unless the tests run on Citus.
func NeedCitus(t testing.TB) {
	t.Helper()
	if CitusNodes() == nil {
		t.Skipf("needs a Citus cluster: set %s=coordinator:port,worker:port,... (deploy/citus/README.md)", CitusEnv)
	}
}

// SetTenant sets the tenant for the rest of tx the way the scope does on
// Citus (SET LOCAL, which also reaches the workers there; the owner and
// the superuser are told to forward it), so a test's raw transaction
// means the same on both.
func SetTenant(t testing.TB, tx pgx.Tx, tenant uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	if CitusNodes() != nil {
		if _, err := tx.Exec(ctx, "SET LOCAL citus.propagate_set_commands = 'local'"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL app.current_tenant_id = '%s'", tenant)); err != nil {
		t.Fatal(err)
	}
}

func withDB(u *url.URL, db string) string {
	c := *u
	c.Path = "/" + db
	return c.String()
}

// newCitus creates the test's database on every node, adds the workers to
// the coordinator's metadata, and migrates it (which distributes it).
func newCitus(t testing.TB, nodes []*url.URL) *Env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	b := make([]byte, 6)
	rand.Read(b)
	name := "t_" + hex.EncodeToString(b)
	exec := func(u *url.URL, db string, stmts ...string) {
		t.Helper()
		conn, err := pgx.Connect(ctx, withDB(u, db))
		if err != nil {
			t.Fatalf("dbtest: citus node %s: %v", u.Host, err)
		}
		defer conn.Close(ctx)
		for _, s := range stmts {
			if _, err := conn.Exec(ctx, s); err != nil {
				t.Fatalf("dbtest: citus node %s: %s: %v", u.Host, s, err)
			}
		}
	}
	t.Cleanup(func() {
		for _, u := range nodes {
			conn, err := pgx.Connect(context.Background(), withDB(u, "postgres"))
			if err != nil {
				continue
			}
			conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			conn.Close(context.Background())
		}
	})
	for _, u := range nodes {
		exec(u, "postgres", "CREATE DATABASE "+name)
		exec(u, name, "CREATE EXTENSION citus")
	}
	coord := nodes[0]
	var add []string
	host, port := hostPort(coord)
	add = append(add, fmt.Sprintf("SELECT citus_set_coordinator_host('%s', %s)", host, port))
	for _, w := range nodes[1:] {
		host, port := hostPort(w)
		add = append(add, fmt.Sprintf("SELECT citus_add_node('%s', %s)", host, port))
	}
	exec(coord, name, add...)
	admin := withDB(coord, name)
	if err := schema.Migrate(ctx, admin, schema.Passwords{Owner: ownerPassword, App: appPassword, Resolver: "resolver-test-password"}, nil); err != nil {
		t.Fatalf("dbtest: migrate on citus: %v", err)
	}
	role := func(user, pw string) string {
		u := *coord
		u.User = url.UserPassword(user, pw)
		u.Path = "/" + name
		return u.String()
	}
	return &Env{
		Name:     name,
		AdminURL: admin,
		OwnerURL: role(schema.OwnerRole, ownerPassword),
		AppURL:   role(schema.AppRole, appPassword),
	}
}

func hostPort(u *url.URL) (string, string) {
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		return u.Host, "5432"
	}
	return host, port
}
