package bench

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// consistencyChecks are invariants that hold after any sequence of
// committed transactions, whatever failed in between: a write is applied
// whole or not at all. Each query returns up to five offending rows as
// text; none means the invariant holds.
var consistencyChecks = []struct{ name, sql string }{
	{"every version has all its files", `
		SELECT format('%s/%s v%s: file_count %s, files %s, size %s vs %s', t.slug, s.name, v.number, v.file_count, count(f.path), v.total_size, coalesce(sum(f.size), 0))
		FROM skill_versions v JOIN skills s ON s.tenant_id = v.tenant_id AND s.id = v.skill_id JOIN tenants t ON t.id = v.tenant_id
		LEFT JOIN skill_version_files f ON f.tenant_id = v.tenant_id AND f.version_id = v.id
		GROUP BY t.slug, s.name, v.number, v.file_count, v.total_size
		HAVING count(f.path) <> v.file_count OR coalesce(sum(f.size), 0) <> v.total_size LIMIT 5`},
	{"every file's bytes are stored and match their digest", `
		SELECT format('%s: %s (%s)', f.tenant_id, f.path, f.sha256)
		FROM skill_version_files f LEFT JOIN blobs b ON b.tenant_id = f.tenant_id AND b.sha256 = f.sha256
		WHERE b.sha256 IS NULL OR b.size <> f.size OR b.size <> length(b.data) OR encode(sha256(b.data), 'hex') <> b.sha256 LIMIT 5`},
	{"versions are numbered 1..latest_version without gaps", `
		SELECT format('%s/%s: latest_version %s, versions %s, highest %s', t.slug, s.name, s.latest_version, count(v.id), max(v.number))
		FROM skills s JOIN tenants t ON t.id = s.tenant_id
		LEFT JOIN skill_versions v ON v.tenant_id = s.tenant_id AND v.skill_id = s.id
		GROUP BY t.slug, s.name, s.latest_version
		HAVING count(v.id) <> s.latest_version OR coalesce(max(v.number), 0) <> s.latest_version LIMIT 5`},
	{"a published skill points at one of its versions", `
		SELECT format('%s/%s: status %s, published_version %s, latest %s', t.slug, s.name, s.status, s.published_version, s.latest_version)
		FROM skills s JOIN tenants t ON t.id = s.tenant_id
		WHERE (s.status = 'published' AND s.published_version IS NULL) OR s.published_version > s.latest_version LIMIT 5`},
	{"usage counters equal the usage events", `
		SELECT format('%s/%s: counters %s/%s/%s/%s, events %s/%s/%s/%s', t.slug, s.name,
		              s.install_count, s.download_count, s.view_count, s.invoke_count, coalesce(e.i, 0), coalesce(e.d, 0), coalesce(e.v, 0), coalesce(e.k, 0))
		FROM skills s JOIN tenants t ON t.id = s.tenant_id
		LEFT JOIN (SELECT tenant_id, skill_id, count(*) FILTER (WHERE event = 'install') AS i, count(*) FILTER (WHERE event = 'download') AS d,
		                  count(*) FILTER (WHERE event = 'view') AS v, count(*) FILTER (WHERE event = 'invoke') AS k
		           FROM usage_events GROUP BY tenant_id, skill_id) e ON e.tenant_id = s.tenant_id AND e.skill_id = s.id
		WHERE (s.install_count, s.download_count, s.view_count, s.invoke_count) <>
		      (coalesce(e.i, 0), coalesce(e.d, 0), coalesce(e.v, 0), coalesce(e.k, 0)) LIMIT 5`},
	{"rating totals equal the ratings", `
		SELECT format('%s/%s: rating_count %s sum %s, ratings %s sum %s', t.slug, s.name, s.rating_count, s.rating_sum, coalesce(r.n, 0), coalesce(r.total, 0))
		FROM skills s JOIN tenants t ON t.id = s.tenant_id
		LEFT JOIN (SELECT tenant_id, skill_id, count(*) AS n, sum(stars) AS total FROM ratings GROUP BY tenant_id, skill_id) r
		       ON r.tenant_id = s.tenant_id AND r.skill_id = s.id
		WHERE (s.rating_count, s.rating_sum) <> (coalesce(r.n, 0), coalesce(r.total, 0)) LIMIT 5`},
}

// CheckConsistency connects with adminURL (a superuser, so RLS does not
// hide any tenant's rows) and returns every violated invariant of
// consistencyChecks with up to five examples each. The soak, fault and
// benchmark runs use it to prove that nothing was half-applied.
func CheckConsistency(ctx context.Context, adminURL string) ([]string, error) {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return nil, fmt.Errorf("bench: consistency: connect: %w", err)
	}
	defer conn.Close(ctx)
	var problems []string
	for _, c := range consistencyChecks {
		rows, err := conn.Query(ctx, c.sql)
		if err != nil {
			return nil, fmt.Errorf("bench: consistency check %q: %w", c.name, err)
		}
		bad, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return nil, fmt.Errorf("bench: consistency check %q: %w", c.name, err)
		}
		for _, b := range bad {
			problems = append(problems, c.name+": "+b)
		}
	}
	return problems, nil
}

// UsageEvents counts the usage events of every skill as a superuser, by
// tenant id and skill name, for comparison with what clients were told
// was accepted.
func UsageEvents(ctx context.Context, adminURL string) (map[string]int64, error) {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return nil, fmt.Errorf("bench: usage events: connect: %w", err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT s.tenant_id::text || '/' || s.name, count(e.id)
		FROM skills s LEFT JOIN usage_events e ON e.tenant_id = s.tenant_id AND e.skill_id = s.id GROUP BY 1`)
	if err != nil {
		return nil, fmt.Errorf("bench: usage events: %w", err)
	}
	out := map[string]int64{}
	var key string
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&key, &n}, func() error { out[key] = n; return nil })
	return out, err
}
