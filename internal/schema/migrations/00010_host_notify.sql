-- +goose Up
-- Servers also cache tenant-by-host look-ups, so a tenant's slug or vanity
-- domain changing must evict it too, as its active flag already does.
DROP TRIGGER tenants_auth_change ON tenants;
CREATE TRIGGER tenants_auth_change AFTER UPDATE OF active, slug, vanity_domain OR DELETE ON tenants
    FOR EACH ROW EXECUTE FUNCTION notify_auth_change('tenant');

-- +goose Down
DROP TRIGGER tenants_auth_change ON tenants;
CREATE TRIGGER tenants_auth_change AFTER UPDATE OF active OR DELETE ON tenants
    FOR EACH ROW EXECUTE FUNCTION notify_auth_change('tenant');
