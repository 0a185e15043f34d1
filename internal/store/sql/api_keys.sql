-- name: KeyInsert
INSERT INTO api_keys (tenant_id, user_id, name, prefix, key_hash, scopes, expires_at)
VALUES (current_setting('app.current_tenant_id')::uuid, $1, $2, $3, $4, $5, $6)
RETURNING id, user_id, name, prefix, scopes, expires_at, last_used_at, revoked_at, created_at;

-- name: KeyList
-- $1: only this user's keys, or every key when NULL.
SELECT id, user_id, name, prefix, scopes, expires_at, last_used_at, revoked_at, created_at
FROM api_keys
WHERE ($1::uuid IS NULL OR user_id = $1)
  AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3::uuid))
ORDER BY created_at DESC, id DESC LIMIT $4;

-- name: KeyByID
SELECT id, user_id, name, prefix, scopes, expires_at, last_used_at, revoked_at, created_at
FROM api_keys WHERE id = $1;

-- name: KeyRevoke
UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1
RETURNING id, user_id, name, prefix, scopes, expires_at, last_used_at, revoked_at, created_at;

-- name: KeyTouch
UPDATE api_keys SET last_used_at = now() WHERE id = $1;
