package database_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/dbtest"
	"github.com/skillvault/skillvault/internal/schema"
)

// seed inserts one row per tenant table for a tenant, as that tenant. The
// statements pick their parents with sub-selects, which row-level security
// limits to the tenant's own rows. $1 is the tenant id. Every declared
// table must have an entry: TestSeedCoversEveryTable fails otherwise.
var seed = []struct{ table, sql string }{
	{"users", `INSERT INTO users (tenant_id, email, role) VALUES ($1, 'ann@example.com', 'admin')`},
	{"skills", `INSERT INTO skills (tenant_id, name, description, author_id) SELECT $1, 'shared-name', 'A skill.', id FROM users`},
	{"skill_versions", `INSERT INTO skill_versions (tenant_id, skill_id, number, frontmatter, digest, file_count, total_size, author_id)
		SELECT $1, s.id, 1, '{}', 'sha256:' || repeat('a', 64), 1, 8, s.author_id FROM skills s`},
	{"blobs", `INSERT INTO blobs (tenant_id, sha256, size, data) VALUES ($1, repeat('b', 64), 8, '\x00')`},
	{"skill_version_files", `INSERT INTO skill_version_files (tenant_id, version_id, path, sha256, size)
		SELECT $1, v.id, 'SKILL.md', repeat('b', 64), 8 FROM skill_versions v`},
	{"ratings", `INSERT INTO ratings (tenant_id, skill_id, user_id, stars) SELECT $1, s.id, s.author_id, 4 FROM skills s`},
	{"usage_events", `INSERT INTO usage_events (tenant_id, skill_id, event, source) SELECT $1, id, 'view', 'api' FROM skills`},
	{"skill_embeddings", `INSERT INTO skill_embeddings (tenant_id, skill_id) SELECT $1, id FROM skills`},
	{"skill_reviews", `INSERT INTO skill_reviews (tenant_id, skill_id, version_id, digest, reviewer, quality, clarity, completeness, safety)
		SELECT $1, v.skill_id, v.id, v.digest, 'builtin', 5, 5, 5, 5 FROM skill_versions v`},
	{"api_keys", `INSERT INTO api_keys (tenant_id, user_id, prefix, key_hash, scopes)
		SELECT $1, id, 'sv_x', sha256(convert_to(id::text, 'UTF8')), '{read}' FROM users`},
	{"site_settings", `INSERT INTO site_settings (tenant_id) VALUES ($1)`},
	{"audit_logs", `INSERT INTO audit_logs (tenant_id, actor_type, action) VALUES ($1, 'system', 'seed')`},
	{"web_sessions", `INSERT INTO web_sessions (tenant_id, user_id, token_hash, csrf_token, expires_at)
		SELECT $1, id, sha256(convert_to(id::text, 'UTF8')), 'c', now() + interval '1 hour' FROM users`},
	{"login_links", `INSERT INTO login_links (tenant_id, user_id, token_hash, expires_at)
		SELECT $1, id, sha256(convert_to(id::text, 'UTF8')), now() + interval '1 hour' FROM users`},
	{"oauth_clients", `INSERT INTO oauth_clients (tenant_id, client_id, kind, name, redirect_uris)
		VALUES ($1, 'https://client.example/meta.json', 'metadata', 'Client', '{http://127.0.0.1/cb}')`},
	{"oauth_grants", `INSERT INTO oauth_grants (tenant_id, client_id, user_id, scopes, resource)
		SELECT $1, c.id, u.id, '{read}', 'https://x.example/mcp' FROM oauth_clients c JOIN users u ON u.tenant_id = c.tenant_id`},
	{"oauth_codes", `INSERT INTO oauth_codes (tenant_id, code_hash, client_id, user_id, redirect_uri, code_challenge, scopes, resource, expires_at)
		SELECT $1, sha256(convert_to(g.id::text, 'UTF8')), g.client_id, g.user_id, 'http://127.0.0.1/cb', repeat('c', 43), g.scopes, g.resource, now() + interval '1 minute' FROM oauth_grants g`},
	{"oauth_tokens", `INSERT INTO oauth_tokens (tenant_id, grant_id, kind, token_hash, expires_at)
		SELECT $1, id, 'access', sha256(convert_to(id::text, 'UTF8')), now() + interval '1 hour' FROM oauth_grants`},
}

type world struct {
	env  *dbtest.Env
	a, b database.Tenant
}

