-- name: UserInsert
INSERT INTO users (tenant_id, email, name, role)
VALUES ($tenant, $1, $2, $3)
RETURNING id, email, name, role, active, created_at, last_login_at;

-- name: UserByID
SELECT id, email, name, role, active, created_at, last_login_at FROM users WHERE tenant_id = $tenant AND id = $1;

-- name: UserByEmail
SELECT id, email, name, role, active, created_at, last_login_at FROM users WHERE tenant_id = $tenant AND email = $1;

-- name: UserList
SELECT id, email, name, role, active, created_at, last_login_at FROM users
WHERE tenant_id = $tenant AND ($1::text = '' OR email > $1) ORDER BY email LIMIT $2;

-- name: UserUpdate
UPDATE users SET role = $2, active = $3, name = $4, updated_at = now() WHERE tenant_id = $tenant AND id = $1
RETURNING id, email, name, role, active, created_at, last_login_at;

-- name: UserCountActiveAdmins
-- Locks the tenant's admin rows so two concurrent demotions cannot both
-- pass the "another admin remains" check.
SELECT count(*) FROM (SELECT 1 FROM users WHERE tenant_id = $tenant AND role = 'admin' AND active FOR UPDATE) a;

-- name: UserTouchLogin
UPDATE users SET last_login_at = now() WHERE tenant_id = $tenant AND id = $1;
