-- name: QuotaLock
-- Serialises a tenant's quota checks and blob collection for the rest of
-- the transaction: every upload, key creation and garbage collection of
-- the tenant takes it before it counts, so two concurrent uploads cannot
-- both pass a check that only one of them fits, and a collection cannot
-- remove a blob that a concurrent upload has just found stored. The tenant
-- comes from the scope, never from an argument.
SELECT pg_advisory_xact_lock(hashtextextended('skillvault.quota:' || current_setting('app.current_tenant_id'), 0));

-- name: QuotaOverrides
SELECT quota_bytes, quota_skills, quota_versions, quota_keys_per_user
FROM tenants WHERE id = $tenant;

-- name: QuotaBytesUsed
SELECT coalesce(sum(size), 0)::bigint FROM blobs WHERE tenant_id = $tenant;

-- name: QuotaNewBytes
-- The bytes an upload adds: the distinct files the tenant does not store yet.
SELECT coalesce(sum(n.size), 0)::bigint
FROM (SELECT DISTINCT sha, size FROM unnest($1::text[], $2::bigint[]) AS u(sha, size)) n
WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.tenant_id = $tenant AND b.sha256 = n.sha);

-- name: QuotaSkillCount
SELECT count(*) FROM skills WHERE tenant_id = $tenant;

-- name: QuotaVersionCount
SELECT count(*) FROM skill_versions WHERE tenant_id = $tenant AND skill_id = $1;

-- name: QuotaKeyCount
-- Keys that still work: revoked and expired keys do not count.
SELECT count(*) FROM api_keys
WHERE tenant_id = $tenant AND user_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now());

-- name: SkillBlobs
SELECT DISTINCT f.sha256 FROM skill_version_files f
JOIN skill_versions v ON v.tenant_id = f.tenant_id AND v.id = f.version_id
WHERE v.tenant_id = $tenant AND v.skill_id = $1;

-- name: BlobsCollectAmong
-- Removes the tenant's blobs among $1 that no version references. The
-- foreign key from skill_version_files would refuse a referenced one
-- anyway; the NOT EXISTS keeps the statement from failing on it.
DELETE FROM blobs b
WHERE b.tenant_id = $tenant AND b.sha256 = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM skill_version_files f WHERE f.tenant_id = b.tenant_id AND f.sha256 = b.sha256)
RETURNING b.size;

-- name: BlobsCollectAll
-- The same for every blob of the tenant (the sweep).
DELETE FROM blobs b
WHERE b.tenant_id = $tenant
  AND NOT EXISTS (SELECT 1 FROM skill_version_files f WHERE f.tenant_id = b.tenant_id AND f.sha256 = b.sha256)
RETURNING b.size;
