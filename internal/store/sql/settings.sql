-- name: SettingsGet
SELECT semantic_search_enabled, embedding_provider, embedding_url, embedding_model, allow_skill_download,
       key_expiry_days, require_review, public_discovery, llm_review_url, llm_review_model, updated_at,
       tenant_id, embedding_api_key_sealed, llm_api_key_sealed
FROM site_settings WHERE tenant_id = $tenant;

-- name: SettingsEnsure
INSERT INTO site_settings (tenant_id) VALUES ($tenant)
ON CONFLICT (tenant_id) DO NOTHING;

-- name: SettingsUpdate
UPDATE site_settings SET semantic_search_enabled = $1, embedding_provider = $2, embedding_url = $3,
       embedding_model = $4, allow_skill_download = $5, key_expiry_days = $6, require_review = $7,
       public_discovery = $8, llm_review_url = $9, llm_review_model = $10, embedding_api_key_sealed = $11,
       llm_api_key_sealed = $12, updated_at = now()
WHERE tenant_id = $tenant
RETURNING semantic_search_enabled, embedding_provider, embedding_url, embedding_model, allow_skill_download,
       key_expiry_days, require_review, public_discovery, llm_review_url, llm_review_model, updated_at,
       tenant_id, embedding_api_key_sealed, llm_api_key_sealed;
