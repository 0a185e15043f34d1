package store

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/database"
)

// Web sign-in: one-time login links and browser sessions. Tokens are
// stored only as SHA-256 hashes.

// LoginLink is a one-time sign-in link.
type LoginLink struct {
	ID        uuid.UUID
	UserID    uuid.UUID
	Email     string // only from PeekLoginLink
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// WebSession is a browser session with its user and tenant.
type WebSession struct {
	ID           uuid.UUID
	UserID       uuid.UUID
	CSRF         string
	CreatedAt    time.Time
	LastSeenAt   time.Time
	ExpiresAt    time.Time
	Email, Name  string
	Role         string
	UserActive   bool
	TenantSlug   string
	TenantName   string
	TenantActive bool
}

var (
	qLoginLinkInsert      = query("LoginLinkInsert")
	qLoginLinkByHash      = query("LoginLinkByHash")
	qLoginLinkPeek        = query("LoginLinkPeek")
	qLoginLinkUse         = query("LoginLinkUse")
	qSessionInsert        = query("SessionInsert")
	qSessionByHash        = query("SessionByHash")
	qSessionTouch         = query("SessionTouch")
	qSessionDelete        = query("SessionDelete")
	qSessionDeleteUser    = query("SessionDeleteUser")
	qSessionDeleteExpired = query("SessionDeleteExpired")
)

func InsertLoginLink(ctx context.Context, q database.Q, user uuid.UUID, hash []byte, expires time.Time) (uuid.UUID, error) {
	var id uuid.UUID
	err := q.QueryRow(ctx, qLoginLinkInsert, user, hash, expires).Scan(&id)
	return id, err
}

// LockLoginLink finds a link by hash and locks it for the transaction.
func LockLoginLink(ctx context.Context, q database.Q, hash []byte) (LoginLink, error) {
	var l LoginLink
	err := q.QueryRow(ctx, qLoginLinkByHash, hash).Scan(&l.ID, &l.UserID, &l.ExpiresAt, &l.UsedAt)
	return l, notFound(err)
}

// PeekLoginLink reads a link and its user's email without using it.
func PeekLoginLink(ctx context.Context, q database.Q, hash []byte) (LoginLink, error) {
	var l LoginLink
	err := q.QueryRow(ctx, qLoginLinkPeek, hash).Scan(&l.ID, &l.UserID, &l.ExpiresAt, &l.UsedAt, &l.Email)
	return l, notFound(err)
}

// UseLoginLink marks a link used; it reports false when it already was.
func UseLoginLink(ctx context.Context, q database.Q, id uuid.UUID) (bool, error) {
	tag, err := q.Exec(ctx, qLoginLinkUse, id)
	return tag.RowsAffected() == 1, err
}

func InsertSession(ctx context.Context, q database.Q, user uuid.UUID, hash []byte, csrf string, expires time.Time) (uuid.UUID, time.Time, error) {
	var id uuid.UUID
	var created time.Time
	err := q.QueryRow(ctx, qSessionInsert, user, hash, csrf, expires).Scan(&id, &created)
	return id, created, err
}

func SessionByHash(ctx context.Context, q database.Q, hash []byte) (WebSession, error) {
	var s WebSession
	err := q.QueryRow(ctx, qSessionByHash, hash).Scan(&s.ID, &s.UserID, &s.CSRF, &s.CreatedAt, &s.LastSeenAt, &s.ExpiresAt,
		&s.Email, &s.Name, &s.Role, &s.UserActive, &s.TenantSlug, &s.TenantName, &s.TenantActive)
	return s, notFound(err)
}

func TouchSession(ctx context.Context, q database.Q, id uuid.UUID) error {
	_, err := q.Exec(ctx, qSessionTouch, id)
	return err
}

func DeleteSession(ctx context.Context, q database.Q, id uuid.UUID) error {
	_, err := q.Exec(ctx, qSessionDelete, id)
	return err
}

// DeleteUserSessions ends every session of a user and reports how many.
func DeleteUserSessions(ctx context.Context, q database.Q, user uuid.UUID) (int64, error) {
	tag, err := q.Exec(ctx, qSessionDeleteUser, user)
	return tag.RowsAffected(), err
}

// DeleteExpiredSessions removes sessions past their absolute expiry or idle
// since before idleSince.
func DeleteExpiredSessions(ctx context.Context, q database.Q, idleSince time.Time) (int64, error) {
	tag, err := q.Exec(ctx, qSessionDeleteExpired, idleSince)
	return tag.RowsAffected(), err
}

// NameCount is a name with counts, for rankings.
type NameCount struct {
	Name  string
	Count int64
	Users int64
	Last  *time.Time
}
