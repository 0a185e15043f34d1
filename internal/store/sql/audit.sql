-- name: AuditInsert
INSERT INTO audit_logs (tenant_id, actor_type, actor_user_id, actor_key_id, action, outcome,
                        resource_type, resource_id, details, request_id, remote_addr, user_agent)
VALUES ($tenant, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11);

-- name: AuditList
SELECT a.id, a.occurred_at, a.actor_type, a.actor_user_id, coalesce(u.email, ''), a.actor_key_id, a.action, a.outcome,
       a.resource_type, a.resource_id, a.details, a.request_id, a.remote_addr, a.user_agent
FROM audit_logs a LEFT JOIN users u ON u.tenant_id = a.tenant_id AND u.id = a.actor_user_id
WHERE a.tenant_id = $tenant AND ($1::bigint = 0 OR a.id < $1)
  AND ($2::text = '' OR u.email = $2 OR a.actor_user_id::text = $2)
  AND ($3::text = '' OR a.action = $3 OR a.action LIKE $3 || '.%')
  AND ($4::text = '' OR a.resource_type = $4)
  AND ($5::text = '' OR a.resource_id = $5)
  AND ($6::timestamptz IS NULL OR a.occurred_at >= $6)
  AND ($7::timestamptz IS NULL OR a.occurred_at < $7)
ORDER BY a.id DESC LIMIT $8;
