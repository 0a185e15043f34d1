-- name: SearchKeyword
-- Ranked full-text matches among the skills the actor may see.
-- Plain words match any of them (ranked by how many and where), so a
-- paraphrase still finds candidates; quotes, "or" and "-" keep web search
-- syntax. The query is built once (MATERIALIZED, used as a sub-select, so
-- an InitPlan): inlined, a generic plan of the prepared statement rebuilt
-- it for every row, 4-5 times slower (BENCHMARKS.md). No join: the author
-- filter is a sub-select too, or the planner walks the tenant's skills
-- through the author index. ts_rank, not ts_rank_cd: half the cost on
-- long bodies, and semantic ranking does the finer work in hybrid mode.
--
-- Two ways to find the matches, one chosen per execution by the tenant's
-- size (the planner cannot: a generic plan does not know the tenant):
-- a small tenant's rows are read and tested one by one (ts_match_vq is the
-- @@ operator's function, which no index serves), so its cost follows its
-- own few hundred rows; a larger tenant uses the (tenant_id, search) GIN
-- index, whose posting lists span every tenant's skills, so its cost
-- follows the number of matches. Counting stops at 2,000 rows. The branch
-- not taken is skipped by its one-time filter.
WITH q AS MATERIALIZED (
    SELECT CASE WHEN $1 ~* '["]|(^|\s)-|\sor\s' THEN websearch_to_tsquery('english', $1)
                ELSE replace(plainto_tsquery('english', $1)::text, ' & ', ' | ')::tsquery END AS query),
small AS MATERIALIZED (
    SELECT count(*) < 2000 AS yes FROM (SELECT 1 FROM skills WHERE tenant_id = $tenant LIMIT 2000) x),
matches AS (
    SELECT id, name, search, author_id, visibility, status, category, tags FROM skills
    WHERE tenant_id = $tenant AND (SELECT yes FROM small) AND ts_match_vq(search, (SELECT query FROM q))
    UNION ALL
    SELECT id, name, search, author_id, visibility, status, category, tags FROM skills
    WHERE tenant_id = $tenant AND NOT (SELECT yes FROM small) AND search @@ (SELECT query FROM q))
SELECT s.id, ts_rank(s.search, (SELECT query FROM q), 32) AS rank
FROM matches s
WHERE skill_visible(s.author_id, s.visibility, s.status)
  AND ($2::text = '' OR s.category = $2)
  AND ($3::text = '' OR s.tags @> ARRAY[$3])
  AND ($4::text = '' OR s.status = $4)
  AND ($5::text = '' OR s.author_id = (SELECT id FROM users WHERE tenant_id = $tenant AND email = $5))
ORDER BY rank DESC, s.name
LIMIT $6;

-- name: SearchHits
-- The visible skills among candidate ids, with the digest of the version
-- a reader gets. The candidates passed the filters already (SearchKeyword,
-- SearchAllowed); visibility is checked again so that no hidden row is
-- ever read into a result. Fetched by id only: the author's email and
-- the fork's name are sub-selects, not joins, because with many tenants a
-- generic plan otherwise starts from the tenant's users and walks all of
-- their skills through the author index (1.1 ms alone, 2.4 ms among 1,000
-- tenants for 40 ids of a 1,000-skill tenant; BENCHMARKS.md). Each
-- sub-select names the tenant itself: Citus routes a statement with
-- correlated sub-selects to one shard only when every table does.
SELECT s.id, s.name, s.title, s.description, s.category, s.tags, s.status, s.visibility,
       s.author_id, (SELECT u.email FROM users u WHERE u.tenant_id = $tenant AND u.id = s.author_id),
       s.latest_version, s.published_version,
       (SELECT f.name FROM skills f WHERE f.tenant_id = $tenant AND f.id = s.fork_of_id), s.fork_of_digest,
       s.rating_count, s.rating_sum, s.install_count, s.download_count, s.view_count, s.invoke_count,
       s.created_at, s.updated_at, s.published_at, s.pending_version,
       coalesce((SELECT v.digest FROM skill_versions v
                 WHERE v.tenant_id = $tenant AND v.skill_id = s.id
                   AND v.number = coalesce(s.published_version, s.latest_version)), '')
FROM skills s
WHERE s.tenant_id = $tenant AND s.id = ANY($1)
  AND skill_visible(s.author_id, s.visibility, s.status);

