-- +goose Up
-- The initial schema. Row-level security, policies and grants are NOT
-- written here: they are generated from the declaration in
-- internal/schema/tables.go and applied after every migration, so the
-- declaration and the database cannot drift apart.

CREATE EXTENSION IF NOT EXISTS btree_gin;

CREATE TABLE tenants (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug          text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email_domain  text UNIQUE CHECK (email_domain = lower(email_domain)),
    vanity_domain text UNIQUE CHECK (vanity_domain = lower(vanity_domain) AND position('.' IN vanity_domain) > 0),
    plan          text NOT NULL DEFAULT 'free',
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (id <> '00000000-0000-0000-0000-000000000000')
);

CREATE TABLE users (
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id            uuid NOT NULL DEFAULT gen_random_uuid(),
    email         text NOT NULL CHECK (email = lower(email) AND email LIKE '%_@_%'),
    name          text NOT NULL DEFAULT '',
    role          text NOT NULL DEFAULT 'member' CHECK (role IN ('admin', 'member')),
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, email)
);

CREATE TABLE skills (
    tenant_id         uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                uuid NOT NULL DEFAULT gen_random_uuid(),
    name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 64
                          AND name ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    title             text NOT NULL DEFAULT '',
    description       text NOT NULL CHECK (length(description) BETWEEN 1 AND 1024),
    body              text NOT NULL DEFAULT '',
    category          text NOT NULL DEFAULT '',
    tags              text[] NOT NULL DEFAULT '{}',
    status            text NOT NULL DEFAULT 'draft'
                          CHECK (status IN ('draft', 'in_review', 'published', 'archived')),
    visibility        text NOT NULL DEFAULT 'tenant'
                          CHECK (visibility IN ('private', 'tenant', 'public')),
    author_id         uuid NOT NULL,
    latest_version    integer NOT NULL DEFAULT 0 CHECK (latest_version >= 0),
    published_version integer CHECK (published_version > 0),
    fork_of_id        uuid,
    fork_of_digest    text,
    rating_count      integer NOT NULL DEFAULT 0 CHECK (rating_count >= 0),
    rating_sum        integer NOT NULL DEFAULT 0 CHECK (rating_sum >= 0),
    install_count     bigint NOT NULL DEFAULT 0,
    download_count    bigint NOT NULL DEFAULT 0,
    view_count        bigint NOT NULL DEFAULT 0,
    invoke_count      bigint NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    published_at      timestamptz,
    search            tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, replace(name, '-', ' ')), 'A') ||
        setweight(to_tsvector('english'::regconfig, title), 'A') ||
        setweight(to_tsvector('english'::regconfig, description), 'B') ||
        setweight(to_tsvector('english'::regconfig, category), 'B') ||
        setweight(array_to_tsvector(tags), 'B') ||
        setweight(to_tsvector('english'::regconfig, body), 'C')
    ) STORED,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name),
    FOREIGN KEY (tenant_id, author_id) REFERENCES users (tenant_id, id),
    FOREIGN KEY (tenant_id, fork_of_id) REFERENCES skills (tenant_id, id) ON DELETE SET NULL (fork_of_id)
);
CREATE INDEX skills_tenant_updated ON skills (tenant_id, updated_at DESC, id);
CREATE INDEX skills_tenant_author ON skills (tenant_id, author_id);
CREATE INDEX skills_tenant_status ON skills (tenant_id, status, visibility);
CREATE INDEX skills_tenant_category ON skills (tenant_id, category);
CREATE INDEX skills_tenant_fork ON skills (tenant_id, fork_of_id);
CREATE INDEX skills_search ON skills USING gin (tenant_id, search);
CREATE INDEX skills_tags ON skills USING gin (tenant_id, tags);

