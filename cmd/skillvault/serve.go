package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/discovery"
	"github.com/skillvault/skillvault/internal/gitserve"
	"github.com/skillvault/skillvault/internal/mcpserver"
	"github.com/skillvault/skillvault/internal/oauth"
	"github.com/skillvault/skillvault/internal/server"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/web"
)

func init() {
	register("serve", "run the server (REST API, MCP with OAuth, discovery, git, web UI)", serve)
}

const bootstrapEmail = "admin@skillvault.local"

func serve(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "serve", "[--addr HOST:PORT] [--base-domain DOMAIN] [--metrics-addr HOST:PORT|off] [--rate-limit N] [--tenant-rate-limit N] [--anon-rate-limit N] [--access-log-sample N] [--max-upload-mb N] [--quota-bytes SIZE] [--quota-skills N] [--quota-versions N] [--quota-keys-per-user N] [--gc-interval D] [--review-vendor-hosts LIST] [--access-log-sample N]", `  skillvault serve
  skillvault serve --addr 0.0.0.0:8080 --base-domain skills.example.com
  DATABASE_URL=postgres://skillvault_app:...@db/skillvault skillvault serve`)
	addr := fs.String("addr", envOr(e, "SKILLVAULT_ADDR", "127.0.0.1:8080"), "address to listen on (env SKILLVAULT_ADDR)")
	base := fs.String("base-domain", e.getenv("SKILLVAULT_BASE_DOMAIN"), "serve tenant <slug> at <slug>.DOMAIN (env SKILLVAULT_BASE_DOMAIN)")
	rateLimit := fs.Float64("rate-limit", 100, "requests per second allowed per API key (bursts of twice that)")
	tenantLimit := fs.Float64("tenant-rate-limit", 0, "requests per second allowed per tenant, all its keys together (bursts of twice that; default 5 × --rate-limit)")
	anonLimit := fs.Float64("anon-rate-limit", 20, "requests per second allowed per client address without a valid credential, failed sign-ins and bad keys included (bursts of twice that; 0 turns the limit off)")
	metricsAddr := fs.String("metrics-addr", envOr(e, "SKILLVAULT_METRICS_ADDR", defaultMetricsAddr), `address of the Prometheus /metrics listener, apart from --addr ("off" for none; env SKILLVAULT_METRICS_ADDR)`)
	logSample := fs.Int("access-log-sample", 1, "log one in N successful requests in the access log (every failed request, status 400 and up, is logged); 1 logs every request")
	maxUpload := fs.Int64("max-upload-mb", 64, "largest bundle upload in MiB")
	quotaVals := quotaFlags(fs, e)
	gcEvery := fs.Duration("gc-interval", time.Hour, "how often to sweep every tenant for file bytes no version references (needs SKILLVAULT_OWNER_URL to list tenants; 0 turns the sweep off)")
	vendorHosts := fs.String("review-vendor-hosts", e.getenv("SKILLVAULT_REVIEW_VENDOR_HOSTS"),
		`hosts whose official installers may be piped into a shell (a medium review finding, not a block), comma-separated; "+host,…" adds to the built-in list (env SKILLVAULT_REVIEW_VENDOR_HOSTS; skillvault review rules)`)
	if ok, code := parse(fs, args); !ok {
		return code
	}
	t, err := resolve(ctx, e, true)
	if err != nil {
		return fail(e, "%v", err)
	}
	if t.emb != nil {
		e.log.Info("embedded database", "home", home(e))
		if err := t.migrate(ctx, e); err != nil {
			return fail(e, "migrate: %v", err)
		}
	}
	// On Citus (detected by Open) the scope sets the tenant so that Citus
	// forwards it to the workers (DESIGN.md §7).
	db, err := database.Open(ctx, t.appURL, database.Options{MaxConns: 32})
	if err != nil {
		return fail(e, "%v", err)
	}
	defer db.Close()

	// Readiness needs the schema verified; that takes the owner role.
	var verified atomic.Bool
	var verifyErr atomic.Value
	checkVerified := func(ctx context.Context) error {
		if verified.Load() {
			return nil
		}
		if t.ownerURL == "" {
			verified.Store(true) // nothing to verify with; logged below
			return nil
		}
		o, err := database.OpenOwner(ctx, t.ownerURL)
		if err != nil {
			return err
		}
		defer o.Close()
		probs, err := o.Verify(ctx)
		if err != nil {
			return err
		}
		if len(probs) > 0 {
			verifyErr.Store(probs[0].String())
			return fmt.Errorf("schema drift: %s (run skillvault db verify)", probs[0])
		}
		verified.Store(true)
		return nil
	}
	if t.ownerURL == "" {
		e.log.Warn("SKILLVAULT_OWNER_URL is not set: /readyz cannot verify the schema; run `skillvault db verify` in your deployment pipeline")
	}
	if err := checkVerified(ctx); err != nil {
		return fail(e, "refusing to serve: %v", err)
	}

	quotas, err := parseQuotas(quotaVals)
	if err != nil {
		return fail(e, "%v", err)
	}
	opts, err := providerOptions(e, t)
	if err != nil {
		return fail(e, "%v", err)
	}
	opts.Logger, opts.Quotas = e.log, quotas
	opts.Review = policyFrom(*vendorHosts)
	svc := service.New(db, opts)
	go svc.RunEmbedder(ctx, 2*time.Second)
	go svc.RunAuthListener(ctx)
	// Deleting a skill frees its bytes at once; the sweep finds leftovers.
	// Only the owner may list tenants, so it runs when serve has its URL.
	if t.ownerURL != "" && *gcEvery > 0 {
		go svc.RunCollector(ctx, *gcEvery, func(ctx context.Context) ([]uuid.UUID, error) { return tenantIDs(ctx, t) })
	}
	srv := server.New(svc, server.Config{Addr: *addr, BaseDomain: strings.ToLower(*base), Logger: e.log, RateLimit: *rateLimit,
		TenantRateLimit: *tenantLimit, AnonRateLimit: *anonLimit, AccessLogSample: *logSample, MaxUploadBytes: *maxUpload << 20, Ready: checkVerified})
	discovery.Register(srv.Mux, svc, discovery.Options{
		Auth:       func(r *http.Request) (service.Actor, error) { return srv.API.Authenticate(r, "api") },
		HostTenant: srv.HostTenant,
		Allow:      srv.API.Allow,
		Logger:     e.log,
	})
	gitH, err := gitserve.Register(srv.Mux, svc, gitserve.Options{
		Auth:       func(r *http.Request) (service.Actor, error) { return srv.API.Authenticate(r, "git") },
		HostTenant: srv.HostTenant,
		Allow:      srv.API.Allow,
		Dir:        e.getenv("SKILLVAULT_GIT_CACHE_DIR"),
		Logger:     e.log,
	})
	if err != nil {
		return fail(e, "%v", err)
	}
	defer gitH.Close()
	mcpserver.Mount(srv.Mux, svc, mcpserver.HTTPOptions{
		Authenticate: func(r *http.Request) (service.Actor, error) { return srv.API.Authenticate(r, "mcp") },
		Allow:        srv.API.Allow,
		Logger:       e.log,
	})
	// OAuth for MCP clients: metadata, token, registration, revocation
	// (the consent page is the web UI's /oauth/authorize).
	oauth.Register(srv.Mux, svc, oauth.Options{Logger: e.log, HostTenant: srv.HostTenant})
	// The web UI registers "/" as its catch-all: it goes last.
	web.New(svc, web.Config{
		Logger:     e.log,
		HostTenant: srv.HostTenant,
		Allow:      srv.API.Allow,
		BaseURL:    e.getenv("SKILLVAULT_BASE_URL"),
		OIDC: web.OIDCConfig{
			Issuer:       e.getenv("SKILLVAULT_OIDC_ISSUER"),
			ClientID:     e.getenv("SKILLVAULT_OIDC_CLIENT_ID"),
			ClientSecret: e.getenv("SKILLVAULT_OIDC_CLIENT_SECRET"),
			Name:         envOr(e, "SKILLVAULT_OIDC_NAME", "single sign-on"),
		},
	}).Register(srv.Mux)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fail(e, "listen on %s: %v (choose another with --addr)", *addr, err)
	}
	url := publicURL(e, ln.Addr().(*net.TCPAddr))
	if t.emb != nil {
		if err := bootstrap(ctx, e, t, svc, url); err != nil {
			return fail(e, "bootstrap: %v", err)
		}
	}
	metrics, err := serveMetrics(ctx, e, srv, *metricsAddr)
	if err != nil {
		return fail(e, "%v", err)
	}
	fmt.Fprintf(e.stdout, "Skillvault is running at %s (API: %s/api/v1, MCP: %s/mcp, health: %s/healthz; %s). Press Ctrl-C to stop.\n", url, url, url, url, metrics)
	if t.emb != nil {
		fmt.Fprintf(e.stdout, "To sign in to the web UI, get a one-time link: %s user login-link --tenant default --email %s\nCtrl-C also stops the embedded PostgreSQL if this command started it.\n", selfCommand(), bootstrapEmail)
	}
	e.log.Info("listening", "addr", ln.Addr().String())
	err = srv.Run(ctx, ln)
	drainBackground(e, svc)
	if err != nil {
		return fail(e, "%v", err)
	}
	return exitOK
}

