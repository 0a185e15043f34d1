-- name: DiscoveryStamp
-- Changes whenever the tenant's discovery index may change: the stamp is
-- bumped by a trigger on skills, and the settings decide who sees what.
SELECT discovery_stamp, public_discovery, allow_skill_download, updated_at FROM site_settings WHERE tenant_id = $tenant;

-- name: DiscoveryEntries
-- The published version of every published skill the principal may see,
-- with what the index lists for it, in one statement whatever the count.
SELECT s.name, s.visibility, coalesce(nullif(v.frontmatter->>'description', ''), s.description),
       v.id, v.number, v.file_count, f.sha256, v.archive_format, v.archive_digest
FROM skills s
JOIN skill_versions v ON v.tenant_id = s.tenant_id AND v.skill_id = s.id AND v.number = s.published_version
LEFT JOIN skill_version_files f ON f.tenant_id = v.tenant_id AND f.version_id = v.id AND f.path = 'SKILL.md'
WHERE s.tenant_id = $tenant AND s.status = 'published' AND skill_visible(s.author_id, s.visibility, s.status)
ORDER BY s.name COLLATE "C";

-- name: VersionArchive
SELECT archive_format, archive_digest FROM skill_versions WHERE tenant_id = $tenant AND id = $1;

-- name: VersionSetArchive
-- Fills in the archive digest of a version stored before it was computed
-- at publish (migration 00008); a stored digest is never changed.
UPDATE skill_versions SET archive_format = $2, archive_digest = $3 WHERE tenant_id = $tenant AND id = $1 AND archive_digest IS NULL;

-- name: DiscoveryFile
-- Everything a discovery file read decides on, in one statement: the two
-- settings (their column defaults when the tenant has no row), the skill
-- as skill_visible lets the principal see it, its published version and
-- the file. Missing parts come back NULL; the service applies the rules.
-- Each outer-joined table names the tenant itself, since the row it joins
-- to may be missing (NULL) rather than carry the tenant.
SELECT coalesce(st.public_discovery, false), coalesce(st.allow_skill_download, true),
       s.id, s.status, s.visibility, s.published_version,
       v.id, f.path, f.sha256, f.size, b.data
FROM (SELECT 1) AS one
LEFT JOIN site_settings st ON st.tenant_id = $tenant
LEFT JOIN skills s ON s.tenant_id = $tenant AND s.name = $1 AND skill_visible(s.author_id, s.visibility, s.status)
LEFT JOIN skill_versions v ON v.tenant_id = $tenant AND v.skill_id = s.id AND v.number = s.published_version
LEFT JOIN skill_version_files f ON f.tenant_id = $tenant AND f.version_id = v.id AND f.path = $2
LEFT JOIN blobs b ON b.tenant_id = $tenant AND b.sha256 = f.sha256;
