package bench

import (
	"context"
	"fmt"

	"github.com/skillvault/skillvault/internal/database"
)

// readClients are the concurrencies of the reads scenario.
var readClients = []int{1, 8, 32}

// reads measures the three reads agents and clients make most, in turns at
// 1, 8 and 32 keep-alive connections with random names: the API point read
// with a key, the anonymous discovery SKILL.md and the first list page.
// It makes the measured tenant's skills public and opens its discovery to
// anonymous callers first, so it runs after the scenarios that read them
// with tenant visibility.
func (r *run) reads(ctx context.Context) error {
	t, s := r.tenant, r.main
	err := s.db.Write(ctx, database.Scope{TenantID: t.ID, Role: "system"}, func(q database.Q) error {
		if _, err := q.Exec(ctx, "UPDATE skills SET visibility = 'public'"); err != nil {
			return err
		}
		_, err := q.Exec(ctx, "UPDATE site_settings SET public_discovery = true, allow_skill_download = true")
		return err
	})
	if err != nil {
		return fmt.Errorf("bench: open discovery: %w", err)
	}
	pick := func(w, i int) string { return t.SkillName(int(uint(i*7919+w*104729) % uint(t.Shape.Skills))) }
	for _, n := range readClients {
		keyed := newClient(s.url, t.Key, n)
		anon := newClient(s.url, "", n)
		anon.vhost = t.Slug + "." + BaseDomain
		r.cfg.progress("reads: %d client(s)", n)
		st := compare(ctx, ScenarioReads, r.cfg.Duration, []variant{
			{"GET /api/v1/skills/{name}", n, 50, func(ctx context.Context, w, i int) error {
				_, err := keyed.do(ctx, "GET", "/api/v1/skills/"+pick(w, i), nil, 200)
				return err
			}},
			{"GET /.well-known/agent-skills/{name}/SKILL.md (anonymous)", n, 50, func(ctx context.Context, w, i int) error {
				_, err := anon.do(ctx, "GET", "/.well-known/agent-skills/"+pick(w, i)+"/SKILL.md", nil, 200)
				return err
			}},
			{fmt.Sprintf("GET /api/v1/skills?limit=30 (%d skills)", t.Shape.Skills), n, 50, func(ctx context.Context, w, i int) error {
				_, err := keyed.do(ctx, "GET", "/api/v1/skills?limit=30", nil, 200)
				return err
			}},
		})
		for _, x := range st {
			r.rep.add(x)
			if x.Errors > 0 {
				return fmt.Errorf("bench: reads: %s: %s", x.Name, x.FirstErr)
			}
		}
		point, file, list := st[0].PerSec, st[1].PerSec, st[2].PerSec
		if point <= 0 {
			continue
		}
		r.rep.value(fmt.Sprintf("reads.skillmd_vs_point.clients_%d", n), file/point)
		r.rep.value(fmt.Sprintf("reads.list_vs_point.clients_%d", n), list/point)
		if n == 8 {
			r.rep.check("anonymous SKILL.md / API point read, 8 clients", file/point, ">=", 0.9, "x")
			r.rep.check(fmt.Sprintf("first list page / API point read, 8 clients, %d skills", t.Shape.Skills), list/point, ">=", 0.5, "x")
		}
	}
	r.rep.note("reads: the measured tenant's skills are made public and its discovery opened before this scenario; the point read and the list page use its admin key, SKILL.md no credential (the tenant chosen by host). Variants run in alternating slices.")
	return nil
}