// defaultMetricsAddr keeps the metrics on loopback: they describe every
// tenant, so they are the operator's, not the public's.
const defaultMetricsAddr = "127.0.0.1:9464"

// serveMetrics starts the metrics listener at addr ("" or "off": none) and
// says where the metrics are. The default address being taken (another
// instance on this machine) is a warning; an address the operator chose
// that cannot be used is an error.
func serveMetrics(ctx context.Context, e *env, srv *server.Server, addr string) (string, error) {
	if addr == "" || addr == "off" {
		return "metrics: off", nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if addr != defaultMetricsAddr {
			return "", fmt.Errorf("metrics: listen on %s: %v (choose another with --metrics-addr, or off)", addr, err)
		}
		e.log.Warn("metrics are not served", "addr", addr, "err", err)
		return "metrics: not served (" + addr + " is in use)", nil
	}
	go func() {
		if err := srv.RunMetrics(ctx, ln); err != nil {
			e.log.Error("metrics listener stopped", "err", err)
		}
	}()
	return "metrics: http://" + ln.Addr().String() + "/metrics", nil
}

// drainBackground gives queued LLM reviews and embeddings a bounded time to
// finish at shutdown. What is cut short is not lost: embeddings stay due in
// the database for the next start, and a review can be run again.
func drainBackground(e *env, svc *service.Service) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := svc.Shutdown(ctx); err != nil {
		e.log.Warn("background work cut short at shutdown", "err", err)
	}
}

