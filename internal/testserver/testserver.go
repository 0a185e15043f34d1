// Package testserver runs a real Skillvault HTTP server on loopback over a
// fresh test database, with helpers to create tenants, users and keys and
// to call the API. Interface tests (REST, MCP, discovery, CLI, web) use it.
package testserver

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/dbtest"
	"github.com/skillvault/skillvault/internal/gitserve"
	"github.com/skillvault/skillvault/internal/mcpserver"
	"github.com/skillvault/skillvault/internal/server"
	"github.com/skillvault/skillvault/internal/service"
)

// Server is a running server.
type Server struct {
	T   testing.TB
	Env *dbtest.Env
	Svc *service.Service
	Srv *server.Server
	URL string // http://127.0.0.1:port
	// MetricsURL is the metrics listener's /metrics (serve --metrics-addr).
	MetricsURL string
	Client     *http.Client
}

// Options tune Start.
type Options struct {
	BaseDomain string
	RateLimit  float64 // per key (default 10,000)
	// TenantRateLimit is per tenant (default 5 × RateLimit).
	TenantRateLimit float64
	// AnonRateLimit limits requests without a valid credential per client
	// address (default 100,000, so that only tests of it reach it; every
	// test sends from 127.0.0.1); negative turns it off.
	AnonRateLimit float64
	// MaxUploadBytes bounds bundle uploads (default 64 MiB).
	MaxUploadBytes int64
	// Mount adds more handlers (MCP, discovery, web) before the server starts.
	Mount func(s *Server)
	// Service configures the service, as serve does from its environment
	// (egress allow list, operator providers, secret key).
	Service service.Options
}

// Start runs a server until the test ends.
func Start(t testing.TB, opt Options) *Server {
	t.Helper()
	env := dbtest.New(t)
	svc := service.New(env.DB, opt.Service)
	if opt.RateLimit == 0 {
		opt.RateLimit = 10000
	}
	if opt.AnonRateLimit == 0 {
		opt.AnonRateLimit = 100000
	}
	srv := server.New(svc, server.Config{BaseDomain: opt.BaseDomain, RateLimit: opt.RateLimit, TenantRateLimit: opt.TenantRateLimit,
		AnonRateLimit: max(opt.AnonRateLimit, 0), MaxUploadBytes: opt.MaxUploadBytes})
	s := &Server{T: t, Env: env, Svc: svc, Srv: srv, Client: &http.Client{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.URL = "http://" + ln.Addr().String()
	s.MetricsURL = "http://" + mln.Addr().String() + "/metrics"
	if opt.Mount != nil {
		opt.Mount(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { srv.Run(ctx, ln); done <- struct{}{} }()
	go func() { srv.RunMetrics(ctx, mln); done <- struct{}{} }()
	// As in serve: API key look-ups are cached, kept coherent by
	// notifications, so every interface test runs through that cache.
	go svc.RunAuthListener(ctx)
	t.Cleanup(func() { cancel(); <-done; <-done })
	return s
}

// Tenant is a tenant with an admin and a member, each with a read/write
// key (the admin's also has admin).
type Tenant struct {
	ID          uuid.UUID
	Slug        string
	Admin       User
	Member      User
	ReadOnlyKey string // the member's read-only key
}

// User is a user with an API key.
type User struct {
	ID    uuid.UUID
	Email string
	Key   string
}

// Tenant creates a tenant with users and keys.
func (s *Server) Tenant(slug string) *Tenant {
	t := s.T
	t.Helper()
	ctx := context.Background()
	o, err := database.OpenOwner(ctx, s.Env.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	tn, err := o.CreateTenant(ctx, database.NewTenant{Slug: slug, Name: strings.ToUpper(slug)})
	o.Close()
	if err != nil {
		t.Fatal(err)
	}
	sys := service.System(tn.ID)
	if err := s.Svc.EnsureTenant(ctx, sys); err != nil {
		t.Fatal(err)
	}
	out := &Tenant{ID: tn.ID, Slug: slug}
	out.Admin = s.User(tn.ID, "admin@"+slug+".example", "admin", "read", "write", "admin")
	out.Member = s.User(tn.ID, "member@"+slug+".example", "member", "read", "write")
	k, err := s.Svc.CreateKey(ctx, sys, out.Member.ID, service.NewKey{Name: "read-only", Scopes: []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	out.ReadOnlyKey = k.Secret
	return out
}

// User creates a user with a key of the given scopes.
func (s *Server) User(tenant uuid.UUID, email, role string, scopes ...string) User {
	t := s.T
	t.Helper()
	ctx := context.Background()
	sys := service.System(tenant)
	u, err := s.Svc.CreateUser(ctx, sys, service.NewUser{Email: email, Role: role})
	if err != nil {
		t.Fatal(err)
	}
	k, err := s.Svc.CreateKey(ctx, sys, u.ID, service.NewKey{Name: "test", Scopes: scopes})
	if err != nil {
		t.Fatal(err)
	}
	return User{ID: u.ID, Email: email, Key: k.Secret}
}

// Response is a finished request.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test when it cannot.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Do sends a request with a key ("" for none). body may be nil, []byte,
// string, or any value to encode as JSON.
func (s *Server) Do(method, path, key string, body any, header ...string) *Response {
	t := s.T
	t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
		ct = "application/json"
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
		ct = "application/json"
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if strings.EqualFold(header[i], "Host") {
			req.Host = header[i+1]
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// MountMCP mounts the MCP endpoint on s as `skillvault serve` mounts it:
// authenticated by API key and limited per key. Pass it as Options.Mount.
func MountMCP(s *Server) {
	mcpserver.Mount(s.Srv.Mux, s.Svc, mcpserver.HTTPOptions{
		Authenticate: func(r *http.Request) (service.Actor, error) { return s.Srv.API.Authenticate(r, "mcp") },
		Allow:        s.Srv.API.Allow,
	})
}

// MountGit mounts the git repositories on s as `skillvault serve` mounts
// them. Pass it as Options.Mount (or call it from one).
func MountGit(s *Server) {
	h, err := gitserve.Register(s.Srv.Mux, s.Svc, gitserve.Options{
		Auth:       func(r *http.Request) (service.Actor, error) { return s.Srv.API.Authenticate(r, "git") },
		HostTenant: s.Srv.HostTenant,
		Allow:      s.Srv.API.Allow,
		Dir:        s.T.TempDir(),
	})
	if err != nil {
		s.T.Fatal(err)
	}
	s.T.Cleanup(func() { h.Close() })
}
