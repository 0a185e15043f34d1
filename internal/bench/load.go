package bench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/embed"
	"github.com/skillvault/skillvault/internal/service"
)

// Shape is how much data one tenant holds.
type Shape struct {
	Skills   int // skills with tenant visibility, published (drafts when Versions is 0)
	Versions int // versions per skill, each with two files
	Ratings  int // ratings per skill, by that many users
	Usage    int // usage events per skill
	// EmbedRows gives every skill a skill_embeddings row (ready, without a
	// vector): the table then has the size in rows and the statistics of a
	// deployment where every tenant's skills are embedded, without
	// computing the vectors of tenants nobody measures.
	EmbedRows bool
}

// Tenant is a loaded tenant.
type Tenant struct {
	ID    uuid.UUID
	Slug  string
	Seed  uint64
	Shape Shape
	Admin uuid.UUID // the admin user, author of every skill
	Key   string    // the admin's API key (read, write, admin); "" unless asked for
	names []string
}

// SkillName is the name of skill i (0-based) of the tenant.
func (t *Tenant) SkillName(i int) string { return t.names[i] }

// loader writes data sets through the tenant scope: every row is written
// by the app role inside its tenant's scope with multi-row INSERTs (unnest
// of arrays, or INSERT ... SELECT), never COPY, which RLS refuses.
type loader struct {
	db    *database.DB
	svc   *service.Service
	mu    sync.Mutex // the owner is one connection
	owner *database.Owner
}

const chunk = 2000

// tenant creates a tenant with its admin and, when withKey, an API key.
func (l *loader) tenant(ctx context.Context, slug string, seed uint64, withKey bool) (*Tenant, error) {
	l.mu.Lock()
	tn, err := l.owner.CreateTenant(ctx, database.NewTenant{Slug: slug})
	l.mu.Unlock()
	if err != nil {
		return nil, err
	}
	sys := service.System(tn.ID)
	if err := l.svc.EnsureTenant(ctx, sys); err != nil {
		return nil, err
	}
	u, err := l.svc.CreateUser(ctx, sys, service.NewUser{Email: "admin@" + slug + ".bench", Role: "admin"})
	if err != nil {
		return nil, err
	}
	t := &Tenant{ID: tn.ID, Slug: slug, Seed: seed, Admin: u.ID}
	if withKey {
		never := 0
		k, err := l.svc.CreateKey(ctx, sys, u.ID, service.NewKey{Name: "bench", Scopes: []string{"read", "write", "admin"}, ExpiresInDays: &never})
		if err != nil {
			return nil, err
		}
		t.Key = k.Secret
	}
	return t, nil
}

// fill loads a tenant's skills, versions, ratings and usage.
func (l *loader) fill(ctx context.Context, t *Tenant, sh Shape) error {
	t.Shape = sh
	scope := database.Scope{TenantID: t.ID, Role: "system"}
	for start := 0; start < sh.Skills; start += chunk {
		end := min(start+chunk, sh.Skills)
		n := end - start
		names, titles, descs, bodies, cats, tags := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		for i := range n {
			s := genSkill(t.Seed, start+i)
			names[i], titles[i], descs[i], bodies[i], cats[i], tags[i] = s.name, s.title, s.description, s.body, s.category, s.tags
		}
		t.names = append(t.names, names...)
		err := l.db.Write(ctx, scope, func(q database.Q) error {
			_, err := q.Exec(ctx, `INSERT INTO skills (tenant_id, name, title, description, body, category, tags, status, visibility,
					author_id, latest_version, published_version, published_at)
				SELECT current_setting('app.current_tenant_id')::uuid, s.name, s.title, s.description, s.body, s.category,
				       string_to_array(s.tags, ','), CASE WHEN $8 > 0 THEN 'published' ELSE 'draft' END, 'tenant',
				       $7, $8, nullif($8, 0), CASE WHEN $8 > 0 THEN now() END
				FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS s(name, title, description, body, category, tags)`,
				names, titles, descs, bodies, cats, tags, t.Admin, sh.Versions)
			return err
		})
		if err != nil {
			return fmt.Errorf("bench: load skills of %s: %w", t.Slug, err)
		}
	}
	return l.db.Write(ctx, scope, func(q database.Q) error {
		if sh.Versions > 0 {
			if err := loadVersions(ctx, q, sh.Versions); err != nil {
				return fmt.Errorf("bench: load versions of %s: %w", t.Slug, err)
			}
		}
		if sh.Ratings > 0 {
			if err := loadRatings(ctx, q, t.Slug, sh.Ratings); err != nil {
				return fmt.Errorf("bench: load ratings of %s: %w", t.Slug, err)
			}
		}
		if sh.Usage > 0 {
			if err := loadUsage(ctx, q, sh.Usage); err != nil {
				return fmt.Errorf("bench: load usage of %s: %w", t.Slug, err)
			}
		}
		if sh.EmbedRows {
			if _, err := q.Exec(ctx, `INSERT INTO skill_embeddings (tenant_id, skill_id, model, state)
				SELECT tenant_id, id, $1, 'ready' FROM skills`, embed.BuiltinModel); err != nil {
				return fmt.Errorf("bench: load embedding rows of %s: %w", t.Slug, err)
			}
		}
		return nil
	})
}