CREATE TABLE skill_versions (
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    skill_id    uuid NOT NULL,
    number      integer NOT NULL CHECK (number > 0),
    frontmatter jsonb NOT NULL,
    digest      text NOT NULL CHECK (digest ~ '^sha256:[0-9a-f]{64}$'),
    file_count  integer NOT NULL CHECK (file_count > 0),
    total_size  bigint NOT NULL CHECK (total_size >= 0),
    author_id   uuid NOT NULL,
    changelog   text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, skill_id, number),
    FOREIGN KEY (tenant_id, skill_id) REFERENCES skills (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, author_id) REFERENCES users (tenant_id, id)
);

-- File bytes, content-addressed per tenant: identical files are stored once.
CREATE TABLE blobs (
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    sha256     text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size       bigint NOT NULL CHECK (size >= 0),
    data       bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, sha256)
);

-- The file manifest of a version: which blob stands at which path.
CREATE TABLE skill_version_files (
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    version_id uuid NOT NULL,
    path       text NOT NULL CHECK (length(path) BETWEEN 1 AND 512),
    sha256     text NOT NULL,
    size       bigint NOT NULL CHECK (size >= 0),
    PRIMARY KEY (tenant_id, version_id, path),
    FOREIGN KEY (tenant_id, version_id) REFERENCES skill_versions (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, sha256) REFERENCES blobs (tenant_id, sha256)
);
CREATE INDEX skill_version_files_blob ON skill_version_files (tenant_id, sha256);

CREATE TABLE ratings (
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         uuid NOT NULL DEFAULT gen_random_uuid(),
    skill_id   uuid NOT NULL,
    user_id    uuid NOT NULL,
    stars      smallint NOT NULL CHECK (stars BETWEEN 1 AND 5),
    comment    text NOT NULL DEFAULT '' CHECK (length(comment) <= 4000),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, skill_id, user_id),
    FOREIGN KEY (tenant_id, skill_id) REFERENCES skills (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX ratings_tenant_user ON ratings (tenant_id, user_id);

CREATE TABLE usage_events (
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         bigint GENERATED ALWAYS AS IDENTITY,
    skill_id   uuid NOT NULL,
    version    integer CHECK (version > 0),
    user_id    uuid,
    event      text NOT NULL CHECK (event IN ('install', 'download', 'view', 'invoke')),
    source     text NOT NULL CHECK (source IN ('web', 'api', 'cli', 'mcp', 'hook')),
    metadata   jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, skill_id) REFERENCES skills (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE SET NULL (user_id)
);
CREATE INDEX usage_events_skill_time ON usage_events (tenant_id, skill_id, created_at);
CREATE INDEX usage_events_time ON usage_events (tenant_id, created_at);

CREATE TABLE skill_embeddings (
    tenant_id       uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    skill_id        uuid NOT NULL,
    model           text NOT NULL DEFAULT '',
    dimensions      integer NOT NULL DEFAULT 0 CHECK (dimensions >= 0),
    input_hash      text NOT NULL DEFAULT '',
    vector          real[],
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'ready', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text NOT NULL DEFAULT '',
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, skill_id),
    FOREIGN KEY (tenant_id, skill_id) REFERENCES skills (tenant_id, id) ON DELETE CASCADE,
    CHECK (vector IS NULL OR cardinality(vector) = dimensions)
);
CREATE INDEX skill_embeddings_due ON skill_embeddings (tenant_id, state, next_attempt_at);

