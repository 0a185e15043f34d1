package main

import (
	"fmt"
	"path/filepath"

	"github.com/skillvault/skillvault/internal/egress"
	"github.com/skillvault/skillvault/internal/secrets"
	"github.com/skillvault/skillvault/internal/service"
)

// providerOptions reads the operator's configuration of outbound calls
// to tenants' providers: what internal addresses they may reach, the
// operator's own endpoints and keys (sent only to those endpoints), and
// the key that seals tenants' own provider keys.
func providerOptions(e *env, t *target) (service.Options, error) {
	client, err := egress.New(egress.Options{Allow: egress.ParseList(e.getenv("SKILLVAULT_EGRESS_ALLOW"))})
	if err != nil {
		return service.Options{}, fmt.Errorf("SKILLVAULT_EGRESS_ALLOW: %w", err)
	}
	box, err := secretBox(e, t)
	if err != nil {
		return service.Options{}, err
	}
	opt := service.Options{
		Egress:  client,
		Secrets: box,
		Embed:   service.EmbedConfig{URLs: egress.ParseList(e.getenv("SKILLVAULT_EMBEDDING_URL")), APIKey: e.getenv("SKILLVAULT_EMBEDDING_API_KEY")},
		LLM:     service.LLMConfig{URLs: egress.ParseList(e.getenv("SKILLVAULT_LLM_URL")), APIKey: e.getenv("SKILLVAULT_LLM_API_KEY")},
	}
	for name, p := range map[string]service.ProviderConfig{"SKILLVAULT_EMBEDDING": opt.Embed, "SKILLVAULT_LLM": opt.LLM} {
		if p.APIKey != "" && len(p.URLs) == 0 {
			e.log.Warn(name + "_API_KEY is set without " + name + "_URL: the key is sent to no endpoint (it goes only to the operator's own)")
		}
	}
	return opt, nil
}

// secretBox is SKILLVAULT_SECRET_KEY; the embedded deployment makes one
// in its home folder on first start. Without either, tenants cannot store
// their own provider keys (and are told so).
func secretBox(e *env, t *target) (*secrets.Box, error) {
	var key []byte
	var err error
	switch {
	case e.getenv("SKILLVAULT_SECRET_KEY") != "":
		key, err = secrets.ParseKey(e.getenv("SKILLVAULT_SECRET_KEY"))
	case t.emb != nil:
		key, err = secrets.LoadOrCreateKey(filepath.Join(home(e), "secret.key"))
	default:
		e.log.Warn("SKILLVAULT_SECRET_KEY is not set: tenants cannot store their own provider API keys")
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("SKILLVAULT_SECRET_KEY: %w", err)
	}
	return secrets.New(key)
}
