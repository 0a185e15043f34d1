package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/skillvault/skillvault/internal/service"
)

// run is one local benchmark run: its cluster, the main data set and
// what is left to close.
type run struct {
	cfg     *Config
	rep     *Report
	cl      *Cluster
	main    *stack
	tenant  *Tenant // the measured tenant of the main data set
	closers []func()
}

func (r *run) close() {
	for i := len(r.closers) - 1; i >= 0; i-- {
		r.closers[i]()
	}
}

func (r *run) local(ctx context.Context) error {
	cfg := r.cfg
	needMain := cfg.wants(ScenarioTenants) || cfg.wants(ScenarioScope) || cfg.wants(ScenarioAPI) || cfg.wants(ScenarioIngest) ||
		cfg.wants(ScenarioDiscovery) || cfg.wants(ScenarioReads)
	if needMain || cfg.wants(ScenarioSearch) || cfg.wants(ScenarioGit) {
		cfg.progress("starting PostgreSQL (fast mode) for the run")
		cl, err := StartCluster(ctx, cfg.Home, cfg.Log)
		if err != nil {
			return err
		}
		r.cl = cl
		r.closers = append(r.closers, func() { cl.Close(context.Background()) })
		r.rep.Machine.PostgreSQL = pgVersion(ctx, cl.PG().SuperuserURL("postgres"))
	}
	if needMain {
		if err := r.loadMain(ctx); err != nil {
			return err
		}
		if cfg.wants(ScenarioScope) {
			if err := r.scope(ctx); err != nil {
				return err
			}
		}
		if cfg.wants(ScenarioAPI) {
			if err := r.api(ctx); err != nil {
				return err
			}
		}
		if cfg.wants(ScenarioIngest) {
			if err := r.ingest(ctx); err != nil {
				return err
			}
		}
		if cfg.wants(ScenarioDiscovery) {
			if err := r.discovery(ctx); err != nil {
				return err
			}
		}
		if cfg.wants(ScenarioReads) {
			if err := r.reads(ctx); err != nil {
				return err
			}
		}
		probs, err := CheckConsistency(ctx, r.main.dbi.AdminURL)
		if err != nil {
			return err
		}
		for _, p := range probs {
			r.rep.note("consistency problem in the main data set: %s", p)
		}
		r.rep.value("main.consistency_problems", float64(len(probs)))
	}
	if cfg.wants(ScenarioSearch) {
		if err := r.search(ctx); err != nil {
			return err
		}
	}
	if cfg.wants(ScenarioColdStart) {
		if err := r.coldStart(ctx); err != nil {
			return err
		}
	}
	if cfg.wants(ScenarioGit) {
		if err := r.git(ctx); err != nil {
			return err
		}
	}
	return nil
}

func pgVersion(ctx context.Context, url string) string {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return ""
	}
	defer conn.Close(ctx)
	var v string
	conn.QueryRow(ctx, "SHOW server_version").Scan(&v)
	return "PostgreSQL " + v
}

