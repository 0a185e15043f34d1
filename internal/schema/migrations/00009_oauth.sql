-- +goose Up
-- Skillvault as the OAuth 2.1 authorization server of its own MCP
-- resource (issue 15). Every table is a tenant table: clients, codes,
-- grants and tokens belong to the tenant whose person signed in. Codes and
-- tokens are stored only as the SHA-256 of their secret.

-- A client is either a Client ID Metadata Document (client_id is the
-- https URL of the document, cached here) or one registered with RFC 7591
-- dynamic registration on a tenant host.
CREATE TABLE oauth_clients (
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id            uuid NOT NULL DEFAULT gen_random_uuid(),
    client_id     text NOT NULL CHECK (length(client_id) BETWEEN 1 AND 2000),
    kind          text NOT NULL CHECK (kind IN ('metadata', 'registered')),
    name          text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    redirect_uris text[] NOT NULL CHECK (cardinality(redirect_uris) BETWEEN 1 AND 20),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, client_id)
);

-- A grant is what a person approved for a client: the family of every
-- access and refresh token issued from one authorization code.
CREATE TABLE oauth_grants (
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id            uuid NOT NULL DEFAULT gen_random_uuid(),
    client_id     uuid NOT NULL,
    user_id       uuid NOT NULL,
    scopes        text[] NOT NULL CHECK (scopes <@ ARRAY['read', 'write', 'admin'] AND cardinality(scopes) > 0),
    resource      text NOT NULL CHECK (length(resource) <= 2000),
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    revoke_reason text NOT NULL DEFAULT '' CHECK (length(revoke_reason) <= 100),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, client_id) REFERENCES oauth_clients (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX oauth_grants_user ON oauth_grants (tenant_id, user_id, created_at DESC);

CREATE TABLE oauth_codes (
    tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id             uuid NOT NULL DEFAULT gen_random_uuid(),
    code_hash      bytea NOT NULL CHECK (length(code_hash) = 32),
    client_id      uuid NOT NULL,
    user_id        uuid NOT NULL,
    redirect_uri   text NOT NULL CHECK (length(redirect_uri) <= 2000),
    code_challenge text NOT NULL CHECK (length(code_challenge) = 43),
    scopes         text[] NOT NULL CHECK (scopes <@ ARRAY['read', 'write', 'admin'] AND cardinality(scopes) > 0),
    resource       text NOT NULL CHECK (length(resource) <= 2000),
    expires_at     timestamptz NOT NULL,
    used_at        timestamptz,
    -- The grant the code was redeemed for: a second redemption revokes it.
    grant_id       uuid,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, code_hash),
    FOREIGN KEY (tenant_id, client_id) REFERENCES oauth_clients (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, grant_id) REFERENCES oauth_grants (tenant_id, id) ON DELETE SET NULL (grant_id)
);
-- Codes are found by hash before the tenant is known (resolver function).
CREATE INDEX oauth_codes_hash ON oauth_codes (code_hash);

CREATE TABLE oauth_tokens (
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         uuid NOT NULL DEFAULT gen_random_uuid(),
    grant_id   uuid NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('access', 'refresh')),
    token_hash bytea NOT NULL CHECK (length(token_hash) = 32),
    expires_at timestamptz NOT NULL,
    -- When a refresh token was exchanged for its successor; presenting it
    -- again is reuse, which revokes the whole grant.
    rotated_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, token_hash),
    FOREIGN KEY (tenant_id, grant_id) REFERENCES oauth_grants (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX oauth_tokens_hash ON oauth_tokens (token_hash);
CREATE INDEX oauth_tokens_grant ON oauth_tokens (tenant_id, grant_id);

-- Cross-tenant look-ups, as lookup_api_key: the minimum to choose a tenant
-- and decide, owned by the resolver role (set by the migrator).
-- +goose StatementBegin
CREATE FUNCTION lookup_oauth_token(p_hash bytea)
RETURNS TABLE (tenant_id uuid, token_id uuid, grant_id uuid, kind text, expires_at timestamptz,
               rotated_at timestamptz, revoked_at timestamptz, user_id uuid, scopes text[], resource text,
               user_role text, user_active boolean, tenant_active boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT k.tenant_id, k.id, k.grant_id, k.kind, k.expires_at, k.rotated_at, g.revoked_at, g.user_id, g.scopes, g.resource,
           u.role, u.active, t.active
    FROM public.oauth_tokens k
    JOIN public.oauth_grants g ON g.tenant_id = k.tenant_id AND g.id = k.grant_id
    JOIN public.users u ON u.tenant_id = g.tenant_id AND u.id = g.user_id
    JOIN public.tenants t ON t.id = k.tenant_id
    WHERE k.token_hash = p_hash
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION lookup_oauth_code(p_hash bytea)
RETURNS TABLE (tenant_id uuid)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT c.tenant_id FROM public.oauth_codes c WHERE c.code_hash = p_hash
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION lookup_oauth_code(bytea);
DROP FUNCTION lookup_oauth_token(bytea);
DROP TABLE oauth_tokens;
DROP TABLE oauth_codes;
DROP TABLE oauth_grants;
DROP TABLE oauth_clients;
