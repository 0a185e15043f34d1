package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/skillvault/skillvault/internal/database"
)

var (
	qSearchKeyword      = query("SearchKeyword")
	qSearchHits         = query("SearchHits")
	qSearchAllowed      = query("SearchAllowed")
	qSearchSnippets     = query("SearchSnippets")
	qEmbeddingEnqueue   = query("EmbeddingEnqueue")
	qEmbeddingDue       = query("EmbeddingDue")
	qEmbeddingStore     = query("EmbeddingStore")
	qEmbeddingFail      = query("EmbeddingFail")
	qEmbeddingStamp     = query("EmbeddingStamp")
	qEmbeddingVectors   = query("EmbeddingVectors")
	qEmbeddingState     = query("EmbeddingState")
	qEmbeddingAllSkills = query("EmbeddingAllSkills")
	qEmbeddingCounts    = query("EmbeddingCounts")
	qSkillBody          = query("SkillBody")
)

// SearchFilter narrows a search.
type SearchFilter struct {
	Category, Tag, Status, Author string
}

// Ranked is a skill id with a score.
type Ranked struct {
	ID    uuid.UUID
	Score float64
}

// KeywordSearch ranks the visible skills matching a web-search style query.
func KeywordSearch(ctx context.Context, q database.Q, text string, f SearchFilter, limit int) ([]Ranked, error) {
	rows, err := q.Query(ctx, qSearchKeyword, text, f.Category, f.Tag, f.Status, f.Author, limit)
	return collect(rows, err, func(r pgx.Row) (Ranked, error) {
		var x Ranked
		var rank float32
		err := r.Scan(&x.ID, &rank)
		x.Score = float64(rank)
		return x, err
	})
}

// Hit is a skill found by a search.
type Hit struct {
	Skill
	Digest string
}

// SearchHits returns the visible skills among ids (candidates that passed
// the search's filters).
func SearchHits(ctx context.Context, q database.Q, ids []uuid.UUID) (map[uuid.UUID]Hit, error) {
	rows, err := q.Query(ctx, qSearchHits, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[uuid.UUID]Hit{}
	for rows.Next() {
		var h Hit
		s := &h.Skill
		if err := rows.Scan(&s.ID, &s.Name, &s.Title, &s.Description, &s.Category, &s.Tags, &s.Status, &s.Visibility,
			&s.AuthorID, &s.AuthorEmail, &s.LatestVersion, &s.PublishedVersion, &s.ForkOf, &s.ForkOfDigest,
			&s.RatingCount, &s.RatingSum, &s.Installs, &s.Downloads, &s.Views, &s.Invocations,
			&s.CreatedAt, &s.UpdatedAt, &s.PublishedAt, &s.PendingVersion, &h.Digest); err != nil {
			return nil, err
		}
		if s.RatingCount > 0 {
			s.RatingAverage = float64(s.RatingSum) / float64(s.RatingCount)
		}
		if s.Tags == nil {
			s.Tags = []string{}
		}
		out[s.ID] = h
	}
	return out, rows.Err()
}

// SearchAllowed returns which of ids are skills the actor may see and the
// filter allows.
func SearchAllowed(ctx context.Context, q database.Q, ids []uuid.UUID, f SearchFilter) (map[uuid.UUID]bool, error) {
	rows, err := q.Query(ctx, qSearchAllowed, ids, f.Category, f.Tag, f.Status, f.Author)
	list, err := collect(rows, err, func(r pgx.Row) (uuid.UUID, error) {
		var id uuid.UUID
		return id, r.Scan(&id)
	})
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]bool, len(list))
	for _, id := range list {
		out[id] = true
	}
	return out, nil
}

// SearchSnippets highlights the query's words in the skills' text.
func SearchSnippets(ctx context.Context, q database.Q, ids []uuid.UUID, text string) (map[uuid.UUID]string, error) {
	rows, err := q.Query(ctx, qSearchSnippets, ids, text)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[uuid.UUID]string{}
	for rows.Next() {
		var id uuid.UUID
		var snip string
		if err := rows.Scan(&id, &snip); err != nil {
			return nil, err
		}
		out[id] = snip
	}
	return out, rows.Err()
}

