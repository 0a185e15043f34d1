package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/skillvault/skillvault/internal/database"
)

// Rating is one user's stars for a skill.
type Rating struct {
	ID        uuid.UUID `json:"id"`
	UserID    uuid.UUID `json:"user_id"`
	UserEmail string    `json:"user,omitempty"`
	Stars     int       `json:"stars"`
	Comment   string    `json:"comment"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

var (
	qRatingUpsert = query("RatingUpsert")
	qRatingList   = query("RatingList")
)

func UpsertRating(ctx context.Context, q database.Q, skill, user uuid.UUID, stars int, comment string) (Rating, error) {
	var r Rating
	err := q.QueryRow(ctx, qRatingUpsert, skill, user, stars, comment, time.Now()).Scan(&r.ID, &r.UserID, &r.Stars, &r.Comment, &r.CreatedAt, &r.UpdatedAt)
	return r, err
}

func ListRatings(ctx context.Context, q database.Q, skill uuid.UUID, c *TimeCursor, limit int) ([]Rating, error) {
	var at *time.Time
	var id *uuid.UUID
	if c != nil {
		at, id = &c.At, &c.ID
	}
	rows, err := q.Query(ctx, qRatingList, skill, at, id, limit)
	return collect(rows, err, func(r pgx.Row) (Rating, error) {
		var x Rating
		return x, r.Scan(&x.ID, &x.UserID, &x.Stars, &x.Comment, &x.CreatedAt, &x.UpdatedAt, &x.UserEmail)
	})
}
