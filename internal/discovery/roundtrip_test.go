package discovery_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/discovery"
	"github.com/skillvault/skillvault/internal/server"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/testserver"
)

// roundTrips records what a pool sends that waits for an answer: a
// statement sent alone, a batch (its statements pipelined, one round
// trip) or a prepare. The auth cache's heartbeat (pg_notify every two
// seconds, from a timer, not from a request) is left out.
type roundTrips struct {
	mu   sync.Mutex
	sent []string
}

func (c *roundTrips) add(what string) {
	if strings.Contains(what, "pg_notify") {
		return
	}
	c.mu.Lock()
	c.sent = append(c.sent, what)
	c.mu.Unlock()
}

// take returns what was sent since the last take.
func (c *roundTrips) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.sent
	c.sent = nil
	return out
}

func (c *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	c.add("statement: " + d.SQL)
	return ctx
}

func (c *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	var sqls []string
	for _, q := range d.Batch.QueuedQueries {
		sqls = append(sqls, q.SQL)
	}
	c.add("batch: " + strings.Join(sqls, " | "))
	return ctx
}

func (c *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

func (c *roundTrips) TracePrepareStart(ctx context.Context, _ *pgx.Conn, d pgx.TracePrepareStartData) context.Context {
	c.add("prepare: " + d.SQL)
	return ctx
}

func (c *roundTrips) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

// TestCommonReadsOneRoundTrip checks that each of the five reads agents
// and clients make most costs exactly one database round trip once the
// process's caches are warm (API key, tenant by host, discovery index): the
// anonymous discovery file, the anonymous SKILL.md, the discovery index,
// the API point read and the first list page. The server under test runs
// as serve runs it (with the auth listener) over a pool whose tracer
// records every statement, batch and prepare. Two connections, so each
// statement is prepared on the one connection requests use during the
// warm-up (a connection prepares a statement once, in a round trip of its
// own).
func TestCommonReadsOneRoundTrip(t *testing.T) {
	s := newServer(t)
	acme := s.Tenant("acme")
	publicDiscovery(t, s, acme.ID, true)
	create(t, s, adminOf(acme), "acme-public", "public", true, "references/guide.md")
	create(t, s, adminOf(acme), "acme-other", "public", true)

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	trace := &roundTrips{}
	db, err := database.Open(ctx, s.Env.AppURL, database.Options{MaxConns: 2, Tracer: trace})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	svc := service.New(db, service.Options{})
	srv := server.New(svc, server.Config{BaseDomain: "skills.test", RateLimit: 10000})
	discovery.Register(srv.Mux, svc, discovery.Options{
		Auth:       func(r *http.Request) (service.Actor, error) { return srv.API.Authenticate(r, "api") },
		HostTenant: srv.HostTenant,
		Allow:      srv.API.Allow,
	})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	go svc.RunAuthListener(ctx)
	for deadline := time.Now().Add(20 * time.Second); !svc.AuthCacheActive(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the auth listener never heard its own heartbeat")
		}
	}
	under := &testserver.Server{T: t, URL: ts.URL, Client: http.DefaultClient}
	key := acme.Admin.Key
	for _, read := range []struct {
		name, host, path, key string
	}{
		{"anonymous discovery file", acmeHost, agentSkills + "acme-public/references/guide.md", ""},
		{"anonymous SKILL.md", acmeHost, agentSkills + "acme-public/SKILL.md", ""},
		{"discovery index", acmeHost, indexPath, ""},
		{"API point read", "", "/api/v1/skills/acme-public", key},
		{"API list, first page", "", "/api/v1/skills?limit=30", key},
	} {
		// The warm-up fills the caches, prepares the statements on the
		// connection and records the key's use (once a minute).
		for range 3 {
			if r := do(t, under, "GET", read.host, read.path, read.key); r.status != http.StatusOK {
				t.Fatalf("%s: GET %s: %d %s", read.name, read.path, r.status, r.body)
			}
		}
		trace.take()
		if r := do(t, under, "GET", read.host, read.path, read.key); r.status != http.StatusOK {
			t.Fatalf("%s: GET %s: %d %s", read.name, read.path, r.status, r.body)
		}
		if sent := trace.take(); len(sent) != 1 {
			t.Errorf("%s: %d round trips, want 1:\n%s", read.name, len(sent), strings.Join(sent, "\n"))
		}
	}
}
