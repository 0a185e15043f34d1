package database

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Scope is who is acting: always a tenant, and the user and role when
// known. The tenant is a uuid.UUID so that it is validated before any SQL
// is built; the zero UUID is refused.
type Scope struct {
	TenantID uuid.UUID
	UserID   uuid.UUID // zero when no user acts (anonymous, system)
	Role     string    // "admin", "member", "system" (background work) or "" (anonymous)
}

// ErrNoTenant is returned before any SQL runs when a scope has no tenant.
var ErrNoTenant = errors.New("database: scope has no tenant")

const setScope = `SELECT set_config('app.current_tenant_id', $1, true),
	set_config('app.current_user_id', $2, true), set_config('app.user_role', $3, true)`

// setScopePlanOnce is setScope for a statement marked PlanOnce.
const setScopePlanOnce = setScope + `, set_config('plan_cache_mode', 'force_generic_plan', true)`

func (s Scope) valid() error {
	if s.TenantID == uuid.Nil {
		return ErrNoTenant
	}
	switch s.Role {
	case "", "admin", "member", "system":
		return nil
	}
	return fmt.Errorf("database: scope has unknown role %q", s.Role)
}

func (s Scope) user() string {
	if s.UserID == uuid.Nil {
		return ""
	}
	return s.UserID.String()
}

// queue adds the statement that sets the scope for the current transaction;
// planOnce also forces the generic plan for it (see PlanOnce).
func (db *DB) queue(b *pgx.Batch, s Scope, planOnce bool) {
	if db.citus {
		// The coordinator only routes; its workers plan each shard's
		// statement, so PlanOnce does not apply.
		// Only ever formatted from uuid.UUID and a validated role, never from
		// caller-supplied text.
		b.Queue(fmt.Sprintf("SET LOCAL app.current_tenant_id = '%s'", s.TenantID))
		b.Queue(fmt.Sprintf("SET LOCAL app.current_user_id = '%s'", s.user()))
		b.Queue(fmt.Sprintf("SET LOCAL app.user_role = '%s'", s.Role))
		return
	}
	stmt := setScope
	if planOnce {
		stmt = setScopePlanOnce
	}
	b.Queue(stmt, s.TenantID.String(), s.user(), s.Role)
}

// Read runs fn with statements scoped to s. Each statement is pipelined
// with the scope setting in one round trip and one implicit transaction,
// so a single read costs what an unscoped read costs. Statements do not
// share a snapshot; use Write when they must.
func (db *DB) Read(ctx context.Context, s Scope, fn func(Q) error) error {
	if err := s.valid(); err != nil {
		return err
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("database: acquire: %w", err)
	}
	defer conn.Release()
	q := &scopedQ{db: db, conn: conn, scope: s, eachStatement: true}
	err = fn(q)
	q.closeOpen()
	if conn.Conn().PgConn().TxStatus() != 'I' {
		// On Citus a failed statement leaves its transaction block open.
		rollback(conn)
	}
	return err
}

// Write runs fn in one transaction scoped to s: BEGIN and the scope setting
// are pipelined with fn's first statement, and the transaction commits if
// fn returns nil and rolls back otherwise. The setting is transaction-local,
// so the pooled connection carries nothing into its next use.
func (db *DB) Write(ctx context.Context, s Scope, fn func(Q) error) (err error) {
	if err := s.valid(); err != nil {
		return err
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("database: acquire: %w", err)
	}
	defer conn.Release()
	q := &scopedQ{db: db, conn: conn, scope: s}
	defer func() {
		q.closeOpen()
		if !q.begun {
			return
		}
		if p := recover(); p != nil {
			rollback(conn)
			panic(p)
		}
		if err != nil {
			rollback(conn)
			return
		}
		if _, cerr := conn.Exec(ctx, "COMMIT"); cerr != nil {
			rollback(conn)
			err = fmt.Errorf("database: commit: %w", cerr)
		}
	}()
	return fn(q)
}

