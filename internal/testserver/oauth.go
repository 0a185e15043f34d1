package testserver

import (
	"github.com/skillvault/skillvault/internal/oauth"
)

// MountOAuth mounts the MCP endpoint and the OAuth endpoints as `skillvault
// serve` does (the consent page is the web UI's: mount it too for a full
// flow). Pass it as Options.Mount, or call it from one.
func MountOAuth(s *Server) {
	MountMCP(s)
	oauth.Register(s.Srv.Mux, s.Svc, oauth.Options{HostTenant: s.Srv.HostTenant})
}