// EnqueueEmbedding marks a skill for embedding unless its vector is
// current (same model, same input) and force is false.
func EnqueueEmbedding(ctx context.Context, q database.Q, skill uuid.UUID, model, inputHash string, force bool) error {
	_, err := q.Exec(ctx, qEmbeddingEnqueue, skill, model, inputHash, force, time.Now())
	return err
}

// EmbedJob is a skill waiting for its vector.
type EmbedJob struct {
	SkillID                        uuid.UUID
	Name, Title, Description, Body string
	InputHash                      string
	Attempts                       int
}

func DueEmbeddings(ctx context.Context, q database.Q, limit int) ([]EmbedJob, error) {
	rows, err := q.Query(ctx, qEmbeddingDue, limit)
	return collect(rows, err, func(r pgx.Row) (EmbedJob, error) {
		var j EmbedJob
		return j, r.Scan(&j.SkillID, &j.Name, &j.Title, &j.Description, &j.Body, &j.InputHash, &j.Attempts)
	})
}

// StoreEmbedding saves a vector, unless the skill changed meanwhile (its
// input hash moved on; the newer job will store its own).
func StoreEmbedding(ctx context.Context, q database.Q, skill uuid.UUID, model string, vec []float32, inputHash string) error {
	_, err := q.Exec(ctx, qEmbeddingStore, skill, model, len(vec), vec, inputHash)
	return err
}

// FailEmbedding records a failure and schedules a retry with backoff.
func FailEmbedding(ctx context.Context, q database.Q, skill uuid.UUID, msg, inputHash string) error {
	now := float64(time.Now().UnixMicro()) / 1e6
	_, err := q.Exec(ctx, qEmbeddingFail, skill, msg, inputHash, now)
	return err
}

// EmbeddingStamp identifies the newest ready vector of the tenant.
func EmbeddingStamp(ctx context.Context, q database.Q) (string, error) {
	var at time.Time
	if err := q.QueryRow(ctx, qEmbeddingStamp).Scan(&at); err != nil {
		return "", err
	}
	return fmt.Sprint(at.UnixMicro()), nil
}

// EmbeddingVectors streams the tenant's ready vectors of a model.
func EmbeddingVectors(ctx context.Context, q database.Q, model string, fn func(uuid.UUID, []float32)) error {
	rows, err := q.Query(ctx, qEmbeddingVectors, model)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id uuid.UUID
		var v []float32
		if err := rows.Scan(&id, &v); err != nil {
			return err
		}
		fn(id, v)
	}
	return rows.Err()
}

// EmbeddingStatus is a skill's embedding state.
type EmbeddingStatus struct {
	State     string    `json:"state"`
	Model     string    `json:"model"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

func EmbeddingState(ctx context.Context, q database.Q, skill uuid.UUID) (EmbeddingStatus, error) {
	var s EmbeddingStatus
	err := q.QueryRow(ctx, qEmbeddingState, skill).Scan(&s.State, &s.Model, &s.Attempts, &s.LastError, &s.UpdatedAt)
	return s, notFound(err)
}

// AllSkillTexts lists every skill's text, for a reindex.
func AllSkillTexts(ctx context.Context, q database.Q) ([]EmbedJob, error) {
	rows, err := q.Query(ctx, qEmbeddingAllSkills)
	return collect(rows, err, func(r pgx.Row) (EmbedJob, error) {
		var j EmbedJob
		return j, r.Scan(&j.SkillID, &j.Name, &j.Title, &j.Description, &j.Body)
	})
}

// SkillBody returns the body of a skill found visible before; it checks
// no visibility itself.
func SkillBody(ctx context.Context, q database.Q, id uuid.UUID) (string, error) {
	var body string
	err := q.QueryRow(ctx, qSkillBody, id).Scan(&body)
	return body, err
}

// EmbeddingCounts counts the tenant's embeddings by state.
func EmbeddingCounts(ctx context.Context, q database.Q) (map[string]int64, error) {
	rows, err := q.Query(ctx, qEmbeddingCounts)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var s string
		var n int64
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}
