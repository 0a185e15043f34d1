-- name: LoginLinkInsert
INSERT INTO login_links (tenant_id, user_id, token_hash, expires_at)
VALUES ($tenant, $1, $2, $3)
RETURNING id;

-- name: LoginLinkByHash
-- Locks the link, so two concurrent redemptions cannot both succeed.
SELECT id, user_id, expires_at, used_at FROM login_links WHERE tenant_id = $tenant AND token_hash = $1 FOR UPDATE;

-- name: LoginLinkPeek
SELECT l.id, l.user_id, l.expires_at, l.used_at, u.email
FROM login_links l JOIN users u ON u.tenant_id = l.tenant_id AND u.id = l.user_id
WHERE l.tenant_id = $tenant AND l.token_hash = $1;

-- name: LoginLinkUse
UPDATE login_links SET used_at = now() WHERE tenant_id = $tenant AND id = $1 AND used_at IS NULL;

-- name: SessionInsert
INSERT INTO web_sessions (tenant_id, user_id, token_hash, csrf_token, expires_at)
VALUES ($tenant, $1, $2, $3, $4)
RETURNING id, created_at;

-- name: SessionByHash
-- The session with its user and tenant: row-level security lets the app
-- read its own tenant's row only.
SELECT s.id, s.user_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at,
       u.email, u.name, u.role, u.active, t.slug, t.name, t.active
FROM web_sessions s
JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id
JOIN tenants t ON t.id = s.tenant_id
WHERE s.tenant_id = $tenant AND s.token_hash = $1;

-- name: SessionTouch
UPDATE web_sessions SET last_seen_at = now() WHERE tenant_id = $tenant AND id = $1;

-- name: SessionDelete
DELETE FROM web_sessions WHERE tenant_id = $tenant AND id = $1;

-- name: SessionDeleteUser
DELETE FROM web_sessions WHERE tenant_id = $tenant AND user_id = $1;

-- name: SessionDeleteExpired
DELETE FROM web_sessions WHERE tenant_id = $tenant AND (expires_at < now() OR last_seen_at < $1);
