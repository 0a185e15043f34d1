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
ALTER TABLE skills ALTER COLUMN tenant_id SET (n_distinct = -0.005);
ANALYZE skills;

-- +goose Down
ALTER TABLE skills ALTER COLUMN tenant_id RESET (n_distinct);
ANALYZE skills;
