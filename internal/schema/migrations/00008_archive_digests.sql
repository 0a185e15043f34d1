-- +goose Up
-- The discovery index lists each archive skill with the SHA-256 of its
-- archive's bytes (Agent Skills Discovery RFC v0.2.0). The archive is a
-- function of the files, written reproducibly; its format and digest are
-- computed once, when the version is stored. Versions stored before this
-- migration have NULL here: SQL cannot write a tar.gz, so the server fills
-- them in (in Go, in the tenant's scope) the first time the index lists
-- such a version, and never again.
ALTER TABLE skill_versions
    ADD COLUMN archive_format text CHECK (archive_format IN ('tar.gz', 'zip')),
    ADD COLUMN archive_digest text CHECK (archive_digest ~ '^sha256:[0-9a-f]{64}$'),
    ADD CONSTRAINT skill_versions_archive_both CHECK ((archive_format IS NULL) = (archive_digest IS NULL));

-- Each server process caches a tenant's index; a stamp bumped by every
-- change that can alter the index tells every process, with one cheap read,
-- that its copy is stale. A trigger bumps it, so no write path can forget:
-- only the columns the index depends on fire it (not the usage counters).
ALTER TABLE site_settings ADD COLUMN discovery_stamp bigint NOT NULL DEFAULT 0;

-- +goose StatementBegin
CREATE FUNCTION bump_discovery_stamp() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
    r record := COALESCE(NEW, OLD);
BEGIN
    -- Runs as the caller, under row-level security: it can only touch the
    -- settings of the tenant whose skill changed.
    UPDATE public.site_settings SET discovery_stamp = discovery_stamp + 1
    WHERE tenant_id = r.tenant_id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER skills_discovery_change
    AFTER INSERT OR DELETE OR UPDATE OF name, description, status, visibility, published_version, author_id ON skills
    FOR EACH ROW EXECUTE FUNCTION bump_discovery_stamp();

-- +goose Down
DROP TRIGGER skills_discovery_change ON skills;
DROP FUNCTION bump_discovery_stamp();
ALTER TABLE site_settings DROP COLUMN discovery_stamp;
ALTER TABLE skill_versions DROP CONSTRAINT skill_versions_archive_both,
    DROP COLUMN archive_digest, DROP COLUMN archive_format;
