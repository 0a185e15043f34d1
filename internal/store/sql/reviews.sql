-- name: ReviewInsert
-- One review per version and reviewer: a version is never reviewed twice
-- by the same reviewer (its digest cannot change).
INSERT INTO skill_reviews (tenant_id, skill_id, version_id, digest, reviewer, quality, clarity, completeness, safety,
                           findings, suggestions, summary, blocking)
VALUES ($tenant, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (tenant_id, version_id, reviewer) DO NOTHING;

-- name: ReviewList
SELECT r.id, v.number, r.digest, r.reviewer, r.quality, r.clarity, r.completeness, r.safety,
       r.findings, r.suggestions, r.summary, r.blocking, r.decision, coalesce(u.email, ''), r.decision_note, r.created_at
FROM skill_reviews r
JOIN skill_versions v ON v.tenant_id = r.tenant_id AND v.id = r.version_id
LEFT JOIN users u ON u.tenant_id = r.tenant_id AND u.id = r.decided_by
WHERE r.tenant_id = $tenant AND r.skill_id = $1 AND ($3::int = 0 OR v.number < $3)
ORDER BY v.number DESC, r.created_at DESC
LIMIT $2;

-- name: ReviewBlocking
-- Whether any review of the version has a high-severity safety finding.
SELECT coalesce(bool_or(blocking), false) FROM skill_reviews WHERE tenant_id = $tenant AND version_id = $1;

-- name: ReviewRecordDecision
UPDATE skill_reviews SET decision = $2, decided_by = $3, decision_note = $4 WHERE tenant_id = $tenant AND version_id = $1;
