package mcpserver

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/skillvault/skillvault/internal/api"
	"github.com/skillvault/skillvault/internal/service"
)

// Path is where `skillvault serve` mounts the MCP endpoint.
const Path = "/mcp"

// MetadataPath is the RFC 9728 protected-resource metadata of Path (the
// well-known prefix followed by the resource's path).
const MetadataPath = "/.well-known/oauth-protected-resource" + Path

// HTTPOptions configure Handler.
type HTTPOptions struct {
	// Authenticate turns the request's bearer API key into an Actor; in
	// `skillvault serve` it is srv.API.Authenticate(r, "mcp"). Required.
	Authenticate func(r *http.Request) (service.Actor, error)
	// Allow applies the per-key and per-tenant rate limits and answers
	// 429 itself when one refuses (srv.API.Allow); nil allows all.
	Allow  func(w http.ResponseWriter, r *http.Request, a service.Actor) bool
	Logger *slog.Logger
	// SessionTimeout closes sessions idle this long (default 30 minutes).
	SessionTimeout time.Duration
}

type actorKey struct{}

// Handler serves MCP over Streamable HTTP. Every request must carry an API
// key: the session is bound to the key that opened it (a request for that
// session with another key is refused with 403), and each tool call runs
// as the Actor of its own request's key, so a revoked key stops working at
// once. Unauthenticated requests get 401 with a WWW-Authenticate header
// pointing at the protected-resource metadata (MetadataHandler).
func Handler(svc *service.Service, opt HTTPOptions) http.Handler {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.SessionTimeout == 0 {
		opt.SessionTimeout = 30 * time.Minute
	}
	backendFor := func(_ context.Context, extra *mcp.RequestExtra) (Backend, error) {
		a, ok := actorOf(extra)
		if !ok {
			return nil, &service.Error{Kind: service.Unauthenticated, Msg: "this request carries no API key"}
		}
		return ServiceBackend{Svc: svc, Actor: a}, nil
	}
	server := NewServer(backendFor, Options{Logger: opt.Logger})
	stream := func(stateless bool) http.Handler {
		return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, &mcp.StreamableHTTPOptions{
			Logger:         opt.Logger,
			SessionTimeout: opt.SessionTimeout,
			Stateless:      stateless,
			// The SDK refuses non-loopback Host headers on a loopback listener
			// (DNS rebinding). Here every request must carry an API key, which
			// a rebinding page cannot add, and the usual deployment is a
			// reverse proxy in front of 127.0.0.1 passing tenant hosts: keep
			// the check off.
			DisableLocalhostProtection: true,
		})
	}
	// RequireBearerToken is how the SDK learns the token's owner: it
	// records it on a new session and refuses requests for that session
	// from anyone else. The key itself was checked below already.
	bind := auth.RequireBearerToken(func(ctx context.Context, _ string, _ *http.Request) (*auth.TokenInfo, error) {
		a, ok := ctx.Value(actorKey{}).(service.Actor)
		if !ok {
			return nil, auth.ErrInvalidToken
		}
		return &auth.TokenInfo{UserID: sessionOwner(a), Scopes: a.Scopes, Extra: map[string]any{"actor": a}}, nil
	}, &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})
	// Protocol 2026-07-28 has no sessions (each request names its version
	// in the Mcp-Protocol-Version header and in _meta), and the SDK serves
	// it only from a stateless handler; earlier versions keep their
	// sessions, bound to the key that opened them.
	sessions, sessionless := bind(stream(false)), bind(stream(true))

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := opt.Authenticate(r)
		if err != nil {
			refuse(w, r, opt.Logger, err)
			return
		}
		if opt.Allow != nil && !opt.Allow(w, r, a) {
			return
		}
		if need := missingScope(r, a); need != "" {
			refuseScope(w, r, need)
			return
		}
		if r.Method == http.MethodGet {
			// A GET opens the session's event stream, which lives longer than
			// the server's write timeout (meant for ordinary requests).
			http.NewResponseController(w).SetWriteDeadline(time.Time{})
		}
		h := sessions
		if sessionlessRequest(r) {
			h = sessionless
		}
		serveRPCErrors(h, w, r.WithContext(context.WithValue(r.Context(), actorKey{}, a)))
	})
}

