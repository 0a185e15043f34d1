package web

import (
	"net/http"
	"testing"

	"github.com/skillvault/skillvault/internal/discovery"
	"github.com/skillvault/skillvault/internal/mcpserver"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/testserver"
)

// TestRoutesBesideTheOtherInterfaces registers the UI on the server's mux
// with the REST API, MCP and discovery, as `skillvault serve` does (the mux
// panics on conflicting patterns), and checks each still answers.
func TestRoutesBesideTheOtherInterfaces(t *testing.T) {
	s := testserver.Start(t, testserver.Options{Mount: func(s *testserver.Server) {
		auth := func(r *http.Request) (service.Actor, error) { return s.Srv.API.Authenticate(r, "mcp") }
		mcpserver.Mount(s.Srv.Mux, s.Svc, mcpserver.HTTPOptions{Authenticate: auth})
		discovery.Register(s.Srv.Mux, s.Svc, discovery.Options{Auth: auth, HostTenant: s.Srv.HostTenant})
		New(s.Svc, Config{HostTenant: s.Srv.HostTenant}).Register(s.Srv.Mux)
	}})
	for path, want := range map[string]int{
		"/healthz": 200, "/api/v1/openapi.json": 200, "/api/v1/nope": 404, "/login": 200, "/": 200 /* redirected to /login */, "/static/app.css": 200,
		"/.well-known/agent-skills/index.json": 200, "/nope": 404,
	} {
		if r := s.Do("GET", path, "", nil); r.Status != want {
			t.Errorf("GET %s: %d, want %d", path, r.Status, want)
		}
	}
	if r := s.Do("GET", "/api/v1/nope", "", nil); r.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("the API's 404 became the UI's: %s", r.Header.Get("Content-Type"))
	}
}
