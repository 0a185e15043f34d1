-- +goose Up
-- What Citus needs of the schema, each still right on plain PostgreSQL.
--
-- Citus refuses ON DELETE SET NULL (and SET DEFAULT) on a foreign key that
-- includes the distribution column, and every foreign key between tenant
-- tables includes tenant_id. Users and OAuth grants are never deleted (they
-- are deactivated and revoked) except with their whole tenant, so those keys
-- lose nothing. A deleted skill's forks are unlinked by the statement that
-- deletes it (store.DeleteSkill), on plain PostgreSQL and on Citus alike.
ALTER TABLE skills DROP CONSTRAINT skills_tenant_id_fork_of_id_fkey,
    ADD CONSTRAINT skills_tenant_id_fork_of_id_fkey FOREIGN KEY (tenant_id, fork_of_id) REFERENCES skills (tenant_id, id);
ALTER TABLE usage_events DROP CONSTRAINT usage_events_tenant_id_user_id_fkey,
    ADD CONSTRAINT usage_events_tenant_id_user_id_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id);
ALTER TABLE skill_reviews DROP CONSTRAINT skill_reviews_tenant_id_decided_by_fkey,
    ADD CONSTRAINT skill_reviews_tenant_id_decided_by_fkey FOREIGN KEY (tenant_id, decided_by) REFERENCES users (tenant_id, id);
ALTER TABLE oauth_codes DROP CONSTRAINT oauth_codes_tenant_id_grant_id_fkey,
    ADD CONSTRAINT oauth_codes_tenant_id_grant_id_fkey FOREIGN KEY (tenant_id, grant_id) REFERENCES oauth_grants (tenant_id, id);

-- Citus cannot plan a statement of a LANGUAGE sql function that uses the
-- function's parameters against a distributed table; PL/pgSQL's are
-- planned as ordinary statements. Same results, same owner (the resolver).
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION tenants_with_due_embeddings(p_limit integer)
RETURNS TABLE (tenant_id uuid)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    RETURN QUERY
    SELECT DISTINCT e.tenant_id FROM public.skill_embeddings e
    WHERE e.state <> 'ready' AND e.next_attempt_at <= now()
    LIMIT p_limit;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION lookup_oauth_token(p_hash bytea)
RETURNS TABLE (tenant_id uuid, token_id uuid, grant_id uuid, kind text, expires_at timestamptz,
               rotated_at timestamptz, revoked_at timestamptz, user_id uuid, scopes text[], resource text,
               user_role text, user_active boolean, tenant_active boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    RETURN QUERY
    SELECT k.tenant_id, k.id, k.grant_id, k.kind, k.expires_at, k.rotated_at, g.revoked_at, g.user_id, g.scopes, g.resource,
           u.role, u.active, t.active
    FROM public.oauth_tokens k
    JOIN public.oauth_grants g ON g.tenant_id = k.tenant_id AND g.id = k.grant_id
    JOIN public.users u ON u.tenant_id = g.tenant_id AND u.id = g.user_id
    JOIN public.tenants t ON t.id = k.tenant_id
    WHERE k.token_hash = p_hash;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION lookup_oauth_code(p_hash bytea)
RETURNS TABLE (tenant_id uuid)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    RETURN QUERY SELECT c.tenant_id FROM public.oauth_codes c WHERE c.code_hash = p_hash;
END
$$;
-- +goose StatementEnd

-- +goose Down
ALTER TABLE skills DROP CONSTRAINT skills_tenant_id_fork_of_id_fkey,
    ADD CONSTRAINT skills_tenant_id_fork_of_id_fkey FOREIGN KEY (tenant_id, fork_of_id) REFERENCES skills (tenant_id, id) ON DELETE SET NULL (fork_of_id);
ALTER TABLE usage_events DROP CONSTRAINT usage_events_tenant_id_user_id_fkey,
    ADD CONSTRAINT usage_events_tenant_id_user_id_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE SET NULL (user_id);
ALTER TABLE skill_reviews DROP CONSTRAINT skill_reviews_tenant_id_decided_by_fkey,
    ADD CONSTRAINT skill_reviews_tenant_id_decided_by_fkey FOREIGN KEY (tenant_id, decided_by) REFERENCES users (tenant_id, id) ON DELETE SET NULL (decided_by);
ALTER TABLE oauth_codes DROP CONSTRAINT oauth_codes_tenant_id_grant_id_fkey,
    ADD CONSTRAINT oauth_codes_tenant_id_grant_id_fkey FOREIGN KEY (tenant_id, grant_id) REFERENCES oauth_grants (tenant_id, id) ON DELETE SET NULL (grant_id);
