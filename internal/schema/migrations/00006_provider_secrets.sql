-- +goose Up
-- A tenant that uses its own embedding or LLM endpoint supplies its own
-- API key (the operator's keys go only to the operator's endpoints). The
-- key is stored sealed with AES-256-GCM under the server's
-- SKILLVAULT_SECRET_KEY, bound to the tenant and column; NULL means none.
ALTER TABLE site_settings
    ADD COLUMN embedding_api_key_sealed bytea,
    ADD COLUMN llm_api_key_sealed bytea;

-- +goose Down
ALTER TABLE site_settings
    DROP COLUMN embedding_api_key_sealed,
    DROP COLUMN llm_api_key_sealed;
