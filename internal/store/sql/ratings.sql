-- name: RatingUpsert
-- $5 is the time, from Go: Citus refuses now() in ON CONFLICT DO UPDATE.
INSERT INTO ratings (tenant_id, skill_id, user_id, stars, comment)
VALUES ($tenant, $1, $2, $3, $4)
ON CONFLICT (tenant_id, skill_id, user_id) DO UPDATE SET stars = excluded.stars, comment = excluded.comment, updated_at = $5
RETURNING id, user_id, stars, comment, created_at, updated_at;

-- name: RatingList
SELECT r.id, r.user_id, r.stars, r.comment, r.created_at, r.updated_at, u.email
FROM ratings r JOIN users u ON u.tenant_id = r.tenant_id AND u.id = r.user_id
WHERE r.tenant_id = $tenant AND r.skill_id = $1 AND ($2::timestamptz IS NULL OR (r.updated_at, r.id) < ($2, $3::uuid))
ORDER BY r.updated_at DESC, r.id DESC LIMIT $4;
