package service

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/store"
)

// settingsIn reads the tenant's settings inside a running scope. The row is
// created with the defaults by EnsureTenant; a tenant without one gets the
// defaults read from a fresh row in its own transaction.
func (s *Service) settingsIn(ctx context.Context, q database.Q) (store.Settings, error) {
	st, err := store.GetSettings(ctx, q)
	if errors.Is(err, store.ErrNotFound) {
		if err := store.EnsureSettings(ctx, q); err != nil {
			return st, err
		}
		return store.GetSettings(ctx, q)
	}
	return st, err
}

// EnsureTenant creates what a new tenant needs (its settings row). It is
// idempotent.
func (s *Service) EnsureTenant(ctx context.Context, a Actor) error {
	return s.db.Write(ctx, a.scope(), func(q database.Q) error { return store.EnsureSettings(ctx, q) })
}

// Settings returns the tenant's settings (admins only).
func (s *Service) Settings(ctx context.Context, a Actor) (store.Settings, error) {
	if err := a.need("admin"); err != nil {
		return store.Settings{}, err
	}
	return s.settings(ctx, a)
}

// settings reads the settings for any actor, for the rules that depend on
// them.
func (s *Service) settings(ctx context.Context, a Actor) (store.Settings, error) {
	var st store.Settings
	err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
		var err error
		st, err = store.GetSettings(ctx, q)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		err = s.db.Write(ctx, a.scope(), func(q database.Q) error {
			st, err = s.settingsIn(ctx, q)
			return err
		})
	}
	return st, err
}

// SettingsPatch is a partial update of the settings; nil fields stay.
type SettingsPatch struct {
	SemanticSearchEnabled *bool   `json:"semantic_search_enabled"`
	EmbeddingProvider     *string `json:"embedding_provider"`
	EmbeddingURL          *string `json:"embedding_url"`
	EmbeddingModel        *string `json:"embedding_model"`
	AllowSkillDownload    *bool   `json:"allow_skill_download"`
	KeyExpiryDays         *int    `json:"key_expiry_days"`
	RequireReview         *bool   `json:"require_review"`
	PublicDiscovery       *bool   `json:"public_discovery"`
	LLMReviewURL          *string `json:"llm_review_url"`
	LLMReviewModel        *string `json:"llm_review_model"`
	// The tenant's own provider keys: write-only; "" clears.
	EmbeddingAPIKey *string `json:"embedding_api_key"`
	LLMAPIKey       *string `json:"llm_api_key"`
}

func validURL(field, u string) error {
	if u == "" {
		return nil
	}
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return invalidf("%s must be an http(s) URL, not %q", field, u)
	}
	if p.User != nil || p.RawQuery != "" || p.ForceQuery || p.Fragment != "" {
		return invalidf("%s must be a plain base URL, without credentials, query or fragment (a key goes in the API key setting)", field)
	}
	return nil
}

// setSecret applies a patch of a tenant's provider key: nil keeps it, ""
// clears it, anything else is sealed for this tenant and column.
func (s *Service) setSecret(dst *[]byte, field string, v *string, a Actor) error {
	if v == nil {
		return nil
	}
	key := strings.TrimSpace(*v)
	if key == "" {
		*dst = nil
		return nil
	}
	if len(key) > 4096 || strings.ContainsFunc(key, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		return invalidf("%s must be at most 4096 printable ASCII characters without spaces", field)
	}
	if s.secrets == nil {
		return errNoSecretKey
	}
	*dst = s.secrets.Seal(a.TenantID, field, key)
	return nil
}

