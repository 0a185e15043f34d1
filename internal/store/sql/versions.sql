-- name: VersionInsert
INSERT INTO skill_versions (tenant_id, skill_id, number, frontmatter, digest, file_count, total_size, author_id, changelog,
                            archive_format, archive_digest)
VALUES ($tenant, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
RETURNING id, number, frontmatter, digest, file_count, total_size, author_id, changelog, created_at;

-- name: BlobsInsert
-- Content-addressed: a file already stored by this tenant is not stored again.
INSERT INTO blobs (tenant_id, sha256, size, data)
SELECT $tenant::uuid, b.sha, b.size, b.data
FROM unnest($1::text[], $2::bigint[], $3::bytea[]) AS b(sha, size, data)
ON CONFLICT (tenant_id, sha256) DO NOTHING;

-- name: VersionFilesInsert
-- RETURNING, which the caller ignores: without it Citus inserts the rows
-- with COPY, which row-level security refuses.
INSERT INTO skill_version_files (tenant_id, version_id, path, sha256, size)
SELECT $tenant::uuid, $1, f.path, f.sha, f.size
FROM unnest($2::text[], $3::text[], $4::bigint[]) AS f(path, sha, size)
RETURNING path;

-- name: VersionList
SELECT id, number, frontmatter, digest, file_count, total_size, author_id, changelog, created_at
FROM skill_versions WHERE tenant_id = $tenant AND skill_id = $1 AND ($2::int = 0 OR number < $2)
ORDER BY number DESC LIMIT $3;

-- name: VersionByNumber
SELECT id, number, frontmatter, digest, file_count, total_size, author_id, changelog, created_at
FROM skill_versions WHERE tenant_id = $tenant AND skill_id = $1 AND number = $2;

-- name: VersionFiles
SELECT path, sha256, size FROM skill_version_files WHERE tenant_id = $tenant AND version_id = $1 ORDER BY path COLLATE "C";

-- name: VersionFile
SELECT f.path, f.sha256, f.size, b.data
FROM skill_version_files f JOIN blobs b ON b.tenant_id = f.tenant_id AND b.sha256 = f.sha256
WHERE f.tenant_id = $tenant AND f.version_id = $1 AND f.path = $2;

-- name: VersionFileData
SELECT f.path, f.sha256, f.size, b.data
FROM skill_version_files f JOIN blobs b ON b.tenant_id = f.tenant_id AND b.sha256 = f.sha256
WHERE f.tenant_id = $tenant AND f.version_id = $1 ORDER BY f.path COLLATE "C";

-- name: PublishedVersions
-- Every version up to the published one of each published skill the scope
-- may see (public ones only when $1), for the git repository of a view.
SELECT s.name, s.category, s.published_version, s.published_at,
       v.id, v.number, v.frontmatter, v.digest, v.created_at
FROM skills s
JOIN skill_versions v ON v.tenant_id = s.tenant_id AND v.skill_id = s.id AND v.number <= s.published_version
WHERE s.tenant_id = $tenant AND s.status = 'published' AND s.published_at IS NOT NULL
  AND skill_visible(s.author_id, s.visibility, s.status)
  AND (NOT $1::bool OR s.visibility = 'public')
ORDER BY s.name COLLATE "C", v.number;

-- name: PublishedVersionsFileData
-- The files of those of the versions $1 that PublishedVersions lists for
-- the same scope: an id from elsewhere reads nothing.
SELECT f.version_id, f.path, f.sha256, f.size, b.data
FROM skill_version_files f
JOIN blobs b ON b.tenant_id = f.tenant_id AND b.sha256 = f.sha256
JOIN skill_versions v ON v.tenant_id = f.tenant_id AND v.id = f.version_id
JOIN skills s ON s.tenant_id = f.tenant_id AND s.id = v.skill_id AND v.number <= s.published_version
WHERE f.tenant_id = $tenant AND f.version_id = ANY($1) AND s.status = 'published' AND s.published_at IS NOT NULL
  AND skill_visible(s.author_id, s.visibility, s.status)
  AND (NOT $2::bool OR s.visibility = 'public')
ORDER BY f.version_id, f.path COLLATE "C";
