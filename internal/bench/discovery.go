package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/skillvault/skillvault/internal/database"
)

// discovery measures GET /.well-known/agent-skills/index.json of the
// measured tenant (every skill published): warm, served from the
// per-tenant cached document after one stamp read, and cold, the first
// request after the tenant's discovery stamp moved (as after a
// publication), which rebuilds the index from one statement.
func (r *run) discovery(ctx context.Context) error {
	t := r.tenant
	s := r.main
	const path = "/.well-known/agent-skills/index.json"
	check := func(data []byte) error {
		var idx struct {
			Skills []json.RawMessage `json:"skills"`
		}
		if err := json.Unmarshal(data, &idx); err != nil {
			return err
		}
		if len(idx.Skills) != t.Shape.Skills {
			return fmt.Errorf("index lists %d skills, want %d", len(idx.Skills), t.Shape.Skills)
		}
		return nil
	}
	client := func(n int) *client {
		c := newClient(s.url, t.Key, n)
		c.vhost = t.Slug + "." + BaseDomain
		return c
	}
	for _, n := range []int{1, 8} {
		c := client(n)
		r.cfg.progress("discovery index, warm: %d client(s)", n)
		st := measure(ctx, ScenarioDiscovery, fmt.Sprintf("GET index.json, warm (%d skills)", t.Shape.Skills), n, r.cfg.Duration, 20,
			func(ctx context.Context, w, i int) error {
				data, err := c.do(ctx, "GET", path, nil, 200)
				if err == nil && i == 0 {
					err = check(data)
				}
				return err
			})
		r.rep.add(st)
		if st.Errors > 0 {
			return fmt.Errorf("bench: discovery index: %s", st.FirstErr)
		}
		if n == 1 {
			r.rep.value("discovery.warm_p95_ms", st.P95ms)
			r.rep.check(fmt.Sprintf("discovery index p95, warm, %d skills", t.Shape.Skills), st.P95ms, "<=", 20, "ms")
		}
	}

	// Cold: move the stamp (untimed), then time one request.
	c := client(1)
	scope := database.Scope{TenantID: t.ID, Role: "system"}
	var smp sample
	start := time.Now()
	for i := 0; ctx.Err() == nil && (i < 20 || time.Since(start) < r.cfg.Duration); i++ {
		if err := s.db.Write(ctx, scope, func(q database.Q) error {
			_, err := q.Exec(ctx, "UPDATE site_settings SET discovery_stamp = discovery_stamp + 1")
			return err
		}); err != nil {
			return err
		}
		t0 := time.Now()
		data, err := c.do(ctx, "GET", path, nil, 200)
		if err == nil {
			err = check(data)
		}
		if err != nil {
			smp.errs++
			if smp.err == nil {
				smp.err = err
			}
			continue
		}
		d := time.Since(t0)
		smp.lat = append(smp.lat, d)
		smp.elapsed += d
	}
	st := summarize(ScenarioDiscovery, fmt.Sprintf("GET index.json, cold (%d skills)", t.Shape.Skills), 1, smp)
	r.rep.add(st)
	if st.Errors > 0 {
		return fmt.Errorf("bench: discovery index, cold: %s", st.FirstErr)
	}
	r.rep.value("discovery.cold_p95_ms", st.P95ms)
	r.rep.check(fmt.Sprintf("discovery index p95, cold, %d skills", t.Shape.Skills), st.P95ms, "<=", 200, "ms")
	r.rep.note("discovery: the index is read with the measured tenant's admin key (its skills have tenant visibility); warm requests are answered from the server's per-tenant cache after one stamp read, cold ones after the stamp was bumped, as a publication bumps it. Cold per-second figures count request time only.")
	return nil
}
