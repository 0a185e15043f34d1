-- +goose Up
-- The search cache checks a tenant's embedding stamp (count and last change
-- of ready vectors) on every semantic query: an index answers it without
-- reading the rows.
CREATE INDEX skill_embeddings_ready ON skill_embeddings (tenant_id, state, updated_at);

-- The API key look-up runs on every request. As a SQL function with a
-- fixed search_path it is never inlined and is planned on every call;
-- PL/pgSQL keeps its plan for the session.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION lookup_api_key(p_hash bytea)
RETURNS TABLE (tenant_id uuid, key_id uuid, user_id uuid, scopes text[],
               expires_at timestamptz, revoked_at timestamptz, user_role text, user_active boolean, tenant_active boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    RETURN QUERY
    SELECT k.tenant_id, k.id, k.user_id, k.scopes, k.expires_at, k.revoked_at, u.role, u.active, t.active
    FROM public.api_keys k
    JOIN public.users u ON u.tenant_id = k.tenant_id AND u.id = k.user_id
    JOIN public.tenants t ON t.id = k.tenant_id
    WHERE k.key_hash = p_hash;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP INDEX skill_embeddings_ready;
