-- +goose Up
-- Per-tenant quota overrides, set by the operator only (`skillvault tenant
-- quota`). They live on the global tenants row: the app role may read its
-- own tenant's row (policy app_read_own) and holds no UPDATE on tenants, so
-- a tenant admin can read its limits but never change them. NULL means the
-- server's configured default; 0 means unlimited.
ALTER TABLE tenants
    ADD COLUMN quota_bytes         bigint  CHECK (quota_bytes >= 0),
    ADD COLUMN quota_skills        integer CHECK (quota_skills >= 0),
    ADD COLUMN quota_versions      integer CHECK (quota_versions >= 0),
    ADD COLUMN quota_keys_per_user integer CHECK (quota_keys_per_user >= 0);

-- Every upload sums the tenant's stored bytes under the quota lock: an
-- index-only scan of this index answers it without reading the blobs.
CREATE INDEX blobs_tenant_size ON blobs (tenant_id) INCLUDE (size);

-- +goose Down
DROP INDEX blobs_tenant_size;
ALTER TABLE tenants
    DROP COLUMN quota_bytes,
    DROP COLUMN quota_skills,
    DROP COLUMN quota_versions,
    DROP COLUMN quota_keys_per_user;
