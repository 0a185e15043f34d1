package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/skillvault/skillvault/internal/database"
)

// Review is a stored quality review of one version.
type Review struct {
	ID           uuid.UUID       `json:"id"`
	Version      int             `json:"version"`
	Digest       string          `json:"digest"`
	Reviewer     string          `json:"reviewer"`
	Quality      int             `json:"quality"`
	Clarity      int             `json:"clarity"`
	Completeness int             `json:"completeness"`
	Safety       int             `json:"safety"`
	Findings     json.RawMessage `json:"findings"`
	Suggestions  json.RawMessage `json:"suggestions"`
	Summary      string          `json:"summary"`
	Blocking     bool            `json:"blocking"`
	Decision     string          `json:"decision,omitempty"`
	DecidedBy    string          `json:"decided_by,omitempty"`
	DecisionNote string          `json:"decision_note,omitempty"`
	CreatedAt    time.Time       `json:"created_at"`
}

var (
	qReviewInsert         = query("ReviewInsert")
	qReviewList           = query("ReviewList")
	qReviewBlocking       = query("ReviewBlocking")
	qReviewRecordDecision = query("ReviewRecordDecision")
)

// NewReview is what InsertReview stores.
type NewReview struct {
	SkillID, VersionID                     uuid.UUID
	Digest, Reviewer, Summary              string
	Quality, Clarity, Completeness, Safety int
	Findings, Suggestions                  []byte
	Blocking                               bool
}

func InsertReview(ctx context.Context, q database.Q, r NewReview) error {
	_, err := q.Exec(ctx, qReviewInsert, r.SkillID, r.VersionID, r.Digest, r.Reviewer, r.Quality, r.Clarity, r.Completeness,
		r.Safety, r.Findings, r.Suggestions, r.Summary, r.Blocking)
	return err
}

// ListReviews lists reviews, newest version first, of versions before
// `before` (0: from the newest).
func ListReviews(ctx context.Context, q database.Q, skill uuid.UUID, before, limit int) ([]Review, error) {
	rows, err := q.Query(ctx, qReviewList, skill, limit, before)
	return collect(rows, err, func(r pgx.Row) (Review, error) {
		var x Review
		return x, r.Scan(&x.ID, &x.Version, &x.Digest, &x.Reviewer, &x.Quality, &x.Clarity, &x.Completeness, &x.Safety,
			&x.Findings, &x.Suggestions, &x.Summary, &x.Blocking, &x.Decision, &x.DecidedBy, &x.DecisionNote, &x.CreatedAt)
	})
}

// VersionBlocked reports a high-severity safety finding on a version.
func VersionBlocked(ctx context.Context, q database.Q, version uuid.UUID) (bool, error) {
	var b bool
	err := q.QueryRow(ctx, qReviewBlocking, version).Scan(&b)
	return b, err
}

// RecordReviewDecision records an admin's decision on a version's reviews.
func RecordReviewDecision(ctx context.Context, q database.Q, version, by uuid.UUID, decision, note string) error {
	_, err := q.Exec(ctx, qReviewRecordDecision, version, decision, by, note)
	return err
}
