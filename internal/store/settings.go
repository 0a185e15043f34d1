package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/skillvault/skillvault/internal/database"
)

// Settings are a tenant's site settings. A tenant's own provider API keys
// are stored sealed (package secrets) and never leave the server: the
// JSON form says only whether one is set.
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

	EmbeddingAPIKeySet bool `json:"embedding_api_key_set"`
	LLMAPIKeySet       bool `json:"llm_api_key_set"`

	TenantID           uuid.UUID `json:"-"`
	EmbeddingKeySealed []byte    `json:"-"` // nil when the tenant set no key
	LLMKeySealed       []byte    `json:"-"`
}

var (
	qSettingsGet    = query("SettingsGet")
	qSettingsEnsure = query("SettingsEnsure")
	qSettingsUpdate = query("SettingsUpdate")
)

func scanSettings(r pgx.Row) (Settings, error) {
	var s Settings
	err := r.Scan(&s.SemanticSearchEnabled, &s.EmbeddingProvider, &s.EmbeddingURL, &s.EmbeddingModel, &s.AllowSkillDownload,
		&s.KeyExpiryDays, &s.RequireReview, &s.PublicDiscovery, &s.LLMReviewURL, &s.LLMReviewModel, &s.UpdatedAt,
		&s.TenantID, &s.EmbeddingKeySealed, &s.LLMKeySealed)
	s.EmbeddingAPIKeySet, s.LLMAPIKeySet = len(s.EmbeddingKeySealed) > 0, len(s.LLMKeySealed) > 0
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
		s.EmbeddingModel, s.AllowSkillDownload, s.KeyExpiryDays, s.RequireReview, s.PublicDiscovery, s.LLMReviewURL, s.LLMReviewModel,
		s.EmbeddingKeySealed, s.LLMKeySealed))
}