-- name: SearchAllowed
-- Which candidate ids are skills the actor may see and the filters allow.
-- Vectors are cached for the whole tenant, so semantic search ranks only
-- these: a hidden skill must not take a rank (issue 11, finding 6).
-- Ids only: SearchHits reads the rows of the page.
SELECT s.id
FROM skills s
WHERE s.tenant_id = $tenant AND s.id = ANY($1)
  AND skill_visible(s.author_id, s.visibility, s.status)
  AND ($2::text = '' OR s.category = $2)
  AND ($3::text = '' OR s.tags @> ARRAY[$3])
  AND ($4::text = '' OR s.status = $4)
  AND ($5::text = '' OR s.author_id = (SELECT id FROM users WHERE tenant_id = $tenant AND email = $5));

-- name: SearchSnippets
-- Highlighted snippets for the skills of the page returned (ts_headline is
-- the costly part of reading hits, so it runs for those only).
SELECT s.id, ts_headline('english', s.description || ' ' || left(s.body, 4000),
                         replace(plainto_tsquery('english', $2)::text, ' & ', ' | ')::tsquery,
                         'MaxFragments=2, MaxWords=18, MinWords=6, StartSel=<mark>, StopSel=</mark>')
FROM skills s
WHERE s.tenant_id = $tenant AND s.id = ANY($1) AND skill_visible(s.author_id, s.visibility, s.status);

-- name: EmbeddingEnqueue
-- Marks a skill for (re-)embedding when its text or the model changed,
-- or always when $4 (a reindex). $5 is the time, from Go: Citus refuses
-- now() in ON CONFLICT DO UPDATE.
INSERT INTO skill_embeddings (tenant_id, skill_id, model, input_hash, state)
VALUES ($tenant, $1, $2, $3, 'pending')
ON CONFLICT (tenant_id, skill_id) DO UPDATE
SET model = excluded.model, input_hash = excluded.input_hash, state = 'pending', attempts = 0,
    last_error = '', next_attempt_at = $5, updated_at = $5
WHERE $4 OR skill_embeddings.input_hash <> excluded.input_hash OR skill_embeddings.model <> excluded.model;

-- name: EmbeddingDue
-- The states not ready, named, so skill_embeddings_due serves the look-up
-- instead of every embedding of the tenant being read.
SELECT e.skill_id, s.name, s.title, s.description, s.body, e.input_hash, e.attempts
FROM skill_embeddings e JOIN skills s ON s.tenant_id = e.tenant_id AND s.id = e.skill_id
WHERE e.tenant_id = $tenant AND e.state IN ('pending', 'failed') AND e.next_attempt_at <= now()
ORDER BY e.next_attempt_at LIMIT $1;

-- name: EmbeddingStore
UPDATE skill_embeddings SET state = 'ready', model = $2, dimensions = $3, vector = $4, last_error = '', updated_at = now()
WHERE tenant_id = $tenant AND skill_id = $1 AND input_hash = $5;

-- name: EmbeddingFail
-- $4 is the time as Unix seconds, from Go: Citus refuses a stable function
-- (now(), or timestamptz + interval) applied to a column in an UPDATE, and
-- to_timestamp of a number is immutable.
UPDATE skill_embeddings SET state = 'failed', attempts = attempts + 1, last_error = left($2, 1000),
       next_attempt_at = to_timestamp($4::float8 + least(3600, power(2, attempts + 1))), updated_at = to_timestamp($4::float8)
WHERE tenant_id = $tenant AND skill_id = $1 AND input_hash = $3;

-- name: EmbeddingStamp
-- Moves whenever a ready vector is added or replaced, so every server
-- process can tell that its cached vectors are stale; one index probe
-- (skill_embeddings_ready). A removed vector does not move it: its skill
-- is gone, so searches drop it anyway, and caches reload every 30 s.
SELECT coalesce(max(updated_at), 'epoch'::timestamptz) FROM skill_embeddings WHERE tenant_id = $tenant AND state = 'ready';

-- name: EmbeddingVectors
SELECT skill_id, vector FROM skill_embeddings
WHERE tenant_id = $tenant AND state = 'ready' AND model = $1 AND vector IS NOT NULL;

-- name: EmbeddingState
SELECT state, model, attempts, last_error, updated_at FROM skill_embeddings WHERE tenant_id = $tenant AND skill_id = $1;

-- name: EmbeddingAllSkills
SELECT id, name, title, description, body FROM skills WHERE tenant_id = $tenant ORDER BY id;

-- name: SkillBody
-- The body of a skill the caller has already found visible.
SELECT body FROM skills WHERE tenant_id = $tenant AND id = $1;

-- name: EmbeddingCounts
SELECT state, count(*) FROM skill_embeddings WHERE tenant_id = $tenant GROUP BY state;
