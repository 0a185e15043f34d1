// Package dbtest gives each test a fresh, migrated database of its own.
// One PostgreSQL cluster serves every test binary of a run (and later runs):
// it is started once from the installed binaries, a template database is
// migrated once per schema version, and each test gets a copy of the
// template, which takes milliseconds and isolates tests from each other.
//
// With SKILLVAULT_TEST_CITUS set (citus.go), every database is created on
// that Citus cluster instead, migrated and distributed there.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/pglocal"
	"github.com/skillvault/skillvault/internal/schema"
)

// Passwords of the roles in the test cluster, which listens on loopback only.
const (
	ownerPassword = "owner-test-password"
	appPassword   = "app-test-password"
)

// Env is one test's database.
type Env struct {
	Name     string
	AdminURL string // superuser
	OwnerURL string
	AppURL   string
	// DB is a pool as the app role, closed when the test ends.
	DB *database.DB
}

var (
	once     sync.Once
	cluster  *pglocal.Cluster
	template string
	initErr  error
)

// ClusterDir is where the shared test cluster lives.
func ClusterDir() string {
	if d := os.Getenv("SKILLVAULT_TEST_PG"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "skillvault-test-pg")
}

func setup() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := ClusterDir()
	// The server may run as another OS user, which must reach the folder.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		initErr = err
		return
	}
	os.Chmod(dir, 0o755)
	cluster = pglocal.OpenWithOptions(dir, pglocal.Options{Fast: true})
	if initErr = cluster.Start(ctx); initErr != nil {
		return
	}
	template, initErr = ensureTemplate(ctx)
}

func ensureTemplate(ctx context.Context) (string, error) {
	name := "skillvault_tmpl_" + schema.Fingerprint()
	conn, err := pgx.Connect(ctx, cluster.SuperuserURL("postgres"))
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	// Test binaries run in parallel; one of them builds the template.
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(74201)"); err != nil {
		return "", err
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock(74201)")
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_building"
	conn.Exec(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)")
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		return "", err
	}
	if err := schema.Migrate(ctx, cluster.SuperuserURL(building), schema.Passwords{Owner: ownerPassword, App: appPassword}, nil); err != nil {
		return "", fmt.Errorf("migrate template: %w", err)
	}
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+name); err != nil {
		return "", err
	}
	return name, nil
}

// Cluster returns the shared test cluster, starting it if needed.
func Cluster(t testing.TB) *pglocal.Cluster {
	t.Helper()
	once.Do(setup)
	if initErr != nil {
		t.Fatalf("dbtest: test cluster: %v", initErr)
	}
	return cluster
}

// New creates a fresh migrated database for t and a pool on it as the app
// role. Both are dropped when the test ends.
func New(t testing.TB) *Env {
	t.Helper()
	env := NewEmpty(t)
	db, err := database.Open(context.Background(), env.AppURL, database.Options{MaxConns: 8})
	if err != nil {
		t.Fatalf("dbtest: open app pool: %v", err)
	}
	t.Cleanup(db.Close)
	env.DB = db
	return env
}

// NewEmpty is New without the pool.
func NewEmpty(t testing.TB) *Env {
	t.Helper()
	if nodes := CitusNodes(); nodes != nil {
		return newCitus(t, nodes)
	}
	c := Cluster(t)
	ctx := context.Background()
	b := make([]byte, 6)
	rand.Read(b)
	name := "t_" + hex.EncodeToString(b)
	conn, err := pgx.Connect(ctx, c.SuperuserURL("postgres"))
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	defer conn.Close(ctx)
	for attempt := 0; ; attempt++ {
		_, err = conn.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+template)
		if err == nil || attempt == 20 || !strings.Contains(err.Error(), "being accessed") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("dbtest: create database: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), c.SuperuserURL("postgres"))
		if err != nil {
			return
		}
		defer conn.Close(context.Background())
		conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return &Env{
		Name:     name,
		AdminURL: c.SuperuserURL(name),
		OwnerURL: c.RoleURL(schema.OwnerRole, ownerPassword, name),
		AppURL:   c.RoleURL(schema.AppRole, appPassword, name),
	}
}

// Connect opens a single connection, closed when the test ends.
func Connect(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatalf("dbtest: connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// Tenant creates a tenant with slug in e's database, as the owner does.
func (e *Env) Tenant(t testing.TB, slug string) database.Tenant {
	t.Helper()
	ctx := context.Background()
	owner, err := database.OpenOwner(ctx, e.OwnerURL)
	if err != nil {
		t.Fatalf("dbtest: open owner: %v", err)
	}
	defer owner.Close()
	tn, err := owner.CreateTenant(ctx, database.NewTenant{Slug: slug})
	if err != nil {
		t.Fatalf("dbtest: create tenant %s: %v", slug, err)
	}
	return tn
}
