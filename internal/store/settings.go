package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/skillvault/skillvault/internal/database"
)

// Settings are a tenant's site settings. Secrets (provider API keys) are
// server configuration and never stored here.
type Settings struct {
	SemanticSearchEnabled bool      `json:"semantic_search_enabled"`
	EmbeddingProvider     string    `json:"embedding_provider"`
	EmbeddingURL          string    `json:"embedding_url"`
	EmbeddingModel        string    `json:"embedding_model"`
	AllowSkillDownload    bool      `json:"allow_skill_download"`
	KeyExpiryDays         int       `json:"key_expiry_days"`
	RequireReview         bool      `json:"require_review"`
	PublicDiscovery       bool      `json:"public_discovery"`
	LLMReviewURL          string    `json:"llm_review_url"`
	LLMReviewModel        string    `json:"llm_review_model"`
	UpdatedAt             time.Time `json:"updated_at"`
}

var (
	qSettingsGet    = query("SettingsGet")
	qSettingsEnsure = query("SettingsEnsure")
	qSettingsUpdate = query("SettingsUpdate")
)

func scanSettings(r pgx.Row) (Settings, error) {
	var s Settings
	err := r.Scan(&s.SemanticSearchEnabled, &s.EmbeddingProvider, &s.EmbeddingURL, &s.EmbeddingModel, &s.AllowSkillDownload,
		&s.KeyExpiryDays, &s.RequireReview, &s.PublicDiscovery, &s.LLMReviewURL, &s.LLMReviewModel, &s.UpdatedAt)
	return s, notFound(err)
}

// GetSettings returns the tenant's settings, or ErrNotFound before the
// first EnsureSettings.
func GetSettings(ctx context.Context, q database.Q) (Settings, error) {
	return scanSettings(q.QueryRow(ctx, qSettingsGet))
}

// EnsureSettings creates the tenant's settings row with the defaults.
func EnsureSettings(ctx context.Context, q database.Q) error {
	_, err := q.Exec(ctx, qSettingsEnsure)
	return err
}

func UpdateSettings(ctx context.Context, q database.Q, s Settings) (Settings, error) {
	return scanSettings(q.QueryRow(ctx, qSettingsUpdate, s.SemanticSearchEnabled, s.EmbeddingProvider, s.EmbeddingURL,
		s.EmbeddingModel, s.AllowSkillDownload, s.KeyExpiryDays, s.RequireReview, s.PublicDiscovery, s.LLMReviewURL, s.LLMReviewModel))
}
