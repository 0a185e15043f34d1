package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/store"
)

// pointRead is the statement of the scope-overhead scenario: a skill by
// name, as in internal/database's Go benchmark.
const pointRead = "SELECT id, name, description, status, rating_count FROM skills WHERE name = $1"

func scanPoint(row pgx.Row) error {
	var id uuid.UUID
	var name, desc, status string
	var ratings int
	return row.Scan(&id, &name, &desc, &status, &ratings)
}

// scope compares a point read through database.Read with the same SQL as
// a superuser without RLS (explicit tenant filter) and with the naive
// BEGIN / set_config / query / COMMIT pattern, on 1 and 8 connections.
func (r *run) scope(ctx context.Context) error {
	d := r.main.dbi
	t := r.tenant
	name := func(i int) string { return t.SkillName(i % t.Shape.Skills) }
	for _, conns := range []int{1, 8} {
		db, err := database.Open(ctx, d.AppURL, database.Options{MaxConns: int32(conns)})
		if err != nil {
			return err
		}
		admin, err := pgxpool.New(ctx, fmt.Sprintf("%s&pool_max_conns=%d", d.AdminURL, conns))
		if err != nil {
			db.Close()
			return err
		}
		app, err := pgxpool.New(ctx, fmt.Sprintf("%s&pool_max_conns=%d", d.AppURL, conns))
		if err != nil {
			db.Close()
			admin.Close()
			return err
		}
		variants := []variant{
			{"no RLS (superuser, tenant filter)", conns, 100, func(ctx context.Context, w, i int) error {
				return scanPoint(admin.QueryRow(ctx, pointRead+" AND tenant_id = $2", name(i+w*7919), t.ID))
			}},
			{"naive scope (4 round trips)", conns, 100, func(ctx context.Context, w, i int) error {
				tx, err := app.Begin(ctx)
				if err != nil {
					return err
				}
				defer tx.Rollback(ctx)
				if _, err := tx.Exec(ctx, "SELECT set_config('app.current_tenant_id', $1, true)", t.ID.String()); err != nil {
					return err
				}
				if err := scanPoint(tx.QueryRow(ctx, pointRead, name(i+w*7919))); err != nil {
					return err
				}
				return tx.Commit(ctx)
			}},
			{"database.Read scope", conns, 100, func(ctx context.Context, w, i int) error {
				return db.Read(ctx, database.Scope{TenantID: t.ID}, func(q database.Q) error {
					return scanPoint(q.QueryRow(ctx, pointRead, name(i+w*7919)))
				})
			}},
		}
		r.cfg.progress("scope overhead: %d connection(s)", conns)
		st := compare(ctx, ScenarioScope, r.cfg.Duration, variants)
		for _, x := range st {
			r.rep.add(x)
		}
		if base := st[0].PerSec; base > 0 {
			r.rep.value(fmt.Sprintf("scope.naive_vs_no_rls.conns_%d", conns), st[1].PerSec/base)
			r.rep.value(fmt.Sprintf("scope.scope_vs_no_rls.conns_%d", conns), st[2].PerSec/base)
			if conns == 1 {
				r.rep.check("scoped point read / no-RLS read, 1 connection", st[2].PerSec/base, ">=", 0.9, "x")
			}
		}
		db.Close()
		admin.Close()
		app.Close()
	}
	return nil
}

func searchPath(q, mode string) string {
	v := url.Values{"q": {q}, "limit": {"20"}}
	if mode != "" {
		v.Set("mode", mode)
	}
	return "/api/v1/search?" + v.Encode()
}

