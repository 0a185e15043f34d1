-- name: TenantSelf
SELECT id, slug, name, coalesce(email_domain, ''), active FROM tenants WHERE id = current_setting('app.current_tenant_id')::uuid;
