-- +goose Up
-- Background work (embeddings) is found per tenant; this look-up names the
-- tenants that have work due, and nothing else about them.
-- +goose StatementBegin
CREATE FUNCTION tenants_with_due_embeddings(p_limit integer)
RETURNS TABLE (tenant_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT DISTINCT e.tenant_id FROM public.skill_embeddings e
    WHERE e.state <> 'ready' AND e.next_attempt_at <= now()
    LIMIT p_limit
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION tenants_with_due_embeddings(integer);
