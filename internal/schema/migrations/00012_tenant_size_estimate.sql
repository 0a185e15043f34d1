-- +goose Up
-- A statement cached by a connection runs on a generic plan, which
-- PostgreSQL makes for "tenant_id = $1" with no tenant in mind: it
-- estimates the average tenant's rows, the table's rows divided by the
-- number of tenants. With many small tenants that is a handful of rows,
-- for which sorting all of a tenant's skills looks as cheap as walking an
-- index and stopping after a page; the one large tenant then sorts all its
-- skills on every page. Telling ANALYZE to count a tenant per 200 skills
-- makes every generic plan fit for a tenant of at least that size, which
-- costs a small tenant nothing (a walk that stops early reads its few
-- rows either way). TestLargeTenantListWalksUpdatedIndex checks it.
--
-- Citus refuses this on a table it has already distributed
-- (feature_not_supported), and there each worker plans for its own
-- shards; a new Citus database runs it before distributing its tables.
-- +goose StatementBegin
DO $$
BEGIN
    ALTER TABLE skills ALTER COLUMN tenant_id SET (n_distinct = -0.005);
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'skills is distributed by Citus: the tenant size estimate is left to each worker';
END
$$;
-- +goose StatementEnd
ANALYZE skills;

-- +goose Down
-- +goose StatementBegin
DO $$
BEGIN
    ALTER TABLE skills ALTER COLUMN tenant_id RESET (n_distinct);
EXCEPTION WHEN feature_not_supported THEN
    NULL; -- distributed by Citus: never set
END
$$;
-- +goose StatementEnd
ANALYZE skills;