// UpdateSettings applies a patch (admins only), audited with the old and
// new values of every changed field.
func (s *Service) UpdateSettings(ctx context.Context, a Actor, p SettingsPatch) (store.Settings, error) {
	if err := a.need("admin"); err != nil {
		return store.Settings{}, err
	}
	var out store.Settings
	err := s.db.Write(ctx, a.scope(), func(q database.Q) error {
		old, err := s.settingsIn(ctx, q)
		if err != nil {
			return err
		}
		n := old
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = strings.TrimSpace(*v)
			}
		}
		setb := func(dst *bool, v *bool) {
			if v != nil {
				*dst = *v
			}
		}
		setb(&n.SemanticSearchEnabled, p.SemanticSearchEnabled)
		set(&n.EmbeddingProvider, p.EmbeddingProvider)
		set(&n.EmbeddingURL, p.EmbeddingURL)
		set(&n.EmbeddingModel, p.EmbeddingModel)
		setb(&n.AllowSkillDownload, p.AllowSkillDownload)
		if p.KeyExpiryDays != nil {
			n.KeyExpiryDays = *p.KeyExpiryDays
		}
		setb(&n.RequireReview, p.RequireReview)
		setb(&n.PublicDiscovery, p.PublicDiscovery)
		set(&n.LLMReviewURL, p.LLMReviewURL)
		set(&n.LLMReviewModel, p.LLMReviewModel)
		// A sealed key belongs to the endpoint it was given for: a URL
		// moved without a new key drops it, or an admin could re-point the
		// write-only secret at a server of theirs and read it there.
		if n.EmbeddingURL != old.EmbeddingURL {
			n.EmbeddingKeySealed = nil
		}
		if n.LLMReviewURL != old.LLMReviewURL {
			n.LLMKeySealed = nil
		}
		if err := s.setSecret(&n.EmbeddingKeySealed, "embedding_api_key", p.EmbeddingAPIKey, a); err != nil {
			return err
		}
		if err := s.setSecret(&n.LLMKeySealed, "llm_api_key", p.LLMAPIKey, a); err != nil {
			return err
		}

		switch n.EmbeddingProvider {
		case "builtin":
		case "ollama", "openai":
			if n.EmbeddingURL == "" || n.EmbeddingModel == "" {
				return invalidf("embedding_provider %q needs embedding_url and embedding_model", n.EmbeddingProvider)
			}
		default:
			return invalidf("embedding_provider must be builtin, ollama or openai, not %q", n.EmbeddingProvider)
		}
		if err := validURL("embedding_url", n.EmbeddingURL); err != nil {
			return err
		}
		if err := validURL("llm_review_url", n.LLMReviewURL); err != nil {
			return err
		}
		if (n.LLMReviewURL == "") != (n.LLMReviewModel == "") {
			return invalidf("llm_review_url and llm_review_model go together: set both or neither")
		}
		if n.KeyExpiryDays < 0 || n.KeyExpiryDays > 3650 {
			return invalidf("key_expiry_days must be between 0 (never) and 3650")
		}
		if out, err = store.UpdateSettings(ctx, q, n); err != nil {
			return err
		}
		changes := diffSettings(old, out)
		if len(changes) == 0 {
			return nil
		}
		if modelName(old) != modelName(out) || old.EmbeddingURL != out.EmbeddingURL {
			// Vectors of different models cannot be compared: re-embed
			// the whole tenant with the new one.
			if _, err := s.requeueAll(ctx, q, false); err != nil {
				return err
			}
		}
		return s.audit(ctx, q, a, "settings.update", "success", "site_settings", "", map[string]any{"changes": changes})
	})
	return out, err
}

func diffSettings(a, b store.Settings) map[string]any {
	out := map[string]any{}
	add := func(name string, x, y any) {
		if x != y {
			out[name] = map[string]any{"old": x, "new": y}
		}
	}
	add("semantic_search_enabled", a.SemanticSearchEnabled, b.SemanticSearchEnabled)
	add("embedding_provider", a.EmbeddingProvider, b.EmbeddingProvider)
	add("embedding_url", a.EmbeddingURL, b.EmbeddingURL)
	add("embedding_model", a.EmbeddingModel, b.EmbeddingModel)
	add("allow_skill_download", a.AllowSkillDownload, b.AllowSkillDownload)
	add("key_expiry_days", a.KeyExpiryDays, b.KeyExpiryDays)
	add("require_review", a.RequireReview, b.RequireReview)
	add("public_discovery", a.PublicDiscovery, b.PublicDiscovery)
	add("llm_review_url", a.LLMReviewURL, b.LLMReviewURL)
	add("llm_review_model", a.LLMReviewModel, b.LLMReviewModel)
	// Keys are recorded as set, replaced or cleared, never their value.
	add("embedding_api_key", keyState(nil, a.EmbeddingKeySealed), keyState(a.EmbeddingKeySealed, b.EmbeddingKeySealed))
	add("llm_api_key", keyState(nil, a.LLMKeySealed), keyState(a.LLMKeySealed, b.LLMKeySealed))
	return out
}

// keyState names a sealed key for the audit log, relative to the one
// before it.
func keyState(before, now []byte) string {
	switch {
	case len(now) == 0:
		return "unset"
	case len(before) > 0 && !bytes.Equal(before, now):
		return "replaced"
	}
	return "set"
}
