package service

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/store"
)

// RatingResult is a rating with the skill's new totals.
type RatingResult struct {
	Rating        store.Rating `json:"rating"`
	RatingCount   int          `json:"rating_count"`
	RatingAverage float64      `json:"rating_average"`
}

// Rate creates or changes the actor's rating of a skill. The skill's row is
// locked while its totals are recomputed, so they stay exact under
// concurrent ratings.
func (s *Service) Rate(ctx context.Context, a Actor, name string, stars int, comment string) (RatingResult, error) {
	if err := a.need("write"); err != nil {
		return RatingResult{}, err
	}
	if a.UserID == uuid.Nil {
		return RatingResult{}, forbiddenf("ratings are made by users: use a user's API key")
	}
	if stars < 1 || stars > 5 {
		return RatingResult{}, invalidf("stars must be between 1 and 5, not %d", stars)
	}
	comment = strings.TrimSpace(comment)
	if utf8.RuneCountInString(comment) > 4000 || !utf8.ValidString(comment) {
		return RatingResult{}, invalidf("comment must be valid text of at most 4000 characters")
	}
	var out RatingResult
	err := s.db.Write(ctx, a.scope(), func(q database.Q) error {
		id, err := store.LockSkill(ctx, q, name)
		if err != nil {
			if err == store.ErrNotFound {
				return notFoundf("no skill named %s", name)
			}
			return err
		}
		if out.Rating, err = store.UpsertRating(ctx, q, id, a.UserID, stars, comment); err != nil {
			return err
		}
		count, sum, err := store.RecountRatings(ctx, q, id)
		out.RatingCount = count
		if count > 0 {
			out.RatingAverage = float64(sum) / float64(count)
		}
		return err
	})
	return out, err
}

// Ratings lists a skill's ratings, newest first.
func (s *Service) Ratings(ctx context.Context, a Actor, name string, c *store.TimeCursor, limit int) ([]store.Rating, error) {
	if err := a.needRead(); err != nil {
		return nil, err
	}
	var out []store.Rating
	err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
		sk, err := visible(ctx, q, name)
		if err != nil {
			return err
		}
		out, err = store.ListRatings(ctx, q, sk.ID, c, limit)
		return err
	})
	return out, err
}
