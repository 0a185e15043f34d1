-- name: TenantSelf
SELECT id, slug, name, coalesce(email_domain, ''), active FROM tenants WHERE id = $tenant;
