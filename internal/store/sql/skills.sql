-- name: SkillInsert
INSERT INTO skills (tenant_id, name, title, description, body, category, tags, visibility, author_id, fork_of_id, fork_of_digest)
VALUES ($tenant, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
RETURNING id;

-- name: SkillByName
-- Every read of a skill goes through skill_visible, so a private skill of
-- another member is indistinguishable from a missing one.
SELECT s.id, s.name, s.title, s.description, s.category, s.tags, s.status, s.visibility,
       s.author_id, u.email, s.latest_version, s.published_version, fs.name, s.fork_of_digest,
       s.rating_count, s.rating_sum, s.install_count, s.download_count, s.view_count, s.invoke_count,
       s.created_at, s.updated_at, s.published_at, s.pending_version
FROM skills s
JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.author_id
LEFT JOIN skills fs ON fs.tenant_id = s.tenant_id AND fs.id = s.fork_of_id
WHERE s.tenant_id = $tenant AND s.name = $1 AND skill_visible(s.author_id, s.visibility, s.status);

-- name: SkillLock
SELECT id FROM skills WHERE tenant_id = $tenant AND name = $1 AND skill_visible(author_id, visibility, status) FOR UPDATE;

-- name: SkillList
-- A page of visible skills. The placeholders are filled in skills.go with
-- fixed text: the order, one per sort, and the filters, only when some
-- filter is set. So each sort, with and without filters, is its own
-- statement with its own plan. The page is "OFFSET $1 LIMIT $2", or for
-- the unfiltered first page "LIMIT <n>" with n a number: a statement
-- without parameters is planned once per connection, where OFFSET and
-- LIMIT parameters made PostgreSQL plan every execution anew.
--
-- The page is cut from skills alone, and only its rows are joined to
-- their author and fork: a generic plan estimates "tenant_id = $tenant"
-- at the average tenant's few rows, and with the joins inside, the
-- cheapest plan for a few rows was to join every skill of the tenant to
-- its author and sort, which for a large tenant among many small ones
-- read all its skills on every page. Cut from skills alone, the default
-- page walks skills_tenant_updated and stops after the page for a tenant
-- of any size (TestLargeTenantListWalksUpdatedIndex). The outer tables
-- name $tenant themselves: Citus routes the statement to one shard only
-- when every table is compared with the tenant, and does not see it
-- through the sub-select.
SELECT s.id, s.name, s.title, s.description, s.category, s.tags, s.status, s.visibility,
       s.author_id, u.email, s.latest_version, s.published_version, fs.name, s.fork_of_digest,
       s.rating_count, s.rating_sum, s.install_count, s.download_count, s.view_count, s.invoke_count,
       s.created_at, s.updated_at, s.published_at, s.pending_version
FROM (
    SELECT s.id, s.tenant_id, s.name, s.title, s.description, s.category, s.tags, s.status, s.visibility,
           s.author_id, s.latest_version, s.published_version, s.fork_of_id, s.fork_of_digest,
           s.rating_count, s.rating_sum, s.install_count, s.download_count, s.view_count, s.invoke_count,
           s.created_at, s.updated_at, s.published_at, s.pending_version
    FROM skills s
    WHERE s.tenant_id = $tenant AND skill_visible(s.author_id, s.visibility, s.status) {filters}
    ORDER BY {order}
    {page}
) s
JOIN users u ON u.tenant_id = $tenant AND u.id = s.author_id
LEFT JOIN skills fs ON fs.tenant_id = $tenant AND fs.id = s.fork_of_id
ORDER BY {order};

-- name: SkillListFilters
  -- in_review also matches new versions of published skills waiting for review.
  AND ($3::text = '' OR s.status = $3 OR ($3 = 'in_review' AND s.pending_version IS NOT NULL))
  AND ($4::text = '' OR s.visibility = $4)
  AND ($5::text = '' OR s.category = $5)
  AND ($6::text = '' OR s.tags @> ARRAY[$6])
  AND ($7::text = '' OR s.author_id IN (SELECT a.id FROM users a WHERE a.tenant_id = $tenant AND a.email = $7))

-- name: SkillUpdateMeta
UPDATE skills SET title = $2, category = $3, tags = $4, visibility = $5, status = $6, updated_at = now()
WHERE tenant_id = $tenant AND id = $1;

-- name: SkillSetContent
-- A new version's frontmatter becomes the skill's searchable text.
UPDATE skills SET title = $2, description = $3, body = $4, latest_version = $5, updated_at = now()
WHERE tenant_id = $tenant AND id = $1;

-- name: SkillPublish
-- $3 is the time, from Go: Citus refuses now() inside CASE in an UPDATE.
UPDATE skills SET status = $2, published_version = CASE WHEN $2 = 'published' THEN latest_version ELSE published_version END,
       published_at = CASE WHEN $2 = 'published' THEN $3 ELSE published_at END, updated_at = $3
WHERE tenant_id = $tenant AND id = $1;

-- name: SkillUnlinkForks
-- Forks keep their content and lose the link when their source goes
-- (migration 00011: no ON DELETE SET NULL, which Citus refuses).
UPDATE skills SET fork_of_id = NULL WHERE tenant_id = $tenant AND fork_of_id = $1;

-- name: SkillDelete
DELETE FROM skills WHERE tenant_id = $tenant AND id = $1;

-- name: SkillRecountRatings
UPDATE skills SET rating_count = r.n, rating_sum = r.total
FROM (SELECT count(*) AS n, coalesce(sum(stars), 0) AS total FROM ratings WHERE tenant_id = $tenant AND skill_id = $1) r
WHERE tenant_id = $tenant AND id = $1
RETURNING rating_count, rating_sum;

-- name: SkillIDsByName
-- Resolves names to ids for a usage batch, locking the rows in id order
-- so concurrent batches cannot deadlock on the counters.
SELECT id, name, latest_version FROM skills
WHERE tenant_id = $tenant AND name = ANY($1) AND skill_visible(author_id, visibility, status)
ORDER BY id FOR UPDATE;

-- name: SkillAddCounts
UPDATE skills s SET install_count = s.install_count + c.installs, download_count = s.download_count + c.downloads,
       view_count = s.view_count + c.views, invoke_count = s.invoke_count + c.invokes
FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[]) AS c(id, installs, downloads, views, invokes)
WHERE s.tenant_id = $tenant AND s.id = c.id;

-- name: SkillSubmitForReview
-- A skill never published waits as in_review; a published one stays
-- published while its latest version waits.
UPDATE skills SET pending_version = latest_version,
       status = CASE WHEN published_version IS NULL THEN 'in_review' ELSE status END, updated_at = now()
WHERE tenant_id = $tenant AND id = $1;

-- name: SkillDecideReview
-- $3 is the time, from Go: Citus refuses now() inside CASE in an UPDATE.
UPDATE skills SET
    status = CASE WHEN $2 THEN 'published' WHEN published_version IS NULL THEN 'draft' ELSE status END,
    published_version = CASE WHEN $2 THEN pending_version ELSE published_version END,
    published_at = CASE WHEN $2 THEN $3 ELSE published_at END,
    pending_version = NULL, updated_at = $3
WHERE tenant_id = $tenant AND id = $1 AND pending_version IS NOT NULL;
