// Package database is the tenant boundary. It holds the only connection
// pool that serves tenant data, and the pool is unexported: code outside
// this package reaches the database through a Scope (Read or Write), which
// sets app.current_tenant_id for exactly one transaction, or through the
// few cross-tenant look-ups in lookup.go. PostgreSQL row-level security
// does the rest (see internal/schema).
package database

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Options tune how the pool is used.
type Options struct {
	// MaxConns caps the pool (default 16).
	MaxConns int32
	// NoPreparedStatements avoids named server-side prepared statements,
	// for poolers that cannot carry them between server connections
	// (PgBouncer before 1.21): statements are sent unnamed, and only their
	// parameter types are cached. The same as default_query_exec_mode=
	// cache_describe in the URL.
	NoPreparedStatements bool
	// StatementTimeout bounds every statement (default 10s), so an outage
	// or a lock never hangs a request for longer.
	StatementTimeout time.Duration
	// Tracer is told of every statement and batch the pool's connections
	// send (pgx calls its BatchTracer and PrepareTracer methods too when it
	// has them). Tests count database round trips per request with it.
	Tracer pgx.QueryTracer
}

// DB is a pool of connections as the app role.
type DB struct {
	pool *pgxpool.Pool
	// citus is true when the database has the citus extension. The scope
	// then sets the tenant with SET LOCAL of a validated UUID literal, and
	// inside a transaction block for reads too: Citus forwards SET LOCAL to
	// its workers only so (with citus.propagate_set_commands = 'local',
	// which migrate sets for the app role), and never set_config().
	citus bool
}

// ErrUnsafeRole is returned by Open when the connection's role could bypass
// row-level security.
var ErrUnsafeRole = errors.New("unsafe database role")

// Open connects with url, which must be the app role, and refuses roles
// that could bypass row-level security.
func Open(ctx context.Context, url string, opt Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database: parse URL: %w", err)
	}
	cfg.MaxConns = 16
	if opt.MaxConns > 0 {
		cfg.MaxConns = opt.MaxConns
	}
	if opt.NoPreparedStatements {
		cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeCacheDescribe
	}
	st := opt.StatementTimeout
	if st == 0 {
		st = 10 * time.Second
	}
	cfg.ConnConfig.RuntimeParams["statement_timeout"] = fmt.Sprint(st.Milliseconds())
	cfg.ConnConfig.RuntimeParams["application_name"] = "skillvault"
	cfg.ConnConfig.Tracer = opt.Tracer
	cfg.AfterConnect = func(_ context.Context, conn *pgx.Conn) error {
		registerUUID(conn.TypeMap())
		return nil
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	if err := CheckRole(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	db := &DB{pool: pool}
	if err := pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')").Scan(&db.citus); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database: check for citus: %w", err)
	}
	return db, nil
}

// Citus reports whether the database is a Citus cluster's coordinator.
func (db *DB) Citus() bool { return db.citus }

type querier interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}

// CheckRole refuses a role that is superuser, has BYPASSRLS, owns any
// table, or can become a role that does: any of these sees every tenant.
func CheckRole(ctx context.Context, q querier) error {
	var user string
	var super, bypass bool
	var owned, via []string
	err := q.QueryRow(ctx, `SELECT current_user, r.rolsuper, r.rolbypassrls,
		ARRAY(SELECT c.relname::text FROM pg_class c
		      WHERE pg_has_role(r.oid, c.relowner, 'MEMBER') AND c.relkind IN ('r', 'p', 'v', 'm')
		        AND c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
		        AND c.relnamespace::regnamespace::text NOT LIKE 'pg_toast%' ORDER BY 1 LIMIT 5),
		ARRAY(SELECT o.rolname::text FROM pg_roles o
		      WHERE o.oid <> r.oid AND pg_has_role(r.oid, o.oid, 'MEMBER') AND (o.rolsuper OR o.rolbypassrls) ORDER BY 1)
		FROM pg_roles r WHERE r.rolname = current_user`).Scan(&user, &super, &bypass, &owned, &via)
	if err != nil {
		return fmt.Errorf("database: check role: %w", err)
	}
	fix := "connect as the app role (`skillvault db url` prints its URL; `skillvault migrate` creates it)"
	switch {
	case super:
		return fmt.Errorf("%w: %q is a superuser and would bypass row-level security; %s", ErrUnsafeRole, user, fix)
	case bypass:
		return fmt.Errorf("%w: %q has BYPASSRLS; run ALTER ROLE %s NOBYPASSRLS or %s", ErrUnsafeRole, user, user, fix)
	case len(via) > 0:
		return fmt.Errorf("%w: %q can become %s, which bypasses row-level security; revoke that membership or %s", ErrUnsafeRole, user, strings.Join(via, ", "), fix)
	case len(owned) > 0:
		return fmt.Errorf("%w: %q owns %s, and an owner can switch row-level security off; %s", ErrUnsafeRole, user, strings.Join(owned, ", "), fix)
	}
	return nil
}

// Close closes the pool.
func (db *DB) Close() { db.pool.Close() }

// Ping checks that the database answers. It runs no tenant query.
func (db *DB) Ping(ctx context.Context) error { return db.pool.Ping(ctx) }

// PoolStats reports the pool's counters for metrics.
type PoolStats struct {
	Total, Idle, Acquired, Max int32
	AcquireCount               int64
	AcquireWait                time.Duration
}

// Stats returns the pool's counters.
func (db *DB) Stats() PoolStats {
	s := db.pool.Stat()
	return PoolStats{Total: s.TotalConns(), Idle: s.IdleConns(), Acquired: s.AcquiredConns(), Max: s.MaxConns(),
		AcquireCount: s.AcquireCount(), AcquireWait: s.AcquireDuration()}
}

// Q runs statements inside a scope. It is the only handle on tenant data.
// A statement names the scope's tenant as $tenant (TenantParam); Q binds it.
type Q interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}