CREATE TABLE skill_reviews (
    tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id             uuid NOT NULL DEFAULT gen_random_uuid(),
    skill_id       uuid NOT NULL,
    version_id     uuid NOT NULL,
    digest         text NOT NULL,
    reviewer       text NOT NULL,
    quality        smallint NOT NULL CHECK (quality BETWEEN 1 AND 10),
    clarity        smallint NOT NULL CHECK (clarity BETWEEN 1 AND 10),
    completeness   smallint NOT NULL CHECK (completeness BETWEEN 1 AND 10),
    safety         smallint NOT NULL CHECK (safety BETWEEN 1 AND 10),
    findings       jsonb NOT NULL DEFAULT '[]',
    suggestions    jsonb NOT NULL DEFAULT '[]',
    summary        text NOT NULL DEFAULT '',
    blocking       boolean NOT NULL DEFAULT false,
    decision       text NOT NULL DEFAULT '' CHECK (decision IN ('', 'approved', 'rejected', 'overridden')),
    decided_by     uuid,
    decision_note  text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, version_id, reviewer),
    FOREIGN KEY (tenant_id, skill_id) REFERENCES skills (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, version_id) REFERENCES skill_versions (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, decided_by) REFERENCES users (tenant_id, id) ON DELETE SET NULL (decided_by)
);
CREATE INDEX skill_reviews_skill ON skill_reviews (tenant_id, skill_id, created_at DESC);

CREATE TABLE api_keys (
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL,
    name         text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    prefix       text NOT NULL,
    key_hash     bytea NOT NULL CHECK (length(key_hash) = 32),
    scopes       text[] NOT NULL CHECK (scopes <@ ARRAY['read', 'write', 'admin'] AND cardinality(scopes) > 0),
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, key_hash),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
-- Keys are found by hash before the tenant is known (resolver function).
CREATE INDEX api_keys_hash ON api_keys (key_hash);
CREATE INDEX api_keys_user ON api_keys (tenant_id, user_id);

CREATE TABLE site_settings (
    tenant_id               uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    semantic_search_enabled boolean NOT NULL DEFAULT true,
    embedding_provider      text NOT NULL DEFAULT 'builtin' CHECK (embedding_provider IN ('builtin', 'ollama', 'openai')),
    embedding_url           text NOT NULL DEFAULT '',
    embedding_model         text NOT NULL DEFAULT '',
    allow_skill_download    boolean NOT NULL DEFAULT true,
    key_expiry_days         integer NOT NULL DEFAULT 90 CHECK (key_expiry_days BETWEEN 0 AND 3650),
    require_review          boolean NOT NULL DEFAULT false,
    public_discovery        boolean NOT NULL DEFAULT false,
    llm_review_url          text NOT NULL DEFAULT '',
    llm_review_model        text NOT NULL DEFAULT '',
    updated_at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id)
);

