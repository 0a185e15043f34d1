package service

import (
	"context"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/egress"
	"github.com/skillvault/skillvault/internal/review"
	"github.com/skillvault/skillvault/internal/secrets"
	"github.com/skillvault/skillvault/internal/store"
)

// ProviderConfig is an operator-configured provider: its endpoints, and
// the operator's API key, which is sent to those endpoints and nowhere
// else.
type ProviderConfig struct {
	URLs   []string
	APIKey string
}

// operatorKey returns the operator's key when the tenant's URL reaches
// the same endpoint as one of the operator's URLs (endpointOf turns a base
// URL into the endpoint the request goes to).
func (p ProviderConfig) operatorKey(tenantURL string, endpointOf func(string) (string, error)) string {
	if p.APIKey == "" {
		return ""
	}
	target, err := endpointOf(tenantURL)
	if err != nil {
		return ""
	}
	for _, u := range p.URLs {
		if e, err := endpointOf(u); err == nil && egress.SameEndpoint(e, target) {
			return p.APIKey
		}
	}
	return ""
}

// providerKey picks the key for a request to a tenant's provider URL: the
// tenant's own key when it stored one, else the operator's key when the
// URL is the operator's endpoint, else none. A tenant-chosen URL never
// receives the operator's key.
func providerKey(box *secrets.Box, tenant uuid.UUID, purpose string, sealed []byte, url string, op ProviderConfig, endpointOf func(string) (string, error)) (string, error) {
	if len(sealed) == 0 {
		return op.operatorKey(url, endpointOf), nil
	}
	if box == nil {
		return "", errNoSecretKey
	}
	key, err := box.Open(tenant, purpose, sealed)
	if err != nil {
		return "", &Error{Kind: Unavailable, Msg: "the stored " + purpose + " cannot be decrypted by this server (its SKILLVAULT_SECRET_KEY changed?); set the key again"}
	}
	return key, nil
}

var errNoSecretKey = &Error{Kind: Invalid, Msg: "this server cannot store or use tenants' own provider API keys: " +
	"the operator must set SKILLVAULT_SECRET_KEY (32 random bytes, base64; e.g. openssl rand -base64 32)"}

// reviewWithLLM asks the tenant's LLM reviewer for a review.
func (s *Service) reviewWithLLM(ctx context.Context, st store.Settings, in review.Input) (review.Result, error) {
	key, err := providerKey(s.secrets, st.TenantID, "llm_api_key", st.LLMKeySealed, st.LLMReviewURL, s.llm, review.ChatEndpoint)
	if err != nil {
		return review.Result{}, err
	}
	return review.LLM{URL: st.LLMReviewURL, Model: st.LLMReviewModel, APIKey: key, Client: s.egress}.Review(ctx, in)
}
