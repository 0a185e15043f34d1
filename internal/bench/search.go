package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/skillvault/skillvault/internal/embed"
	"github.com/skillvault/skillvault/internal/service"
)

// search is issue 5's benchmark: hybrid search latency for a tenant of
// SearchBig skills and one of SearchSmall skills among SearchTenants
// tenants holding SearchSkills skills in all, and the small tenant's
// latency with only that tenant present. It has a database of its own.
func (r *run) search(ctx context.Context) error {
	cfg := r.cfg
	if cfg.SearchTenants < 2 || cfg.SearchSkills < cfg.SearchBig+cfg.SearchSmall {
		return fmt.Errorf("bench: the search data set needs at least 2 tenants and %d skills", cfg.SearchBig+cfg.SearchSmall)
	}
	newStack := func(name string) (*stack, error) {
		d, err := r.cl.CreateDatabase(ctx, name)
		if err != nil {
			return nil, err
		}
		s, err := startStack(ctx, d)
		if err != nil {
			return nil, err
		}
		r.closers = append(r.closers, s.stop)
		return s, nil
	}
	// measured loads and embeds a measured tenant (same seed, same data in
	// both databases).
	measured := func(s *stack, slug string, seed uint64, skills int, report bool) (*Tenant, error) {
		l := s.loader()
		start := time.Now()
		t, err := l.tenant(ctx, slug, seed, true)
		if err == nil {
			err = l.fill(ctx, t, Shape{Skills: skills, Versions: 1})
		}
		if err != nil {
			return nil, err
		}
		loaded := time.Now()
		if err := s.svc.Reindex(ctx, service.System(t.ID), nil); err != nil {
			return nil, fmt.Errorf("bench: embed %s: %w", slug, err)
		}
		if report {
			r.rep.value("search.load_seconds."+slug, loaded.Sub(start).Seconds())
			r.rep.value("search.embed_seconds."+slug, time.Since(loaded).Seconds())
		}
		return t, nil
	}

	cfg.progress("search: the small tenant (%d skills) alone in a database", cfg.SearchSmall)
	aloneStack, err := newStack("bench_search_alone")
	if err != nil {
		return err
	}
	smallAlone, err := measured(aloneStack, "search-small", 2, cfg.SearchSmall, false)
	if err == nil {
		err = analyze(ctx, aloneStack.dbi.AdminURL)
	}
	if err != nil {
		return err
	}

	others := cfg.SearchTenants - 2
	rest := cfg.SearchSkills - cfg.SearchBig - cfg.SearchSmall
	cfg.progress("search: the large tenant (%d skills), the small one and %d other tenants (%d skills in all) in another", cfg.SearchBig, others, rest)
	s, err := newStack("bench_search")
	if err != nil {
		return err
	}
	small, err := measured(s, "search-small", 2, cfg.SearchSmall, false)
	if err != nil {
		return err
	}
	big, err := measured(s, "search-big", 3, cfg.SearchBig, true)
	if err != nil {
		return err
	}
	start := time.Now()
	if others > 0 {
		shape := func(i int) Shape {
			n := rest / others
			if i < rest%others {
				n++
			}
			return Shape{Skills: n, EmbedRows: !cfg.NoOtherVectors}
		}
		if err := loadTenants(ctx, s.loader(), "search-other", others, 5000, shape, cfg); err != nil {
			return err
		}
	} else if rest > 0 {
		r.rep.note("search: %d skills had no tenant to go to", rest)
	}
	r.rep.value("search.load_seconds.others", time.Since(start).Seconds())
	if err := analyze(ctx, s.dbi.AdminURL); err != nil {
		return err
	}

	label := fmt.Sprintf("%d tenants, %d skills", cfg.SearchTenants, cfg.SearchSkills)
	searchOp := func(st *stack, t *Tenant, mode string) op {
		c := newClient(st.url, t.Key, 1)
		return func(ctx context.Context, w, i int) error {
			_, err := c.do(ctx, "GET", searchPath(Queries[i%len(Queries)], mode), nil, 200)
			return err
		}
	}
	cfg.progress("search: the large tenant among %s", label)
	bigStats := compare(ctx, ScenarioSearch, cfg.Duration, []variant{
		{fmt.Sprintf("hybrid, %d-skill tenant (%s)", cfg.SearchBig, label), 1, 30, searchOp(s, big, "hybrid")},
		{fmt.Sprintf("keyword, %d-skill tenant (%s)", cfg.SearchBig, label), 1, 30, searchOp(s, big, "keyword")},
		{fmt.Sprintf("semantic, %d-skill tenant (%s)", cfg.SearchBig, label), 1, 30, searchOp(s, big, "semantic")},
	})
	cfg.progress("search: the small tenant alone and among %s, in turns", label)
	smallStats := compare(ctx, ScenarioSearch, cfg.Duration, []variant{
		{fmt.Sprintf("hybrid, %d-skill tenant (alone)", cfg.SearchSmall), 1, 30, searchOp(aloneStack, smallAlone, "hybrid")},
		{fmt.Sprintf("hybrid, %d-skill tenant (%s)", cfg.SearchSmall, label), 1, 30, searchOp(s, small, "hybrid")},
	})
	for _, st := range append(bigStats, smallStats...) {
		r.rep.add(st)
	}
	r.rep.value("search.vector_cache_bytes", float64(s.svc.CacheBytes()))
	r.rep.check(fmt.Sprintf("hybrid search p95, %d-skill tenant", cfg.SearchBig), bigStats[0].P95ms, "<=", 50, "ms")
	if smallStats[0].P50ms > 0 {
		ratio := smallStats[1].P50ms / smallStats[0].P50ms
		r.rep.value("search.small_tenant_p50_ratio", ratio)
		r.rep.check(fmt.Sprintf("hybrid search p50, %d-skill tenant: %s / alone", cfg.SearchSmall, label), ratio, "<=", 1.2, "x")
	}
	if cfg.NoOtherVectors {
		r.rep.note("search: only the two measured tenants' skills have vectors (builtin embedder, %d dimensions); the other tenants' skills have rows and keyword text only.", embed.BuiltinDimensions)
	} else {
		r.rep.note("search: only the two measured tenants' skills have vectors (builtin embedder, %d dimensions); the other tenants' skills have rows, keyword text and a ready skill_embeddings row without a vector, so the tables have the rows and statistics of a deployment where every tenant is embedded (--no-other-vectors leaves the rows out).", embed.BuiltinDimensions)
	}
	r.rep.note("search: the vector caches hold %.1f MiB after both measured tenants searched", float64(s.svc.CacheBytes())/(1<<20))
	return nil
}
