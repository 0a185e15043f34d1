-- name: OAuthClientUpsert
-- A Client ID Metadata Document is cached per tenant: refetched, it
-- replaces the stored name and redirect URIs. $5 is the time, from Go:
-- Citus refuses now() in ON CONFLICT DO UPDATE.
INSERT INTO oauth_clients (tenant_id, client_id, kind, name, redirect_uris)
VALUES ($tenant, $1, $2, $3, $4)
ON CONFLICT (tenant_id, client_id) DO UPDATE SET name = EXCLUDED.name, redirect_uris = EXCLUDED.redirect_uris, updated_at = $5
WHERE oauth_clients.kind = EXCLUDED.kind
RETURNING id, client_id, kind, name, redirect_uris, created_at, updated_at;

-- name: OAuthClientByClientID
SELECT id, client_id, kind, name, redirect_uris, created_at, updated_at
FROM oauth_clients WHERE tenant_id = $tenant AND client_id = $1;

-- name: OAuthClientByID
SELECT id, client_id, kind, name, redirect_uris, created_at, updated_at
FROM oauth_clients WHERE tenant_id = $tenant AND id = $1;

-- name: OAuthClientCount
SELECT count(*) FROM oauth_clients WHERE tenant_id = $tenant AND kind = 'registered';

-- name: OAuthCodeInsert
INSERT INTO oauth_codes (tenant_id, code_hash, client_id, user_id, redirect_uri, code_challenge, scopes, resource, expires_at)
VALUES ($tenant, $1, $2, $3, $4, $5, $6, $7, $8);

-- name: OAuthCodeForUpdate
SELECT id, client_id, user_id, redirect_uri, code_challenge, scopes, resource, expires_at, used_at, grant_id
FROM oauth_codes WHERE tenant_id = $tenant AND code_hash = $1 FOR UPDATE;

-- name: OAuthCodeRedeem
UPDATE oauth_codes SET used_at = now(), grant_id = $2 WHERE tenant_id = $tenant AND id = $1;

-- name: OAuthGrantInsert
INSERT INTO oauth_grants (tenant_id, client_id, user_id, scopes, resource)
VALUES ($tenant, $1, $2, $3, $4)
RETURNING id;

-- name: OAuthGrantRevoke
-- Revoking a grant ends every token of its family at once: the token
-- look-up reads the grant's revoked_at. $3 is the time of revocation, from
-- Go: Citus refuses now() inside coalesce in an UPDATE.
UPDATE oauth_grants SET revoked_at = coalesce(revoked_at, $3),
    revoke_reason = CASE WHEN revoked_at IS NULL THEN $2 ELSE revoke_reason END
WHERE tenant_id = $tenant AND id = $1 RETURNING revoked_at;

-- name: OAuthGrantTouch
UPDATE oauth_grants SET last_used_at = now() WHERE tenant_id = $tenant AND id = $1;

-- name: OAuthGrantList
-- $1: only this user's grants, or every grant when NULL. Newest first.
SELECT g.id, g.user_id, u.email, c.client_id, c.name, g.scopes, g.resource, g.created_at, g.last_used_at, g.revoked_at, g.revoke_reason
FROM oauth_grants g
JOIN oauth_clients c ON c.tenant_id = g.tenant_id AND c.id = g.client_id
JOIN users u ON u.tenant_id = g.tenant_id AND u.id = g.user_id
WHERE g.tenant_id = $tenant AND ($1::uuid IS NULL OR g.user_id = $1)
ORDER BY g.created_at DESC, g.id DESC LIMIT $2;

-- name: OAuthGrantByID
SELECT g.id, g.user_id, u.email, c.client_id, c.name, g.scopes, g.resource, g.created_at, g.last_used_at, g.revoked_at, g.revoke_reason
FROM oauth_grants g
JOIN oauth_clients c ON c.tenant_id = g.tenant_id AND c.id = g.client_id
JOIN users u ON u.tenant_id = g.tenant_id AND u.id = g.user_id
WHERE g.tenant_id = $tenant AND g.id = $1;

-- name: OAuthGrantClient
SELECT c.client_id FROM oauth_grants g
JOIN oauth_clients c ON c.tenant_id = g.tenant_id AND c.id = g.client_id
WHERE g.tenant_id = $tenant AND g.id = $1;

-- name: OAuthTokenInsert
INSERT INTO oauth_tokens (tenant_id, grant_id, kind, token_hash, expires_at)
VALUES ($tenant, $1, $2, $3, $4);

-- name: OAuthTokenRotate
-- Marks a refresh token as exchanged; no row when it was exchanged before
-- (or is not a refresh token), which is reuse.
UPDATE oauth_tokens SET rotated_at = now()
WHERE tenant_id = $tenant AND id = $1 AND kind = 'refresh' AND rotated_at IS NULL
RETURNING id;
