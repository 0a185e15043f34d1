-- +goose Up
-- Citus refuses ON DELETE SET NULL (and SET DEFAULT) on a foreign key that
-- includes the distribution column, and every foreign key between tenant
-- tables includes tenant_id. Users and OAuth grants are never deleted (they
-- are deactivated and revoked) except with their whole tenant, so those keys
-- lose nothing. A deleted skill's forks are unlinked by the statement that
-- deletes it (store.DeleteSkill), on plain PostgreSQL and on Citus alike.
ALTER TABLE skills DROP CONSTRAINT skills_tenant_id_fork_of_id_fkey,
    ADD CONSTRAINT skills_tenant_id_fork_of_id_fkey FOREIGN KEY (tenant_id, fork_of_id) REFERENCES skills (tenant_id, id);
ALTER TABLE usage_events DROP CONSTRAINT usage_events_tenant_id_user_id_fkey,
    ADD CONSTRAINT usage_events_tenant_id_user_id_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id);
ALTER TABLE skill_reviews DROP CONSTRAINT skill_reviews_tenant_id_decided_by_fkey,
    ADD CONSTRAINT skill_reviews_tenant_id_decided_by_fkey FOREIGN KEY (tenant_id, decided_by) REFERENCES users (tenant_id, id);
ALTER TABLE oauth_codes DROP CONSTRAINT oauth_codes_tenant_id_grant_id_fkey,
    ADD CONSTRAINT oauth_codes_tenant_id_grant_id_fkey FOREIGN KEY (tenant_id, grant_id) REFERENCES oauth_grants (tenant_id, id);

-- +goose Down
ALTER TABLE skills DROP CONSTRAINT skills_tenant_id_fork_of_id_fkey,
    ADD CONSTRAINT skills_tenant_id_fork_of_id_fkey FOREIGN KEY (tenant_id, fork_of_id) REFERENCES skills (tenant_id, id) ON DELETE SET NULL (fork_of_id);
ALTER TABLE usage_events DROP CONSTRAINT usage_events_tenant_id_user_id_fkey,
    ADD CONSTRAINT usage_events_tenant_id_user_id_fkey FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE SET NULL (user_id);
ALTER TABLE skill_reviews DROP CONSTRAINT skill_reviews_tenant_id_decided_by_fkey,
    ADD CONSTRAINT skill_reviews_tenant_id_decided_by_fkey FOREIGN KEY (tenant_id, decided_by) REFERENCES users (tenant_id, id) ON DELETE SET NULL (decided_by);
ALTER TABLE oauth_codes DROP CONSTRAINT oauth_codes_tenant_id_grant_id_fkey,
    ADD CONSTRAINT oauth_codes_tenant_id_grant_id_fkey FOREIGN KEY (tenant_id, grant_id) REFERENCES oauth_grants (tenant_id, id) ON DELETE SET NULL (grant_id);
