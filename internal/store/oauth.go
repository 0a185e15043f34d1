package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/skillvault/skillvault/internal/database"
)

// OAuthClient is a client known to a tenant: a cached Client ID Metadata
// Document or a dynamically registered client.
type OAuthClient struct {
	ID           uuid.UUID
	ClientID     string
	Kind         string // metadata or registered
	Name         string
	RedirectURIs []string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// OAuthCode is an authorization code's record (never its secret).
type OAuthCode struct {
	ID            uuid.UUID
	ClientID      uuid.UUID
	UserID        uuid.UUID
	RedirectURI   string
	CodeChallenge string
	Scopes        []string
	Resource      string
	ExpiresAt     time.Time
	UsedAt        *time.Time
	GrantID       *uuid.UUID
}

// OAuthGrant is what a person approved for a client, as the keys pages
// list it.
type OAuthGrant struct {
	ID           uuid.UUID  `json:"id"`
	UserID       uuid.UUID  `json:"user_id"`
	UserEmail    string     `json:"user_email"`
	ClientID     string     `json:"client_id"`
	ClientName   string     `json:"client_name"`
	Scopes       []string   `json:"scopes"`
	Resource     string     `json:"resource"`
	CreatedAt    time.Time  `json:"created_at"`
	LastUsedAt   *time.Time `json:"last_used_at"`
	RevokedAt    *time.Time `json:"revoked_at"`
	RevokeReason string     `json:"revoke_reason"`
}

var (
	qOAuthClientUpsert     = query("OAuthClientUpsert")
	qOAuthClientByClientID = query("OAuthClientByClientID")
	qOAuthClientByID       = query("OAuthClientByID")
	qOAuthClientCount      = query("OAuthClientCount")
	qOAuthCodeInsert       = query("OAuthCodeInsert")
	qOAuthCodeForUpdate    = query("OAuthCodeForUpdate")
	qOAuthCodeRedeem       = query("OAuthCodeRedeem")
	qOAuthGrantInsert      = query("OAuthGrantInsert")
	qOAuthGrantRevoke      = query("OAuthGrantRevoke")
	qOAuthGrantTouch       = query("OAuthGrantTouch")
	qOAuthGrantList        = query("OAuthGrantList")
	qOAuthGrantByID        = query("OAuthGrantByID")
	qOAuthGrantClient      = query("OAuthGrantClient")
	qOAuthTokenInsert      = query("OAuthTokenInsert")
	qOAuthTokenRotate      = query("OAuthTokenRotate")
)

func scanOAuthClient(r pgx.Row) (OAuthClient, error) {
	var c OAuthClient
	err := r.Scan(&c.ID, &c.ClientID, &c.Kind, &c.Name, &c.RedirectURIs, &c.CreatedAt, &c.UpdatedAt)
	return c, notFound(err)
}

// UpsertOAuthClient stores a client, or refreshes a stored one of the same
// kind; a client id of the other kind is ErrNotFound (never replaced).
func UpsertOAuthClient(ctx context.Context, q database.Q, clientID, kind, name string, redirects []string) (OAuthClient, error) {
	return scanOAuthClient(q.QueryRow(ctx, qOAuthClientUpsert, clientID, kind, name, redirects, time.Now()))
}

func OAuthClientByClientID(ctx context.Context, q database.Q, clientID string) (OAuthClient, error) {
	return scanOAuthClient(q.QueryRow(ctx, qOAuthClientByClientID, clientID))
}

func OAuthClientByID(ctx context.Context, q database.Q, id uuid.UUID) (OAuthClient, error) {
	return scanOAuthClient(q.QueryRow(ctx, qOAuthClientByID, id))
}

// CountRegisteredOAuthClients counts the tenant's dynamically registered
// clients, for the registration cap.
func CountRegisteredOAuthClients(ctx context.Context, q database.Q) (int, error) {
	var n int
	err := q.QueryRow(ctx, qOAuthClientCount).Scan(&n)
	return n, err
}

func InsertOAuthCode(ctx context.Context, q database.Q, hash []byte, c OAuthCode) error {
	_, err := q.Exec(ctx, qOAuthCodeInsert, hash, c.ClientID, c.UserID, c.RedirectURI, c.CodeChallenge, c.Scopes, c.Resource, c.ExpiresAt)
	return err
}

// OAuthCodeForUpdate reads a code by hash and locks it, so two concurrent
// redemptions are one success and one reuse.
func OAuthCodeForUpdate(ctx context.Context, q database.Q, hash []byte) (OAuthCode, error) {
	var c OAuthCode
	err := q.QueryRow(ctx, qOAuthCodeForUpdate, hash).Scan(&c.ID, &c.ClientID, &c.UserID, &c.RedirectURI, &c.CodeChallenge,
		&c.Scopes, &c.Resource, &c.ExpiresAt, &c.UsedAt, &c.GrantID)
	return c, notFound(err)
}

func RedeemOAuthCode(ctx context.Context, q database.Q, id, grant uuid.UUID) error {
	_, err := q.Exec(ctx, qOAuthCodeRedeem, id, grant)
	return err
}

func InsertOAuthGrant(ctx context.Context, q database.Q, client, user uuid.UUID, scopes []string, resource string) (uuid.UUID, error) {
	var id uuid.UUID
	err := q.QueryRow(ctx, qOAuthGrantInsert, client, user, scopes, resource).Scan(&id)
	return id, err
}

// RevokeOAuthGrant revokes a grant (and so its tokens); the first reason
// given is kept.
func RevokeOAuthGrant(ctx context.Context, q database.Q, id uuid.UUID, reason string) error {
	var at time.Time
	return notFound(q.QueryRow(ctx, qOAuthGrantRevoke, id, reason, time.Now()).Scan(&at))
}

func TouchOAuthGrant(ctx context.Context, q database.Q, id uuid.UUID) error {
	_, err := q.Exec(ctx, qOAuthGrantTouch, id)
	return err
}

func scanOAuthGrant(r pgx.Row) (OAuthGrant, error) {
	var g OAuthGrant
	err := r.Scan(&g.ID, &g.UserID, &g.UserEmail, &g.ClientID, &g.ClientName, &g.Scopes, &g.Resource,
		&g.CreatedAt, &g.LastUsedAt, &g.RevokedAt, &g.RevokeReason)
	return g, notFound(err)
}

// ListOAuthGrants lists grants newest first; user nil lists every grant.
func ListOAuthGrants(ctx context.Context, q database.Q, user *uuid.UUID, limit int) ([]OAuthGrant, error) {
	rows, err := q.Query(ctx, qOAuthGrantList, user, limit)
	return collect(rows, err, scanOAuthGrant)
}

func OAuthGrantByID(ctx context.Context, q database.Q, id uuid.UUID) (OAuthGrant, error) {
	return scanOAuthGrant(q.QueryRow(ctx, qOAuthGrantByID, id))
}

// OAuthGrantClientID is the client_id string of a grant's client.
func OAuthGrantClientID(ctx context.Context, q database.Q, id uuid.UUID) (string, error) {
	var c string
	err := q.QueryRow(ctx, qOAuthGrantClient, id).Scan(&c)
	return c, notFound(err)
}

func InsertOAuthToken(ctx context.Context, q database.Q, grant uuid.UUID, kind string, hash []byte, expires time.Time) error {
	_, err := q.Exec(ctx, qOAuthTokenInsert, grant, kind, hash, expires)
	return err
}

// RotateOAuthToken marks a refresh token exchanged; ErrNotFound means it
// was exchanged before.
func RotateOAuthToken(ctx context.Context, q database.Q, id uuid.UUID) error {
	var got uuid.UUID
	return notFound(q.QueryRow(ctx, qOAuthTokenRotate, id).Scan(&got))
}