func envOr(e *env, key, def string) string {
	if v := e.getenv(key); v != "" {
		return v
	}
	return def
}

// bootstrap creates the default tenant with an admin on the first start of
// an embedded deployment, and prints the admin's API key once.
func bootstrap(ctx context.Context, e *env, t *target, svc *service.Service, url string) error {
	o, err := t.owner(ctx)
	if err != nil {
		return err
	}
	defer o.Close()
	if _, err := o.TenantBySlug(ctx, "default"); err == nil {
		return nil
	} else if !errors.Is(err, database.ErrNotFound) {
		return err
	}
	tn, err := o.CreateTenant(ctx, database.NewTenant{Slug: "default", Name: "Default"})
	if err != nil {
		return err
	}
	sys := service.System(tn.ID)
	if err := svc.EnsureTenant(ctx, sys); err != nil {
		return err
	}
	u, err := svc.CreateUser(ctx, sys, service.NewUser{Email: bootstrapEmail, Name: "Administrator", Role: "admin"})
	if err != nil {
		return err
	}
	// The bootstrap key expires like every other key of the tenant: a
	// key that never expires is the one most likely to leak unnoticed.
	k, err := svc.CreateKey(ctx, sys, u.ID, service.NewKey{Name: "bootstrap admin key", Scopes: []string{"read", "write", "admin"}})
	if err != nil {
		return err
	}
	expiry := "never expires"
	if k.ExpiresAt != nil {
		expiry = "expires " + k.ExpiresAt.UTC().Format("2 Jan 2006") + "; make another with: ./bin/skillvault key create --tenant default --user " + bootstrapEmail + " --scopes read,write,admin"
	}
	data, _ := filepath.Abs(home(e))
	link, err := svc.CreateLoginLink(ctx, sys, u.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, `
First start: created tenant "default" with admin %s.
Data folder (the embedded database; run later commands here or set SKILLVAULT_HOME): %s
Admin API key (shown once; store it now; %s):

%s

Try it:  curl -H "Authorization: Bearer %s" %s/api/v1/me
Sign in to the web UI (one-time link, valid %d minutes):

%s%s

Later: %s user login-link --tenant default --email %s
`, bootstrapEmail, data, expiry, k.Secret, k.Secret, url, int(service.LoginLinkTTL.Minutes()), url, link, selfCommand(), bootstrapEmail)
	return nil
}

// publicURL is where people open the server: SKILLVAULT_BASE_URL when set,
// else the listen address (localhost when listening on every interface).
func publicURL(e *env, addr *net.TCPAddr) string {
	if b := e.getenv("SKILLVAULT_BASE_URL"); b != "" {
		return strings.TrimRight(b, "/")
	}
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
}

// selfCommand is how a person in the current folder runs this binary
// again: ./bin/skillvault after `make run`, else its absolute path, or
// plain "skillvault" when it was found on PATH.
func selfCommand() string {
	exe, err := os.Executable()
	if err != nil {
		return "skillvault"
	}
	if p, err := exec.LookPath("skillvault"); err == nil {
		if abs, _ := filepath.Abs(p); abs == exe {
			return "skillvault"
		}
	}
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, exe); err == nil && !strings.HasPrefix(rel, "..") {
			return "./" + rel
		}
	}
	return exe
}
