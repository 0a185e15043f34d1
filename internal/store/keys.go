package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/skillvault/skillvault/internal/database"
)

// APIKey is a key's public record; the secret and its hash never leave
// the service.
type APIKey struct {
	ID         uuid.UUID  `json:"id"`
	UserID     uuid.UUID  `json:"user_id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Scopes     []string   `json:"scopes"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	CreatedAt  time.Time  `json:"created_at"`
}

func scanKey(r pgx.Row) (APIKey, error) {
	var k APIKey
	err := r.Scan(&k.ID, &k.UserID, &k.Name, &k.Prefix, &k.Scopes, &k.ExpiresAt, &k.LastUsedAt, &k.RevokedAt, &k.CreatedAt)
	return k, notFound(err)
}

var (
	qKeyInsert = query("KeyInsert")
	qKeyList   = query("KeyList")
	qKeyByID   = query("KeyByID")
	qKeyRevoke = query("KeyRevoke")
	qKeyTouch  = query("KeyTouch")
)

func InsertKey(ctx context.Context, q database.Q, user uuid.UUID, name, prefix string, hash []byte, scopes []string, expires *time.Time) (APIKey, error) {
	return scanKey(q.QueryRow(ctx, qKeyInsert, user, name, prefix, hash, scopes, expires))
}

// ListKeys lists keys newest first; user nil lists every key.
func ListKeys(ctx context.Context, q database.Q, user *uuid.UUID, c *TimeCursor, limit int) ([]APIKey, error) {
	var at *time.Time
	var id *uuid.UUID
	if c != nil {
		at, id = &c.At, &c.ID
	}
	rows, err := q.Query(ctx, qKeyList, user, at, id, limit)
	return collect(rows, err, scanKey)
}

func KeyByID(ctx context.Context, q database.Q, id uuid.UUID) (APIKey, error) {
	return scanKey(q.QueryRow(ctx, qKeyByID, id))
}

func RevokeKey(ctx context.Context, q database.Q, id uuid.UUID) (APIKey, error) {
	return scanKey(q.QueryRow(ctx, qKeyRevoke, id, time.Now()))
}

func TouchKey(ctx context.Context, q database.Q, id uuid.UUID) error {
	_, err := q.Exec(ctx, qKeyTouch, id)
	return err
}

// TimeCursor is a keyset position in a list ordered by (time, id) descending.
type TimeCursor struct {
	At time.Time
	ID uuid.UUID
}