// api measures GET /api/v1/skills/{name} and GET /api/v1/search with an
// API key at each concurrency, next to the database statements they rest
// on, run in the same process at the same concurrency.
func (r *run) api(ctx context.Context) error {
	t := r.tenant
	s := r.main
	scope := database.Scope{TenantID: t.ID, UserID: t.Admin, Role: "admin"}
	for _, n := range r.cfg.Clients {
		c := newClient(s.url, t.Key, n)
		r.cfg.progress("API: %d client(s)", n)
		getName := func(w, i int) string { return t.SkillName((i*31 + w*7919) % t.Shape.Skills) }
		st := compare(ctx, ScenarioAPI, r.cfg.Duration, []variant{
			{"raw: skill by name (scoped SQL)", n, 50, func(ctx context.Context, w, i int) error {
				return s.db.Read(ctx, scope, func(q database.Q) error {
					_, err := store.SkillByName(ctx, q, getName(w, i))
					return err
				})
			}},
			{"GET /api/v1/skills/{name}", n, 50, func(ctx context.Context, w, i int) error {
				_, err := c.do(ctx, "GET", "/api/v1/skills/"+getName(w, i), nil, 200)
				return err
			}},
		})
		raw, get := st[0], st[1]
		st = compare(ctx, ScenarioAPI, r.cfg.Duration, []variant{
			{"raw: keyword search (scoped SQL)", n, 10, func(ctx context.Context, w, i int) error {
				return s.db.Read(ctx, scope, func(q database.Q) error {
					_, err := store.KeywordSearch(ctx, q, Queries[(i+w)%len(Queries)], store.SearchFilter{}, 200)
					return err
				})
			}},
			{"GET /api/v1/search (hybrid)", n, 10, func(ctx context.Context, w, i int) error {
				_, err := c.do(ctx, "GET", searchPath(Queries[(i+w)%len(Queries)], ""), nil, 200)
				return err
			}},
		})
		rawSearch, search := st[0], st[1]
		for _, st := range []Stat{raw, get, rawSearch, search} {
			r.rep.add(st)
		}
		if raw.PerSec > 0 {
			ratio := get.PerSec / raw.PerSec
			r.rep.value(fmt.Sprintf("api.get_vs_raw.clients_%d", n), ratio)
			if n == 8 {
				r.rep.check("API GET skill / raw scoped query, 8 clients", ratio, ">=", 0.6, "x")
			}
		}
		if rawSearch.PerSec > 0 {
			r.rep.value(fmt.Sprintf("api.search_vs_raw_keyword.clients_%d", n), search.PerSec/rawSearch.PerSec)
		}
	}
	r.rep.note("API raw baselines run the endpoint's main statement through database.Read in the server's process and pool; the API adds HTTP, authentication (the API-key look-up, a query unless the server's key cache answers) and JSON. The search baseline is the keyword statement only; hybrid search also ranks the tenant's vectors and reads the hits and snippets.")
	return nil
}

// ingest posts usage batches; each client reports on its own skills, as
// separate agents would.
func (r *run) ingest(ctx context.Context) error {
	t := r.tenant
	const perClient = 50
	for _, n := range []int{1, 4} {
		if n*perClient > t.Shape.Skills {
			r.rep.note("ingest with %d clients skipped: needs %d skills", n, n*perClient)
			continue
		}
		c := newClient(r.main.url, t.Key, n)
		bodies := make([][]byte, n)
		for w := range n {
			events := make([]map[string]any, r.cfg.IngestSize)
			for j := range events {
				events[j] = map[string]any{"skill": t.SkillName(w*perClient + j%perClient), "event": []string{"install", "download", "view", "invoke"}[j%4], "source": "hook"}
			}
			bodies[w], _ = json.Marshal(map[string]any{"events": events})
		}
		r.cfg.progress("ingest: %d client(s), batches of %d", n, r.cfg.IngestSize)
		st := measure(ctx, ScenarioIngest, fmt.Sprintf("POST /api/v1/usage (batches of %d)", r.cfg.IngestSize), n, r.cfg.Duration, 3, func(ctx context.Context, w, i int) error {
			data, err := c.do(ctx, "POST", "/api/v1/usage", bytes.NewReader(bodies[w]), 200)
			if err != nil {
				return err
			}
			var res struct {
				Accepted int `json:"accepted"`
			}
			if err := json.Unmarshal(data, &res); err != nil || res.Accepted != r.cfg.IngestSize {
				return fmt.Errorf("batch accepted %d of %d events: %s", res.Accepted, r.cfg.IngestSize, data)
			}
			return nil
		})
		st.PerSec *= float64(r.cfg.IngestSize)
		st.Unit = "events"
		r.rep.add(st)
		r.rep.value(fmt.Sprintf("ingest.events_per_sec.clients_%d", n), st.PerSec)
		if n == 4 {
			r.rep.check("ingest, events per second (4 clients)", st.PerSec, ">=", 20000, "events/s")
		}
	}
	return nil
}
