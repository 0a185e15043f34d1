-- name: KeyInsert
INSERT INTO api_keys (tenant_id, user_id, name, prefix, key_hash, scopes, expires_at)
VALUES ($tenant, $1, $2, $3, $4, $5, $6)
RETURNING id, user_id, name, prefix, scopes, expires_at, last_used_at, revoked_at, created_at;

-- name: KeyList
-- $1: only this user's keys, or every key when NULL.
SELECT id, user_id, name, prefix, scopes, expires_at, last_used_at, revoked_at, created_at
FROM api_keys
WHERE tenant_id = $tenant AND ($1::uuid IS NULL OR user_id = $1)
  AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3::uuid))
ORDER BY created_at DESC, id DESC LIMIT $4;

-- name: KeyByID
SELECT id, user_id, name, prefix, scopes, expires_at, last_used_at, revoked_at, created_at
FROM api_keys WHERE tenant_id = $tenant AND id = $1;

-- name: KeyRevoke
-- $2 is the time of revocation, from Go: Citus refuses now() inside
-- coalesce in an UPDATE.
UPDATE api_keys SET revoked_at = coalesce(revoked_at, $2) WHERE tenant_id = $tenant AND id = $1
RETURNING id, user_id, name, prefix, scopes, expires_at, last_used_at, revoked_at, created_at;

-- name: KeyTouch
UPDATE api_keys SET last_used_at = now() WHERE tenant_id = $tenant AND id = $1;