// loadMain creates the main data set: the measured tenant and the other
// tenants in one database. For the tenant-count scenario the measured
// tenant is also loaded, alone and identical, into a second database, and
// the two are measured in turns.
func (r *run) loadMain(ctx context.Context) error {
	cfg := r.cfg
	sh := Shape{Skills: cfg.Skills, Versions: cfg.Versions, Ratings: cfg.Ratings, Usage: cfg.Usage}
	cfg.progress("loading the measured tenant: %d skills, %d versions, %d ratings and %d usage events each", cfg.Skills, cfg.Versions, cfg.Ratings, cfg.Usage)
	s, t, err := r.measuredStack(ctx, "bench_main", sh, "load.main_tenant")
	if err != nil {
		return err
	}
	r.main, r.tenant = s, t
	if cfg.Tenants > 0 {
		cfg.progress("loading %d other tenants with %d skills each", cfg.Tenants, cfg.OtherSkills)
		start := time.Now()
		other := Shape{Skills: cfg.OtherSkills, Versions: 1, Ratings: 1, Usage: 2, EmbedRows: !cfg.NoOtherVectors}
		if err := loadTenants(ctx, s.loader(), "other", cfg.Tenants, 1000, func(int) Shape { return other }, cfg); err != nil {
			return err
		}
		r.rep.value("load.other_tenants_seconds", time.Since(start).Seconds())
		if err := analyze(ctx, s.dbi.AdminURL); err != nil {
			return err
		}
	}
	if !cfg.wants(ScenarioTenants) {
		return nil
	}
	alone, at, err := r.measuredStack(ctx, "bench_alone", sh, "")
	if err != nil {
		return err
	}
	label := fmt.Sprintf("%d tenants", cfg.Tenants+1)
	cfg.progress("tenant count: the measured tenant alone and among %s, in turns", label)
	ca, cc := newClient(alone.url, at.Key, 1), newClient(s.url, t.Key, 1)
	get := func(c *client, t *Tenant) op {
		return func(ctx context.Context, w, i int) error {
			_, err := c.do(ctx, "GET", "/api/v1/skills/"+t.SkillName(i%t.Shape.Skills), nil, 200)
			return err
		}
	}
	search := func(c *client) op {
		return func(ctx context.Context, w, i int) error {
			_, err := c.do(ctx, "GET", searchPath(Queries[i%len(Queries)], ""), nil, 200)
			return err
		}
	}
	for _, wl := range []struct {
		name      string
		minOps    int
		alone, in op
	}{
		{"GET skill", 50, get(ca, at), get(cc, t)},
		{"search", 20, search(ca), search(cc)},
	} {
		st := compare(ctx, ScenarioTenants, cfg.Duration, []variant{
			{wl.name + " (1 tenant)", 1, wl.minOps, wl.alone},
			{wl.name + " (" + label + ")", 1, wl.minOps, wl.in},
		})
		r.rep.add(st[0])
		r.rep.add(st[1])
		if st[0].P50ms > 0 {
			ratio := st[1].P50ms / st[0].P50ms
			r.rep.value("tenants.p50_ratio."+wl.name, ratio)
			r.rep.check(fmt.Sprintf("tenant count: %s p50, %s / 1 tenant", wl.name, label), ratio, "<=", 1.2, "x")
		}
	}
	return nil
}

// measuredStack creates a database with the measured tenant (seed 1) and
// a server over it. With a key prefix, the load and embedding times are
// reported.
func (r *run) measuredStack(ctx context.Context, dbname string, sh Shape, key string) (*stack, *Tenant, error) {
	d, err := r.cl.CreateDatabase(ctx, dbname)
	if err != nil {
		return nil, nil, err
	}
	s, err := startStack(ctx, d)
	if err != nil {
		return nil, nil, err
	}
	r.closers = append(r.closers, s.stop)
	l := s.loader()
	start := time.Now()
	t, err := l.tenant(ctx, "bench-main", 1, true)
	if err == nil {
		err = l.fill(ctx, t, sh)
	}
	if err != nil {
		return nil, nil, err
	}
	loaded := time.Now()
	if err := s.svc.Reindex(ctx, service.System(t.ID), nil); err != nil {
		return nil, nil, fmt.Errorf("bench: embed the measured tenant: %w", err)
	}
	if key != "" {
		r.rep.value(key+"_seconds", loaded.Sub(start).Seconds())
		r.rep.value(key+"_embed_seconds", time.Since(loaded).Seconds())
	}
	return s, t, analyze(ctx, d.AdminURL)
}

// loadTenants creates n tenants named prefix-i with the shapes given, two
// at a time (both cores of a small machine stay busy).
func loadTenants(ctx context.Context, l *loader, prefix string, n int, seed0 uint64, shape func(i int) Shape, cfg *Config) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				t, err := l.tenant(ctx, fmt.Sprintf("%s-%d", prefix, i), seed0+uint64(i), false)
				if err == nil {
					err = l.fill(ctx, t, shape(i))
				}
				if err != nil {
					errs <- err
					return
				}
				if (i+1)%100 == 0 {
					cfg.progress("  %d/%d tenants", i+1, n)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	return ctx.Err()
}