// rollback ends a failed transaction; if even that fails the connection is
// closed so the pool never hands out a connection inside a transaction.
func rollback(conn *pgxpool.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), rollbackTimeout)
	defer cancel()
	if _, err := conn.Exec(ctx, "ROLLBACK"); err != nil {
		conn.Conn().Close(ctx)
	}
}

// scopedQ sends the scope setting ahead of a statement in one batch: before
// every statement in Read, before the first in Write (with BEGIN). It binds
// the scope's tenant to every $tenant token (tenantparam.go), on every path,
// so a statement names the tenant without ever being given it.
type scopedQ struct {
	db            *DB
	conn          *pgxpool.Conn
	scope         Scope
	eachStatement bool
	begun         bool
	open          *batchRows
}

func (q *scopedQ) closeOpen() {
	if q.open != nil {
		q.open.Close()
		q.open = nil
	}
}

// needsBatch reports whether the next statement must carry the scope.
func (q *scopedQ) needsBatch() bool { return q.eachStatement || !q.begun }

// batch returns the statements to pipeline and how many of them precede
// sql. On Citus a read is its own transaction block (BEGIN, the scope, sql,
// COMMIT), still one round trip. planOnce is honoured for a statement read
// on its own only: in a Write the setting would outlive the statement.
func (q *scopedQ) batch(sql string, args []any, planOnce bool) (*pgx.Batch, int) {
	b := &pgx.Batch{}
	block := q.eachStatement && q.db.citus
	if !q.eachStatement || block {
		b.Queue("BEGIN")
		q.begun = !q.eachStatement
	}
	q.db.queue(b, q.scope, planOnce && q.eachStatement)
	before := b.Len()
	b.Queue(sql, args...)
	if block {
		b.Queue("COMMIT")
	}
	return b, before
}

// send pipelines the scope statements with sql and reads their results,
// leaving the batch positioned at sql's result.
func (q *scopedQ) send(ctx context.Context, sql string, args []any, planOnce bool) (pgx.BatchResults, error) {
	b, before := q.batch(sql, args, planOnce)
	br := q.conn.SendBatch(ctx, b)
	for range before {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return nil, err
		}
	}
	return br, nil
}

func (q *scopedQ) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	q.closeOpen()
	sql, args, planOnce := q.scope.withTenant(sql, args)
	if !q.needsBatch() {
		return q.conn.Exec(ctx, sql, args...)
	}
	br, err := q.send(ctx, sql, args, planOnce)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

func (q *scopedQ) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	q.closeOpen()
	sql, args, planOnce := q.scope.withTenant(sql, args)
	if !q.needsBatch() {
		return q.conn.Query(ctx, sql, args...)
	}
	br, err := q.send(ctx, sql, args, planOnce)
	if err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		br.Close()
		return nil, err
	}
	q.open = &batchRows{Rows: rows, br: br}
	return q.open, nil
}

func (q *scopedQ) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := q.Query(ctx, sql, args...)
	return &row{rows: rows, err: err}
}

// batchRows closes its batch with the rows, so the connection is free for
// the next statement.
type batchRows struct {
	pgx.Rows
	br     pgx.BatchResults
	closed bool
	err    error
}

func (r *batchRows) finish() {
	if r.closed {
		return
	}
	r.closed = true
	r.Rows.Close()
	r.err = r.Rows.Err()
	if err := r.br.Close(); r.err == nil {
		r.err = err
	}
}

func (r *batchRows) Next() bool {
	if r.closed {
		return false
	}
	if r.Rows.Next() {
		return true
	}
	r.finish()
	return false
}

func (r *batchRows) Close() { r.finish() }

func (r *batchRows) Err() error {
	if r.closed {
		return r.err
	}
	return r.Rows.Err()
}

type row struct {
	rows pgx.Rows
	err  error
}

func (r *row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}
