package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/discovery"
	"github.com/skillvault/skillvault/internal/gitserve"
	"github.com/skillvault/skillvault/internal/server"
	"github.com/skillvault/skillvault/internal/service"
)

// stack is a database with the service and a real HTTP server over it on
// loopback, assembled as `skillvault serve` assembles them.
type stack struct {
	dbi   Database
	db    *database.DB
	svc   *service.Service
	owner *database.Owner
	url   string
	stop  func()
}

// BaseDomain is the base domain of the benchmark's server: a tenant is
// reached at <slug>.<BaseDomain> (discovery chooses the tenant by host).
const BaseDomain = "bench.test"

// poolSize is the pool `skillvault serve` opens.
const poolSize = 32

func startStack(ctx context.Context, d Database) (*stack, error) {
	// The bulk loads run through this pool too; a statement of a large
	// tenant's load may take longer than serve's default 10 s, which
	// bounds no measured request here.
	db, err := database.Open(ctx, d.AppURL, database.Options{MaxConns: poolSize, StatementTimeout: 10 * time.Minute})
	if err != nil {
		return nil, err
	}
	owner, err := database.OpenOwner(ctx, d.OwnerURL)
	if err != nil {
		db.Close()
		return nil, err
	}
	svc := service.New(db, service.Options{})
	// The per-key rate limit would measure itself, not the server.
	srv := server.New(svc, server.Config{RateLimit: 1e9, BaseDomain: BaseDomain})
	discovery.Register(srv.Mux, svc, discovery.Options{
		Auth:       func(r *http.Request) (service.Actor, error) { return srv.API.Authenticate(r, "api") },
		HostTenant: srv.HostTenant,
		Allow:      srv.API.Allow,
	})
	git, err := gitserve.Register(srv.Mux, svc, gitserve.Options{
		Auth:       func(r *http.Request) (service.Actor, error) { return srv.API.Authenticate(r, "git") },
		HostTenant: srv.HostTenant,
		Allow:      srv.API.Allow,
	})
	if err != nil {
		owner.Close()
		db.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		git.Close()
		owner.Close()
		db.Close()
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Run(sctx, ln); close(done) }()
	go svc.RunAuthListener(sctx) // as serve does
	s := &stack{dbi: d, db: db, svc: svc, owner: owner, url: "http://" + ln.Addr().String()}
	s.stop = func() {
		cancel()
		<-done
		svc.Wait()
		git.Close()
		owner.Close()
		db.Close()
	}
	return s, nil
}

func (s *stack) loader() *loader { return &loader{db: s.db, svc: s.svc, owner: s.owner} }

// analyze vacuums and refreshes the planner statistics after a bulk load,
// as autovacuum would shortly after: a benchmark must neither measure
// plans made for an empty table nor share the cores with the autovacuum
// run that a fresh load sets off.
func analyze(ctx context.Context, adminURL string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("bench: analyze: %w", err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "VACUUM (ANALYZE)")
	return err
}

var errStopped = errors.New("bench: stopped")