-- Append-only security trail. Events that happen before a tenant is known
-- are written with the zero UUID, which no tenant can have.
CREATE TABLE audit_logs (
    tenant_id     uuid NOT NULL,
    id            bigint GENERATED ALWAYS AS IDENTITY,
    occurred_at   timestamptz NOT NULL DEFAULT now(),
    actor_type    text NOT NULL CHECK (actor_type IN ('user', 'key', 'system', 'anonymous')),
    actor_user_id uuid,
    actor_key_id  uuid,
    action        text NOT NULL,
    outcome       text NOT NULL DEFAULT 'success' CHECK (outcome IN ('success', 'failure', 'denied')),
    resource_type text NOT NULL DEFAULT '',
    resource_id   text NOT NULL DEFAULT '',
    details       jsonb NOT NULL DEFAULT '{}',
    request_id    text NOT NULL DEFAULT '',
    remote_addr   text NOT NULL DEFAULT '',
    user_agent    text NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_logs_time ON audit_logs (tenant_id, occurred_at DESC, id DESC);
CREATE INDEX audit_logs_action ON audit_logs (tenant_id, action, occurred_at DESC);
CREATE INDEX audit_logs_actor ON audit_logs (tenant_id, actor_user_id, occurred_at DESC);

-- Audit rows can be changed only by the owner role while a migration runs
-- (it sets skillvault.migrating); everyone else is refused.
-- +goose StatementBegin
CREATE FUNCTION audit_logs_append_only() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    IF current_setting('skillvault.migrating', true) = 'on'
       AND pg_has_role(current_user, (SELECT tableowner FROM pg_tables
                                      WHERE schemaname = TG_TABLE_SCHEMA AND tablename = TG_TABLE_NAME), 'USAGE') THEN
        RETURN COALESCE(NEW, OLD);
    END IF;
    RAISE EXCEPTION 'audit_logs is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_logs_append_only
    BEFORE UPDATE OR DELETE ON audit_logs
    FOR EACH ROW EXECUTE FUNCTION audit_logs_append_only();
CREATE TRIGGER audit_logs_no_truncate
    BEFORE TRUNCATE ON audit_logs
    FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_append_only();

CREATE TABLE web_sessions (
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL,
    token_hash   bytea NOT NULL CHECK (length(token_hash) = 32),
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, token_hash),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX web_sessions_user ON web_sessions (tenant_id, user_id);

CREATE TABLE login_links (
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id         uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL,
    token_hash bytea NOT NULL CHECK (length(token_hash) = 32),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, token_hash),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

-- Whether the acting principal may see a skill. Row-level security has
-- already clamped the tenant; this is the finer rule inside it: admins and
-- the system see everything, members see their own skills and the
-- published or archived skills that are not private, and anonymous callers
-- only published public skills.
-- +goose StatementBegin
CREATE FUNCTION skill_visible(p_author uuid, p_visibility text, p_status text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT CASE coalesce(current_setting('app.user_role', true), '')
        WHEN 'admin' THEN true
        WHEN 'system' THEN true
        WHEN 'member' THEN p_author = nullif(current_setting('app.current_user_id', true), '')::uuid
                           OR (p_visibility <> 'private' AND p_status IN ('published', 'archived'))
        ELSE p_visibility = 'public' AND p_status = 'published'
    END
$$;
-- +goose StatementEnd

-- Cross-tenant look-ups, needed before the tenant is known. They run as
-- their owner (the resolver role, set by the migrator), so each has a fixed
-- search_path and returns the minimum.
-- +goose StatementBegin
CREATE FUNCTION lookup_api_key(p_hash bytea)
RETURNS TABLE (tenant_id uuid, key_id uuid, user_id uuid, scopes text[],
               expires_at timestamptz, revoked_at timestamptz, user_role text, user_active boolean, tenant_active boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT k.tenant_id, k.id, k.user_id, k.scopes, k.expires_at, k.revoked_at, u.role, u.active, t.active
    FROM public.api_keys k
    JOIN public.users u ON u.tenant_id = k.tenant_id AND u.id = k.user_id
    JOIN public.tenants t ON t.id = k.tenant_id
    WHERE k.key_hash = p_hash
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION lookup_tenant_by_host(p_host text)
RETURNS TABLE (tenant_id uuid, slug text, active boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT t.id, t.slug, t.active FROM public.tenants t
    -- A vanity domain always has a dot and a slug never does, so one
    -- argument cannot match both kinds.
    WHERE CASE WHEN position('.' IN p_host) > 0 THEN t.vanity_domain = lower(p_host)
               ELSE t.slug = lower(p_host) END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION lookup_tenant_by_email_domain(p_domain text)
RETURNS TABLE (tenant_id uuid, slug text, active boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT t.id, t.slug, t.active FROM public.tenants t
    WHERE t.email_domain = lower(p_domain)
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION write_global_audit(p_action text, p_outcome text, p_details jsonb,
                                   p_request_id text, p_remote_addr text, p_user_agent text)
RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    INSERT INTO public.audit_logs (tenant_id, actor_type, action, outcome, details, request_id, remote_addr, user_agent)
    VALUES ('00000000-0000-0000-0000-000000000000', 'anonymous', left(p_action, 100), p_outcome,
            coalesce(p_details, '{}'), left(p_request_id, 100), left(p_remote_addr, 100), left(p_user_agent, 300))
$$;
-- +goose StatementEnd

-- +goose Down
-- The initial schema is not reversible: dropping it would drop the audit trail.
SELECT 1;
