-- +goose Up
-- A new version of a published skill can wait for review while the
-- published version stays visible: the waiting version is pending_version.
ALTER TABLE skills ADD COLUMN pending_version integer CHECK (pending_version > 0);
CREATE INDEX skills_tenant_pending ON skills (tenant_id) WHERE pending_version IS NOT NULL;

-- +goose Down
ALTER TABLE skills DROP COLUMN pending_version;