func newWorld(t *testing.T) *world {
	t.Helper()
	env := dbtest.New(t)
	ctx := context.Background()
	owner, err := database.OpenOwner(ctx, env.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	w := &world{env: env}
	for i, p := range []*database.Tenant{&w.a, &w.b} {
		*p, err = owner.CreateTenant(ctx, database.NewTenant{Slug: fmt.Sprintf("tenant-%c", 'a'+i)})
		if err != nil {
			t.Fatal(err)
		}
		err = env.DB.Write(ctx, database.Scope{TenantID: p.ID}, func(q database.Q) error {
			for _, s := range seed {
				// RETURNING keeps Citus off its COPY path for INSERT …
				// SELECT, which row-level security refuses.
				rows, err := q.Query(ctx, s.sql+" RETURNING tenant_id", p.ID)
				if err != nil {
					return fmt.Errorf("seed %s: %w", s.table, err)
				}
				ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
				if err != nil {
					return fmt.Errorf("seed %s: %w", s.table, err)
				}
				if len(ids) != 1 {
					return fmt.Errorf("seed %s: inserted %d rows", s.table, len(ids))
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func tenantTables() []schema.Table {
	var out []schema.Table
	for _, t := range schema.Tables {
		if t.Name != "tenants" {
			out = append(out, t)
		}
	}
	return out
}

// pool opens a pool of the app role on the world's database, closed when
// the test ends.
func (w *world) pool(t *testing.T, opt database.Options) *database.DB {
	t.Helper()
	db, err := database.Open(context.Background(), w.env.AppURL, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

func TestSeedCoversEveryTable(t *testing.T) {
	for _, tb := range tenantTables() {
		found := false
		for _, s := range seed {
			found = found || s.table == tb.Name
		}
		if !found {
			t.Errorf("table %s has no seed row: add one so the isolation matrix covers it", tb.Name)
		}
	}
}

// identity sets the tenant setting on a raw app-role connection the way a
// buggy or hostile caller might.
type identity struct {
	name    string
	setting func(w *world) *string // nil: never set
}

func str(s string) *string { return &s }

var identities = []identity{
	{"tenant A", func(w *world) *string { return str(w.a.ID.String()) }},
	{"tenant B", func(w *world) *string { return str(w.b.ID.String()) }},
	{"unset", func(*world) *string { return nil }},
	{"empty", func(*world) *string { return str("") }},
	{"malformed", func(*world) *string { return str("a' OR true --") }},
}

// inTx runs fn in a transaction on conn with the identity's setting, and
// rolls back, so each cell of the matrix starts from the seeded state.
func inTx(t *testing.T, conn *pgx.Conn, setting *string, fn func(pgx.Tx)) {
	t.Helper()
	ctx := context.Background()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if setting != nil {
		// SET LOCAL, not set_config(): Citus forwards only SET LOCAL to its
		// workers, so the matrix means the same on a Citus cluster.
		lit := "'" + strings.ReplaceAll(*setting, "'", "''") + "'"
		if _, err := tx.Exec(ctx, "SET LOCAL app.current_tenant_id = "+lit); err != nil {
			t.Fatal(err)
		}
	}
	fn(tx)
}

// tenantsOf runs a statement that returns tenant_id values and collects
// them; statements that fail return the error.
func tenantsOf(tx pgx.Tx, sql string, args ...any) ([]uuid.UUID, error) {
	ctx := context.Background()
	if _, err := tx.Exec(ctx, "SAVEPOINT cell"); err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		tx.Exec(ctx, "ROLLBACK TO SAVEPOINT cell")
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		tx.Exec(ctx, "ROLLBACK TO SAVEPOINT cell")
	}
	return ids, err
}

func TestIsolationMatrix(t *testing.T) {
	w := newWorld(t)
	conn := dbtest.Connect(t, w.env.AppURL)
	for _, tb := range tenantTables() {
		for _, id := range identities {
			t.Run(tb.Name+"/"+id.name, func(t *testing.T) {
				setting := id.setting(w)
				var own *uuid.UUID
				switch id.name {
				case "tenant A":
					own = &w.a.ID
				case "tenant B":
					own = &w.b.ID
				}
				other := w.b.ID
				if own != nil && *own == w.b.ID {
					other = w.a.ID
				}
				// checkOnlyOwn: rows seen or touched are all the identity's
				// own, and there is at least one when it has a tenant.
				checkOnlyOwn := func(op string, ids []uuid.UUID, err error, mayBeDenied bool) {
					t.Helper()
					if err != nil {
						if own != nil && !mayBeDenied {
							t.Errorf("%s: %v", op, err)
						}
						return
					}
					for _, got := range ids {
						if own == nil || got != *own {
							t.Errorf("%s returned a row of tenant %s", op, got)
						}
					}
					if own != nil && len(ids) == 0 && !mayBeDenied {
						t.Errorf("%s: saw none of its own rows", op)
					}
				}
				has := func(priv string) bool {
					for _, g := range tb.Grants {
						if g == priv {
							return true
						}
					}
					return false
				}
				inTx(t, conn, setting, func(tx pgx.Tx) {
					ids, err := tenantsOf(tx, "SELECT tenant_id FROM "+tb.Name)
					checkOnlyOwn("SELECT", ids, err, false)
					ids, err = tenantsOf(tx, "UPDATE "+tb.Name+" SET tenant_id = tenant_id RETURNING tenant_id")
					checkOnlyOwn("UPDATE … RETURNING", ids, err, !has("UPDATE"))
					ids, err = tenantsOf(tx, "DELETE FROM "+tb.Name+" RETURNING tenant_id")
					// A restricting foreign key of the tenant's own rows may
					// refuse the delete; that reveals nothing of another tenant.
					checkOnlyOwn("DELETE … RETURNING", ids, err, !has("DELETE") || pgCode(err) == "23503")
				})
				// Moving a row to another tenant never works.
				inTx(t, conn, setting, func(tx pgx.Tx) {
					ids, err := tenantsOf(tx, "UPDATE "+tb.Name+" SET tenant_id = $1 RETURNING tenant_id", other)
					if err == nil && len(ids) > 0 {
						t.Errorf("UPDATE moved %d rows to another tenant", len(ids))
					}
				})
				// Inserting a copy of a seed row, with the other tenant's id
				// and with the identity's own, via the seed statement.
				for _, s := range seed {
					if s.table != tb.Name {
						continue
					}
					inTx(t, conn, setting, func(tx pgx.Tx) {
						// Sub-selects see no parent rows when the identity has
						// none, so "no error, nothing inserted" is a refusal too.
						if ids, err := tenantsOf(tx, s.sql+" RETURNING tenant_id", other); err == nil && len(ids) > 0 {
							t.Errorf("INSERT with the other tenant's id succeeded")
						}
						ids, err := tenantsOf(tx, s.sql+" ON CONFLICT DO NOTHING RETURNING tenant_id", other)
						if err == nil && len(ids) > 0 {
							t.Errorf("INSERT … ON CONFLICT with the other tenant's id succeeded")
						}
						if own != nil {
							ids, err := tenantsOf(tx, s.sql+" ON CONFLICT DO NOTHING RETURNING tenant_id", *own)
							checkOnlyOwn("INSERT … ON CONFLICT DO NOTHING as itself", ids, err, true)
						}
					})
				}
			})
		}
	}
}

// TestInsertOnConflictUpdate: an upsert as A that collides with B's key
// must neither change B's row nor succeed.
func TestInsertOnConflictUpdate(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	err := w.env.DB.Write(ctx, database.Scope{TenantID: w.a.ID}, func(q database.Q) error {
		_, err := q.Exec(ctx, `INSERT INTO site_settings (tenant_id, key_expiry_days) VALUES ($1, 7)
			ON CONFLICT (tenant_id) DO UPDATE SET key_expiry_days = 7`, w.b.ID)
		return err
	})
	if err == nil {
		t.Fatal("upsert into tenant B's settings as tenant A succeeded")
	}
	var days int
	err = w.env.DB.Read(ctx, database.Scope{TenantID: w.b.ID}, func(q database.Q) error {
		return q.QueryRow(ctx, "SELECT key_expiry_days FROM site_settings").Scan(&days)
	})
	if err != nil || days != 90 {
		t.Fatalf("tenant B's settings: days=%d err=%v, want 90", days, err)
	}
	// The same upsert as A on A's own row works.
	err = w.env.DB.Write(ctx, database.Scope{TenantID: w.a.ID}, func(q database.Q) error {
		tag, err := q.Exec(ctx, `INSERT INTO site_settings (tenant_id, key_expiry_days) VALUES ($1, 7)
			ON CONFLICT (tenant_id) DO UPDATE SET key_expiry_days = 7`, w.a.ID)
		if err == nil && tag.RowsAffected() != 1 {
			err = fmt.Errorf("affected %d rows", tag.RowsAffected())
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func pgCode(err error) string {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code
	}
	return ""
}

// TestNoExistenceOracle: referencing B's skill from A fails exactly like
// referencing a skill that does not exist.
func TestNoExistenceOracle(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	var bSkill uuid.UUID
	err := w.env.DB.Read(ctx, database.Scope{TenantID: w.b.ID}, func(q database.Q) error {
		return q.QueryRow(ctx, "SELECT id FROM skills").Scan(&bSkill)
	})
	if err != nil {
		t.Fatal(err)
	}
	attempt := func(skill uuid.UUID) error {
		return w.env.DB.Write(ctx, database.Scope{TenantID: w.a.ID}, func(q database.Q) error {
			_, err := q.Exec(ctx, `INSERT INTO ratings (tenant_id, skill_id, user_id, stars)
				SELECT $1, $2, id, 5 FROM users`, w.a.ID, skill)
			return err
		})
	}
	missing := uuid.New()
	errB, errMissing := attempt(bSkill), attempt(missing)
	if errB == nil || errMissing == nil {
		t.Fatalf("references succeeded: B's=%v missing=%v", errB, errMissing)
	}
	if pgCode(errB) != pgCode(errMissing) {
		t.Fatalf("different errors: %v vs %v", errB, errMissing)
	}
	normal := strings.ReplaceAll(errB.Error(), bSkill.String(), "X")
	if normal != strings.ReplaceAll(errMissing.Error(), missing.String(), "X") {
		t.Fatalf("messages differ:\n%v\n%v", errB, errMissing)
	}
}

// TestUniquenessIsPerTenant: B's values do not collide with A's.
func TestUniquenessIsPerTenant(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	err := w.env.DB.Write(ctx, database.Scope{TenantID: w.a.ID}, func(q database.Q) error {
		// Both tenants were seeded with the same user email and skill name.
		var n int
		if err := q.QueryRow(ctx, "SELECT count(*) FROM skills WHERE name = 'shared-name'").Scan(&n); err != nil {
			return err
		}
		if n != 1 {
			return fmt.Errorf("tenant A sees %d skills named shared-name", n)
		}
		_, err := q.Exec(ctx, `INSERT INTO users (tenant_id, email) VALUES ($1, 'bob@example.com')`, w.a.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = w.env.DB.Write(ctx, database.Scope{TenantID: w.b.ID}, func(q database.Q) error {
		_, err := q.Exec(ctx, `INSERT INTO users (tenant_id, email) VALUES ($1, 'bob@example.com')`, w.b.ID)
		return err
	})
	if err != nil {
		t.Fatalf("same email in tenant B: %v", err)
	}
}

func TestTruncateAndCopyRefused(t *testing.T) {
	w := newWorld(t)
	conn := dbtest.Connect(t, w.env.AppURL)
	ctx := context.Background()
	for _, tb := range schema.Tables {
		if _, err := conn.Exec(ctx, "TRUNCATE "+tb.Name); err == nil {
			t.Errorf("TRUNCATE %s as the app role succeeded", tb.Name)
		}
	}
	_, err := conn.Exec(ctx, "SELECT set_config('app.current_tenant_id', $1, false)", w.a.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.PgConn().CopyFrom(ctx, strings.NewReader(w.a.ID.String()+"\tsystem\tcopy\n"),
		"COPY audit_logs (tenant_id, actor_type, action) FROM STDIN")
	if err == nil {
		t.Fatal("COPY FROM into an RLS table succeeded")
	}
}

func count(t *testing.T, db *database.DB, s database.Scope, table string) int {
	t.Helper()
	var n int
	err := db.Read(context.Background(), s, func(q database.Q) error {
		return q.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n)
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPoolReuse: with one pooled connection, alternating scopes never
// shows the other tenant, and no setting outlives its scope.
func TestPoolReuse(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	db := w.pool(t, database.Options{MaxConns: 1})
	for i := range 20 {
		tenant := w.a.ID
		if i%2 == 1 {
			tenant = w.b.ID
		}
		var seen []uuid.UUID
		op := db.Read
		if i%3 == 0 {
			op = db.Write
		}
		err := op(ctx, database.Scope{TenantID: tenant}, func(q database.Q) error {
			for range 2 { // a second statement must be scoped too
				rows, err := q.Query(ctx, "SELECT tenant_id FROM users UNION ALL SELECT tenant_id FROM skills")
				if err != nil {
					return err
				}
				ids, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
				if err != nil {
					return err
				}
				seen = append(seen, ids...)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) != 4 {
			t.Fatalf("round %d saw %d rows, want 4", i, len(seen))
		}
		for _, id := range seen {
			if id != tenant {
				t.Fatalf("round %d as %s saw a row of %s", i, tenant, id)
			}
		}
		for _, tb := range []string{"users", "skills", "audit_logs"} {
			if n, err := db.UnscopedCountForTest(ctx, tb); err != nil || n != 0 {
				t.Fatalf("after the scope, an unscoped query of %s saw %d rows (err %v)", tb, n, err)
			}
		}
		if v, err := db.SettingForTest(ctx, "app.current_tenant_id"); err != nil || (v != nil && *v != "") {
			t.Fatalf("setting left on the connection: %v %v", v, err)
		}
	}
	// A failed write leaves nothing behind either.
	err := db.Write(ctx, database.Scope{TenantID: w.a.ID}, func(q database.Q) error {
		if _, err := q.Exec(ctx, "INSERT INTO users (tenant_id, email) VALUES ($1, 'x@example.com')", w.a.ID); err != nil {
			return err
		}
		return errors.New("changed my mind")
	})
	if err == nil {
		t.Fatal("want the error back")
	}
	if n := count(t, db, database.Scope{TenantID: w.a.ID}, "users"); n != 1 {
		t.Fatalf("rolled-back insert is visible: %d users", n)
	}
}

func TestScopeRefusesNoTenant(t *testing.T) {
	w := newWorld(t)
	err := w.env.DB.Read(context.Background(), database.Scope{}, func(q database.Q) error {
		t.Fatal("fn ran without a tenant")
		return nil
	})
	if !errors.Is(err, database.ErrNoTenant) {
		t.Fatalf("err = %v, want ErrNoTenant", err)
	}
	err = w.env.DB.Write(context.Background(), database.Scope{TenantID: w.a.ID, Role: "root"}, func(q database.Q) error { return nil })
	if err == nil {
		t.Fatal("unknown role accepted")
	}
}

func TestCitusModeScope(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	db := w.pool(t, database.Options{MaxConns: 1})
	if onCitus := dbtest.CitusNodes() != nil; db.Citus() != onCitus {
		t.Fatalf("Citus detected: %t, want %t", db.Citus(), onCitus)
	}
	db.CitusModeForTest()
	for _, tenant := range []uuid.UUID{w.a.ID, w.b.ID} {
		for name, run := range map[string]func(context.Context, database.Scope, func(database.Q) error) error{"Read": db.Read, "Write": db.Write} {
			var got []uuid.UUID
			err := run(ctx, database.Scope{TenantID: tenant}, func(q database.Q) error {
				rows, err := q.Query(ctx, "SELECT tenant_id FROM skills")
				if err != nil {
					return err
				}
				got, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
				return err
			})
			if err != nil || len(got) == 0 {
				t.Fatalf("%s as %s: %v rows, err %v", name, tenant, len(got), err)
			}
			for _, g := range got {
				if g != tenant {
					t.Fatalf("%s as %s saw a row of %s", name, tenant, g)
				}
			}
		}
		// A failing read leaves no open transaction block behind: the one
		// pooled connection serves the next read.
		err := db.Read(ctx, database.Scope{TenantID: tenant}, func(q database.Q) error {
			_, err := q.Exec(ctx, "SELECT 1/0")
			return err
		})
		if err == nil {
			t.Fatal("division by zero succeeded")
		}
		var n int
		err = db.Read(ctx, database.Scope{TenantID: tenant}, func(q database.Q) error {
			return q.QueryRow(ctx, "SELECT count(*) FROM skills").Scan(&n)
		})
		if err != nil || n == 0 {
			t.Fatalf("read after a failed read: %d rows, %v", n, err)
		}
	}
	if v, err := db.SettingForTest(ctx, "app.current_tenant_id"); err != nil || (v != nil && *v != "") {
		t.Fatalf("the tenant outlived its transaction block: %v %v", v, err)
	}
}
