-- name: UsageInsert
-- RETURNING, which the caller ignores: without it Citus inserts the rows
-- with COPY, which row-level security refuses.
INSERT INTO usage_events (tenant_id, skill_id, version, user_id, event, source, metadata)
SELECT $tenant::uuid, e.skill_id, nullif(e.version, 0), $6, e.event, e.source, e.metadata
FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::jsonb[]) AS e(skill_id, version, event, source, metadata)
RETURNING id;

-- name: UsageStats
-- Uses (not views) in the range, and the people behind them.
SELECT count(*), count(DISTINCT user_id) FROM usage_events
WHERE tenant_id = $tenant AND skill_id = $1 AND created_at >= $2 AND created_at < $3 AND event <> 'view';

-- name: UsageDaily
SELECT date_trunc('day', created_at AT TIME ZONE 'UTC')::date AS day, event, count(*)
FROM usage_events
WHERE tenant_id = $tenant AND skill_id = $1 AND created_at >= $2 AND created_at < $3
GROUP BY 1, 2 ORDER BY 1, 2;

-- name: ActivityDaily
-- Tenant-wide usage per day and event, for the admin analytics page.
SELECT date_trunc('day', created_at AT TIME ZONE 'UTC')::date AS day, event, count(*)
FROM usage_events WHERE tenant_id = $tenant AND created_at >= $1 AND created_at < $2
GROUP BY 1, 2 ORDER BY 1, 2;

-- name: ActivityTopSkills
SELECT s.name, count(*) AS uses, count(DISTINCT e.user_id) AS users
FROM usage_events e JOIN skills s ON s.tenant_id = e.tenant_id AND s.id = e.skill_id
WHERE e.tenant_id = $tenant AND e.created_at >= $1 AND e.created_at < $2 AND e.event <> 'view'
GROUP BY s.name ORDER BY uses DESC, s.name LIMIT $3;

-- name: ActivityTopUsers
SELECT u.email, count(*) AS uses, max(e.created_at) AS last_use
FROM usage_events e JOIN users u ON u.tenant_id = e.tenant_id AND u.id = e.user_id
WHERE e.tenant_id = $tenant AND e.created_at >= $1 AND e.created_at < $2 AND e.event <> 'view'
GROUP BY u.email ORDER BY uses DESC, u.email LIMIT $3;

-- name: ActivityActiveUsers
SELECT count(DISTINCT user_id) FROM usage_events WHERE tenant_id = $tenant AND created_at >= $1 AND created_at < $2 AND event <> 'view';
