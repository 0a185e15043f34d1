-- name: VersionInsert
INSERT INTO skill_versions (tenant_id, skill_id, number, frontmatter, digest, file_count, total_size, author_id, changelog,
                            archive_format, archive_digest)
VALUES (current_setting('app.current_tenant_id')::uuid, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
RETURNING id, number, frontmatter, digest, file_count, total_size, author_id, changelog, created_at;

-- name: BlobsInsert
-- Content-addressed: a file already stored by this tenant is not stored again.
INSERT INTO blobs (tenant_id, sha256, size, data)
SELECT current_setting('app.current_tenant_id')::uuid, b.sha, b.size, b.data
FROM unnest($1::text[], $2::bigint[], $3::bytea[]) AS b(sha, size, data)
ON CONFLICT (tenant_id, sha256) DO NOTHING;

-- name: VersionFilesInsert
INSERT INTO skill_version_files (tenant_id, version_id, path, sha256, size)
SELECT current_setting('app.current_tenant_id')::uuid, $1, f.path, f.sha, f.size
FROM unnest($2::text[], $3::text[], $4::bigint[]) AS f(path, sha, size);

-- name: VersionList
SELECT id, number, frontmatter, digest, file_count, total_size, author_id, changelog, created_at
FROM skill_versions WHERE skill_id = $1 AND ($2::int = 0 OR number < $2)
ORDER BY number DESC LIMIT $3;

-- name: VersionByNumber
SELECT id, number, frontmatter, digest, file_count, total_size, author_id, changelog, created_at
FROM skill_versions WHERE skill_id = $1 AND number = $2;

-- name: VersionFiles
SELECT path, sha256, size FROM skill_version_files WHERE version_id = $1 ORDER BY path COLLATE "C";

-- name: VersionFile
SELECT f.path, f.sha256, f.size, b.data
FROM skill_version_files f JOIN blobs b ON b.sha256 = f.sha256
WHERE f.version_id = $1 AND f.path = $2;

-- name: VersionFileData
SELECT f.path, f.sha256, f.size, b.data
FROM skill_version_files f JOIN blobs b ON b.sha256 = f.sha256
WHERE f.version_id = $1 ORDER BY f.path COLLATE "C";
