package database

import (
	"context"

	"github.com/jackc/pgx/v5/pgtype"
)

// UnscopedCountForTest counts the rows of a table on a pooled connection
// without setting any scope, to prove a finished scope leaves nothing behind.
func (db *DB) UnscopedCountForTest(ctx context.Context, table string) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n)
	return n, err
}

// SettingForTest reads a setting on a pooled connection outside any scope.
func (db *DB) SettingForTest(ctx context.Context, name string) (*string, error) {
	var v *string
	err := db.pool.QueryRow(ctx, "SELECT current_setting($1, true)", name).Scan(&v)
	return v, err
}

// CitusModeForTest makes the scope behave as on a Citus coordinator (SET
// LOCAL inside a transaction block for reads too), which plain PostgreSQL
// runs the same way, so the mode's mechanics are tested on every run.
func (db *DB) CitusModeForTest() { db.citus = true }

// BindTenantForTest exposes the $tenant rewrite.
func BindTenantForTest(sql string) (string, bool) {
	b := bindTenant(sql)
	return b.sql, b.binds
}

// UUIDTypeMapForTest is a type map with the uuid codec registered.
func UUIDTypeMapForTest() *pgtype.Map {
	m := pgtype.NewMap()
	registerUUID(m)
	return m
}
