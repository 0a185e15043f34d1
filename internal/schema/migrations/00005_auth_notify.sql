-- +goose Up
-- Servers cache API key look-ups and drop an entry when told that its key,
-- user or tenant changed. The notifications come from triggers, so every
-- change is told: through the app, or made by hand in SQL.
-- +goose StatementBegin
CREATE FUNCTION notify_auth_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
    r record := COALESCE(NEW, OLD);
BEGIN
    PERFORM pg_notify('skillvault_auth', TG_ARGV[0] || ':' || r.id::text);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
-- Not on last_used_at: recording a key's use must not evict it.
CREATE TRIGGER api_keys_auth_change AFTER UPDATE OF revoked_at, expires_at, scopes, user_id, key_hash OR DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION notify_auth_change('key');
CREATE TRIGGER users_auth_change AFTER UPDATE OF role, active OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION notify_auth_change('user');
CREATE TRIGGER tenants_auth_change AFTER UPDATE OF active OR DELETE ON tenants
    FOR EACH ROW EXECUTE FUNCTION notify_auth_change('tenant');

-- +goose Down
DROP TRIGGER api_keys_auth_change ON api_keys;
DROP TRIGGER users_auth_change ON users;
DROP TRIGGER tenants_auth_change ON tenants;
DROP FUNCTION notify_auth_change();