// sessionlessRequest tells a request of protocol 2026-07-28 or later, whose
// clients must send the version header on every request.
func sessionlessRequest(r *http.Request) bool {
	return r.Header.Get("Mcp-Protocol-Version") >= sessionlessVersion
}

const sessionlessVersion = "2026-07-28"

// sessionOwner names the credential a session belongs to.
func sessionOwner(a service.Actor) string {
	if a.KeyID != uuid.Nil {
		return "key:" + a.KeyID.String()
	}
	if a.GrantID != uuid.Nil {
		return "grant:" + a.GrantID.String()
	}
	return "user:" + a.TenantID.String() + "/" + a.UserID.String()
}

func actorOf(extra *mcp.RequestExtra) (service.Actor, bool) {
	if extra == nil || extra.TokenInfo == nil {
		return service.Actor{}, false
	}
	a, ok := extra.TokenInfo.Extra["actor"].(service.Actor)
	return a, ok
}

// refuse answers a failed authentication.
func refuse(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	switch service.KindOf(err) {
	case service.Unauthenticated:
		msg := "send Authorization: Bearer <API key>; create a key in Skillvault (skillvault key create, or the web UI)"
		params := `resource_metadata="` + metadataURL(r) + `"`
		if r.Header.Get("Authorization") != "" {
			msg = "the API key or OAuth access token is invalid, expired or revoked, or belongs to another tenant than this host"
			params += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", "Bearer "+params)
		problem(w, r, http.StatusUnauthorized, "/problems/unauthenticated", "Authentication required", msg)
	case service.Unavailable:
		w.Header().Set("Retry-After", "2")
		problem(w, r, http.StatusServiceUnavailable, "/problems/unavailable", "Service unavailable", "the database is not reachable right now; retry shortly")
	case service.Forbidden:
		e, _ := service.AsError(err)
		problem(w, r, http.StatusForbidden, "/problems/forbidden", "Forbidden", e.Msg)
	default:
		log.Error("mcp authentication failed", "request_id", api.RequestID(r.Context()), "err", err)
		problem(w, r, http.StatusInternalServerError, "/problems/internal", "Internal error", "something went wrong on our side; quote the instance id when reporting it")
	}
}

// problem writes an RFC 9457 problem like the REST API's, keeping headers
// set before (api.WriteProblem would replace WWW-Authenticate).
func problem(w http.ResponseWriter, r *http.Request, status int, typ, title, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(api.Problem{Type: typ, Title: title, Status: status, Detail: detail, Instance: api.RequestID(r.Context())})
}

// origin is the scheme and host the client used.
func origin(r *http.Request) string { return api.Origin(r) }

func metadataURL(r *http.Request) string { return origin(r) + MetadataPath }

// MetadataHandler serves the OAuth 2.0 protected-resource metadata (RFC
// 9728) of the MCP endpoint at the host asked. The authorization server is
// Skillvault itself at the same host (internal/oauth); API keys work as
// bearer tokens too.
func MetadataHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		md := &oauthex.ProtectedResourceMetadata{
			Resource:               origin(r) + Path,
			AuthorizationServers:   []string{origin(r)},
			ScopesSupported:        []string{"read", "write"},
			BearerMethodsSupported: []string{"header"},
			ResourceName:           "Skillvault MCP server",
			ResourceDocumentation:  origin(r) + "/api/v1/openapi.json",
		}
		auth.ProtectedResourceMetadataHandler(md).ServeHTTP(w, r)
	})
}

// Mount registers the MCP endpoint and its metadata on mux.
func Mount(mux *http.ServeMux, svc *service.Service, opt HTTPOptions) {
	mux.Handle(Path, Handler(svc, opt))
	mux.Handle(MetadataPath, MetadataHandler())
	mux.Handle("/.well-known/oauth-protected-resource", MetadataHandler())
}
