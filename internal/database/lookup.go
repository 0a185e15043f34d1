package database

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// The cross-tenant look-ups. Each calls one SECURITY DEFINER function that
// returns the minimum needed to choose a tenant; everything after that runs
// in a Scope.

const rollbackTimeout = 5 * time.Second

// ErrNotFound is returned by the look-ups when nothing matches.
var ErrNotFound = errors.New("not found")

// KeyRecord is what the API key look-up returns.
type KeyRecord struct {
	TenantID     uuid.UUID
	KeyID        uuid.UUID
	UserID       uuid.UUID
	Scopes       []string
	ExpiresAt    *time.Time
	RevokedAt    *time.Time
	UserRole     string
	UserActive   bool
	TenantActive bool
}

// LookupAPIKey finds a key by the SHA-256 of its secret, in any tenant.
func (db *DB) LookupAPIKey(ctx context.Context, hash []byte) (KeyRecord, error) {
	var k KeyRecord
	err := db.pool.QueryRow(ctx, "SELECT * FROM lookup_api_key($1)", hash).Scan(
		&k.TenantID, &k.KeyID, &k.UserID, &k.Scopes, &k.ExpiresAt, &k.RevokedAt, &k.UserRole, &k.UserActive, &k.TenantActive)
	if errors.Is(err, pgx.ErrNoRows) {
		return k, ErrNotFound
	}
	if err != nil {
		return k, fmt.Errorf("database: look up key: %w", err)
	}
	return k, nil
}

// TenantRef identifies a tenant found by a look-up.
type TenantRef struct {
	ID     uuid.UUID
	Slug   string
	Active bool
}

// TenantByHost finds a tenant by slug (a name without dots) or by vanity
// domain (a name with dots).
func (db *DB) TenantByHost(ctx context.Context, slugOrDomain string) (TenantRef, error) {
	return db.tenantLookup(ctx, "SELECT * FROM lookup_tenant_by_host($1)", slugOrDomain)
}

// TenantByEmailDomain finds the tenant that owns an email domain.
func (db *DB) TenantByEmailDomain(ctx context.Context, domain string) (TenantRef, error) {
	return db.tenantLookup(ctx, "SELECT * FROM lookup_tenant_by_email_domain($1)", domain)
}

func (db *DB) tenantLookup(ctx context.Context, sql, arg string) (TenantRef, error) {
	var t TenantRef
	err := db.pool.QueryRow(ctx, sql, arg).Scan(&t.ID, &t.Slug, &t.Active)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, ErrNotFound
	}
	if err != nil {
		return t, fmt.Errorf("database: look up tenant: %w", err)
	}
	return t, nil
}

// GlobalEvent is an audit event that happened before a tenant was known,
// such as a request with an unknown API key.
type GlobalEvent struct {
	Action, Outcome                  string
	Details                          map[string]any
	RequestID, RemoteAddr, UserAgent string
}

// WriteGlobalAudit records a tenant-less audit event.
func (db *DB) WriteGlobalAudit(ctx context.Context, e GlobalEvent) error {
	details, err := json.Marshal(e.Details)
	if err != nil {
		return fmt.Errorf("database: audit details: %w", err)
	}
	if e.Details == nil {
		details = []byte("{}")
	}
	_, err = db.pool.Exec(ctx, "SELECT write_global_audit($1, $2, $3, $4, $5, $6)",
		e.Action, e.Outcome, details, e.RequestID, e.RemoteAddr, e.UserAgent)
	if err != nil {
		return fmt.Errorf("database: write audit: %w", err)
	}
	return nil
}

// TenantsWithDueEmbeddings names tenants whose skills wait for an
// embedding, so the background worker knows which scopes to open.
func (db *DB) TenantsWithDueEmbeddings(ctx context.Context, limit int) ([]uuid.UUID, error) {
	rows, err := db.pool.Query(ctx, "SELECT tenant_id FROM tenants_with_due_embeddings($1)", limit)
	if err != nil {
		return nil, fmt.Errorf("database: due embeddings: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
}

// OAuthTokenRecord is what the OAuth token look-up returns.
type OAuthTokenRecord struct {
	TenantID     uuid.UUID
	TokenID      uuid.UUID
	GrantID      uuid.UUID
	Kind         string // access or refresh
	ExpiresAt    time.Time
	RotatedAt    *time.Time
	RevokedAt    *time.Time // of the grant
	UserID       uuid.UUID
	Scopes       []string
	Resource     string
	UserRole     string
	UserActive   bool
	TenantActive bool
}

// LookupOAuthToken finds an OAuth access or refresh token by the SHA-256
// of its secret, in any tenant.
func (db *DB) LookupOAuthToken(ctx context.Context, hash []byte) (OAuthTokenRecord, error) {
	var k OAuthTokenRecord
	err := db.pool.QueryRow(ctx, "SELECT * FROM lookup_oauth_token($1)", hash).Scan(
		&k.TenantID, &k.TokenID, &k.GrantID, &k.Kind, &k.ExpiresAt, &k.RotatedAt, &k.RevokedAt,
		&k.UserID, &k.Scopes, &k.Resource, &k.UserRole, &k.UserActive, &k.TenantActive)
	if errors.Is(err, pgx.ErrNoRows) {
		return k, ErrNotFound
	}
	if err != nil {
		return k, fmt.Errorf("database: look up oauth token: %w", err)
	}
	return k, nil
}

// OAuthCodeTenant names the tenant of an authorization code, found by the
// SHA-256 of the code; the code itself is then read in that tenant's scope.
func (db *DB) OAuthCodeTenant(ctx context.Context, hash []byte) (uuid.UUID, error) {
	var t uuid.UUID
	err := db.pool.QueryRow(ctx, "SELECT tenant_id FROM lookup_oauth_code($1)", hash).Scan(&t)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, ErrNotFound
	}
	if err != nil {
		return t, fmt.Errorf("database: look up oauth code: %w", err)
	}
	return t, nil
}
