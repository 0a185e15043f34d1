// Package server assembles the HTTP server: middleware (request ids,
// access logs, metrics, panics, the limit on anonymous traffic), health
// endpoints, and the interfaces mounted on one mux. Prometheus metrics are
// served on a listener of their own (MetricsHandler), never on the mux.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/skillvault/skillvault/internal/api"
	"github.com/skillvault/skillvault/internal/ratelimit"
	"github.com/skillvault/skillvault/internal/service"
)

// Config configures a Server.
type Config struct {
	Addr       string // host:port to listen on
	BaseDomain string // tenants are served at <slug>.<BaseDomain>
	Logger     *slog.Logger
	RateLimit  float64 // per API key (api.Options.RateLimit)
	// TenantRateLimit is per tenant, all its keys together (default 5 ×
	// RateLimit).
	TenantRateLimit float64
	// AnonRateLimit is the sustained requests per second allowed per
	// client address (an IPv6 address by its /64) for requests that prove
	// no credential, bursts of twice that; 0 turns the limit off.
	AnonRateLimit float64
	// MaxUploadBytes bounds a bundle upload (default 64 MiB).
	MaxUploadBytes int64
	// AccessLogSample logs one in that many requests answered below 400;
	// every failed request (status 400 and up) is logged. 0 or 1 logs
	// every request. At full read throughput the log is a large share of
	// the server's CPU.
	AccessLogSample int
	// Ready reports whether the database is reachable and verified.
	Ready func(ctx context.Context) error
}

// Server is Skillvault's HTTP server.
type Server struct {
	cfg     Config
	svc     *service.Service
	API     *api.API
	Mux     *http.ServeMux
	handler http.Handler
	log     *slog.Logger
	reg     *prometheus.Registry
	anon    *ratelimit.Buckets[string] // nil when off
}

// New assembles the server over svc.
func New(svc *service.Service, cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, svc: svc, log: cfg.Logger, Mux: http.NewServeMux(), reg: prometheus.NewRegistry()}
	s.API = api.New(svc, api.Options{Logger: cfg.Logger, RateLimit: cfg.RateLimit, TenantRateLimit: cfg.TenantRateLimit,
		HostTenant: s.HostTenant, MaxUploadBytes: cfg.MaxUploadBytes})
	s.API.Register(s.Mux)
	s.Mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	s.Mux.HandleFunc("GET /readyz", s.readyz)
	m := newMetrics(s.reg, svc)
	if cfg.AnonRateLimit > 0 {
		s.anon = ratelimit.New[string](cfg.AnonRateLimit, int(2*cfg.AnonRateLimit))
	}
	s.handler = s.recoverer(m.instrument(s.anonLimit(validUTF8(s.Mux)), s.accessLog()))
	return s
}

// Handler is the whole server as an http.Handler.
func (s *Server) Handler() http.Handler { return s.handler }

// MetricsHandler serves the Prometheus metrics. It is for the operator's
// own listener (serve --metrics-addr), never the public one: the figures
// describe every tenant.
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	return mux
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	err := s.svc.DB().Ping(ctx)
	if err == nil && s.cfg.Ready != nil {
		err = s.cfg.Ready(ctx)
	}
	if err != nil {
		api.WriteProblem(w, r, api.Problem{Type: "/problems/unavailable", Title: "Not ready", Status: http.StatusServiceUnavailable, Detail: err.Error()})
		return
	}
	fmt.Fprintln(w, "ready")
}

// HostTenant resolves a host that names a tenant: <slug>.<base domain>, or
// a vanity domain. The bare base domain and loopback names name none.
func (s *Server) HostTenant(r *http.Request) (uuid.UUID, bool) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "" || host == "localhost" || net.ParseIP(host) != nil || host == s.cfg.BaseDomain {
		return uuid.Nil, false
	}
	key := host
	if s.cfg.BaseDomain != "" {
		if slug, ok := strings.CutSuffix(host, "."+s.cfg.BaseDomain); ok {
			if strings.Contains(slug, ".") {
				// a.b.<base> names no tenant we know: never a fallback.
				return uuid.Max, true
			}
			key = slug
		}
	}
	if !strings.Contains(key, ".") && key == host {
		// A dotless host that is not a subdomain of ours names no tenant.
		return uuid.Nil, false
	}
	t, err := s.svc.TenantByHost(r.Context(), key)
	if err != nil || !t.Active {
		// An unknown host must not fall back to another tenant: name a
		// tenant that cannot exist, so every lookup inside it is empty.
		return uuid.Max, true
	}
	return t.ID, true
}

// validUTF8 refuses a request whose path or query is not valid UTF-8:
// nothing can match it, and PostgreSQL would refuse the text anyway.
func validUTF8(next *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok := utf8.ValidString(r.URL.Path)
		for k, vs := range r.URL.Query() {
			ok = ok && utf8.ValidString(k)
			for _, v := range vs {
				ok = ok && utf8.ValidString(v)
			}
		}
		if !ok {
			api.WriteProblem(w, r, api.Problem{Type: "/problems/invalid", Title: "Invalid request", Status: http.StatusBadRequest,
				Detail: "the URL's path or query is not valid UTF-8"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("panic", "request_id", api.RequestID(r.Context()), "panic", p, "stack", string(debug.Stack()))
				api.WriteProblem(w, r, api.Problem{Type: "/problems/internal", Title: "Internal error", Status: 500})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func (s *Server) accessLog() func(r *http.Request, status int, size int64, d time.Duration) {
	// The client's own X-Request-Id, if any, is kept for correlation here
	// only; everything else knows the request by the server's id.
	sample := uint64(max(s.cfg.AccessLogSample, 1))
	var seen atomic.Uint64
	return func(r *http.Request, status int, size int64, d time.Duration) {
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		if status < 400 && sample > 1 && seen.Add(1)%sample != 1 {
			return // sampled out; failures are always logged
		}
		if !s.log.Enabled(r.Context(), level) {
			return // without building the record's attributes
		}
		attrs := []any{"request_id", api.RequestID(r.Context()), "client_request_id", clientRequestID(r),
			"method", r.Method, "path", r.URL.Path, "status", status, "bytes", size, "duration_ms", float64(d.Microseconds()) / 1000, "remote", r.RemoteAddr}
		if status < 400 && sample > 1 {
			attrs = append(attrs, "sampled_one_in", sample)
		}
		s.log.Log(r.Context(), level, "request", attrs...)
	}
}

// Run serves on ln until ctx ends, then shuts down gracefully.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	return s.serve(ctx, ln, s.handler)
}

// RunMetrics serves the metrics (MetricsHandler) on ln until ctx ends.
func (s *Server) RunMetrics(ctx context.Context, ln net.Listener) error {
	return s.serve(ctx, ln, s.MetricsHandler())
}

func (s *Server) serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
