-- name: UsageInsert
INSERT INTO usage_events (tenant_id, skill_id, version, user_id, event, source, metadata)
SELECT current_setting('app.current_tenant_id')::uuid, e.skill_id, nullif(e.version, 0), $6, e.event, e.source, e.metadata
FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::jsonb[]) AS e(skill_id, version, event, source, metadata);

-- name: UsageStats
SELECT count(*), count(DISTINCT user_id) FROM usage_events
WHERE skill_id = $1 AND created_at >= $2 AND created_at < $3;

-- name: UsageDaily
SELECT date_trunc('day', created_at AT TIME ZONE 'UTC')::date AS day, event, count(*)
FROM usage_events
WHERE skill_id = $1 AND created_at >= $2 AND created_at < $3
GROUP BY 1, 2 ORDER BY 1, 2;