// The two files every generated version holds. The tenant stores each
// once (blobs are content-addressed).
var (
	benchSkillMD = []byte("---\nname: generated\ndescription: A generated benchmark skill.\n---\n# Generated\n\nRun scripts/run.sh.\n")
	benchScript  = []byte("#!/bin/sh\necho benchmark\n")
)

func hexSHA(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func loadVersions(ctx context.Context, q database.Q, versions int) error {
	shas := []string{hexSHA(benchSkillMD), hexSHA(benchScript)}
	_, err := q.Exec(ctx, `INSERT INTO blobs (tenant_id, sha256, size, data)
		SELECT current_setting('app.current_tenant_id')::uuid, b.sha, length(b.data), b.data
		FROM unnest($1::text[], $2::bytea[]) AS b(sha, data) ON CONFLICT DO NOTHING`, shas, [][]byte{benchSkillMD, benchScript})
	if err != nil {
		return err
	}
	// Every version holds the same two files, so one archive digest is
	// right for all, as publishing would have stored it.
	format, archive, err := bundle.ArchiveDigest([]bundle.File{{Path: "SKILL.md", Data: benchSkillMD}, {Path: "scripts/run.sh", Data: benchScript}})
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, `INSERT INTO skill_versions (tenant_id, skill_id, number, frontmatter, digest, file_count, total_size, author_id, changelog,
		                            archive_format, archive_digest)
		SELECT s.tenant_id, s.id, g, jsonb_build_object('name', s.name, 'description', s.description),
		       'sha256:' || encode(sha256((s.id::text || '/' || g)::bytea), 'hex'), 2, $2::bigint, s.author_id, 'generated', $3, $4
		FROM skills s, generate_series(1, $1::int) g`, versions, int64(len(benchSkillMD)+len(benchScript)), format, archive)
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, `INSERT INTO skill_version_files (tenant_id, version_id, path, sha256, size)
		SELECT v.tenant_id, v.id, f.path, f.sha, f.size
		FROM skill_versions v, unnest($1::text[], $2::text[], $3::bigint[]) AS f(path, sha, size)`,
		[]string{"SKILL.md", "scripts/run.sh"}, shas, []int64{int64(len(benchSkillMD)), int64(len(benchScript))})
	return err
}

func loadRatings(ctx context.Context, q database.Q, slug string, n int) error {
	emails := make([]string, n)
	for i := range emails {
		emails[i] = fmt.Sprintf("rater%d@%s.bench", i, slug)
	}
	if _, err := q.Exec(ctx, `INSERT INTO users (tenant_id, email, role)
		SELECT current_setting('app.current_tenant_id')::uuid, e, 'member' FROM unnest($1::text[]) AS e`, emails); err != nil {
		return err
	}
	if _, err := q.Exec(ctx, `INSERT INTO ratings (tenant_id, skill_id, user_id, stars, comment)
		SELECT s.tenant_id, s.id, u.id, 1 + abs(hashtext(s.id::text || u.id::text)) % 5, 'generated'
		FROM skills s, users u WHERE u.email = ANY($1)`, emails); err != nil {
		return err
	}
	_, err := q.Exec(ctx, `UPDATE skills s SET rating_count = r.n, rating_sum = r.total
		FROM (SELECT skill_id, count(*) AS n, sum(stars) AS total FROM ratings GROUP BY skill_id) r
		WHERE s.id = r.skill_id`)
	return err
}

func loadUsage(ctx context.Context, q database.Q, n int) error {
	if _, err := q.Exec(ctx, `INSERT INTO usage_events (tenant_id, skill_id, version, event, source, created_at)
		SELECT s.tenant_id, s.id, nullif(s.latest_version, 0), (ARRAY['install', 'download', 'view', 'invoke'])[1 + g % 4], 'api',
		       now() - make_interval(hours => g)
		FROM skills s, generate_series(1, $1::int) g`, n); err != nil {
		return err
	}
	_, err := q.Exec(ctx, `UPDATE skills s SET install_count = c.i, download_count = c.d, view_count = c.v, invoke_count = c.k
		FROM (SELECT skill_id, count(*) FILTER (WHERE event = 'install') AS i, count(*) FILTER (WHERE event = 'download') AS d,
		             count(*) FILTER (WHERE event = 'view') AS v, count(*) FILTER (WHERE event = 'invoke') AS k
		      FROM usage_events GROUP BY skill_id) c
		WHERE s.id = c.skill_id`)
	return err
}
