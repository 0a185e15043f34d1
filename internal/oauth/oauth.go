// Package oauth is the machine side of Skillvault's OAuth 2.1
// authorization server for its MCP resource: the authorization-server
// metadata (RFC 8414), the token endpoint (code + PKCE, rotating refresh
// tokens), dynamic client registration (RFC 7591) and revocation (RFC
// 7009). The person's side, sign-in and consent at /oauth/authorize, is a
// page of the web UI (internal/web), behind its CSRF guard. The protected
// resource metadata that points clients here is mcpserver's.
//
// The issuer is the origin of the tenant host the client talks to, so each
// tenant host is its own authorization server and a token is bound to
// that host's MCP resource.
package oauth

import (
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/api"
	"github.com/skillvault/skillvault/internal/mcpserver"
	"github.com/skillvault/skillvault/internal/service"
)

// Endpoint paths; AuthorizePath is served by the web UI.
const (
	MetadataPath  = "/.well-known/oauth-authorization-server"
	AuthorizePath = "/oauth/authorize"
	TokenPath     = "/oauth/token"
	RegisterPath  = "/oauth/register"
	RevokePath    = "/oauth/revoke"
)

// maxBody bounds a token, revocation or registration request.
const maxBody = 64 << 10

// Options configure the endpoints.
type Options struct {
	Logger *slog.Logger
	// HostTenant resolves the request's host to a tenant
	// (server.Server.HostTenant). Dynamic registration needs one: a client
	// registers with the organisation whose host it was given.
	HostTenant func(r *http.Request) (uuid.UUID, bool)
}

type handlers struct {
	svc *service.Service
	opt Options
}

// Register mounts the endpoints on mux.
func Register(mux *http.ServeMux, svc *service.Service, opt Options) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	h := &handlers{svc: svc, opt: opt}
	mux.Handle("GET "+MetadataPath, cors(http.HandlerFunc(h.metadata)))
	mux.Handle("POST "+TokenPath, cors(http.HandlerFunc(h.token)))
	mux.Handle("POST "+RegisterPath, cors(http.HandlerFunc(h.register)))
	mux.Handle("POST "+RevokePath, cors(http.HandlerFunc(h.revoke)))
	for _, p := range []string{MetadataPath, TokenPath, RegisterPath, RevokePath} {
		mux.Handle("OPTIONS "+p, cors(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })))
	}
}

// cors lets browser-based clients call the endpoints. They take no
// cookies (a client proves itself with the code, verifier or token in
// the request), so any origin may.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Content-Type, Authorization, MCP-Protocol-Version")
		next.ServeHTTP(w, r)
	})
}

// Issuer is the authorization server of the request's host.
func Issuer(r *http.Request) string { return api.Origin(r) }

// Resource is the canonical URI of the MCP server at the request's host:
// the only audience tokens issued here may have.
func Resource(r *http.Request) string { return api.Origin(r) + mcpserver.Path }

// Metadata is the authorization-server metadata document (RFC 8414).
type Metadata struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	RegistrationEndpoint              string   `json:"registration_endpoint,omitempty"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	ScopesSupported                   []string `json:"scopes_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethods     []string `json:"revocation_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	AuthorizationResponseIssParameter bool     `json:"authorization_response_iss_parameter_supported"`
	ClientIDMetadataDocumentSupported bool     `json:"client_id_metadata_document_supported"`
	ServiceDocumentation              string   `json:"service_documentation,omitempty"`
}

func (h *handlers) metadata(w http.ResponseWriter, r *http.Request) {
	iss := Issuer(r)
	md := Metadata{
		Issuer:                            iss,
		AuthorizationEndpoint:             iss + AuthorizePath,
		TokenEndpoint:                     iss + TokenPath,
		RevocationEndpoint:                iss + RevokePath,
		ScopesSupported:                   service.OAuthScopes,
		ResponseTypesSupported:            []string{"code"},
		ResponseModesSupported:            []string{"query"},
		GrantTypesSupported:               []string{"authorization_code", "refresh_token"},
		TokenEndpointAuthMethodsSupported: []string{"none"},
		RevocationEndpointAuthMethods:     []string{"none"},
		CodeChallengeMethodsSupported:     []string{"S256"},
		AuthorizationResponseIssParameter: true,
		ClientIDMetadataDocumentSupported: true,
	}
	// Registration stores the client in the host's tenant: offered only
	// where the host names one.
	if _, ok := h.hostTenant(r); ok {
		md.RegistrationEndpoint = iss + RegisterPath
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, md)
}

func (h *handlers) hostTenant(r *http.Request) (uuid.UUID, bool) {
	if h.opt.HostTenant == nil {
		return uuid.Nil, false
	}
	t, ok := h.opt.HostTenant(r)
	if !ok || t == uuid.Max {
		return uuid.Nil, false
	}
	return t, true
}

func (h *handlers) meta(r *http.Request) service.RequestMeta {
	return service.RequestMeta{RequestID: api.RequestID(r.Context()), RemoteAddr: r.RemoteAddr, UserAgent: r.UserAgent(), Source: "oauth",
		Resource: Resource(r)}
}

// parseForm reads an application/x-www-form-urlencoded body, as RFC 6749
// requires of token and revocation requests.
func parseForm(w http.ResponseWriter, r *http.Request) *service.OAuthError {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		return &service.OAuthError{Code: "invalid_request", Description: "send the parameters as application/x-www-form-urlencoded"}
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		return &service.OAuthError{Code: "invalid_request", Description: "the request body could not be read as a form"}
	}
	return nil
}

func (h *handlers) token(w http.ResponseWriter, r *http.Request) {
	if e := parseForm(w, r); e != nil {
		h.oauthError(w, r, e)
		return
	}
	f := r.PostForm
	in := service.TokenRequest{GrantType: f.Get("grant_type"), Code: f.Get("code"), RedirectURI: f.Get("redirect_uri"),
		ClientID: f.Get("client_id"), CodeVerifier: f.Get("code_verifier"), RefreshToken: f.Get("refresh_token"),
		Resource: f.Get("resource"), Scope: f.Get("scope"), HostResource: Resource(r)}
	if in.ClientID == "" {
		h.oauthError(w, r, &service.OAuthError{Code: "invalid_request", Description: "client_id is required (public clients send it in the body)"})
		return
	}
	out, err := h.svc.Token(r.Context(), in, h.meta(r))
	if err != nil {
		h.oauthError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, out)
}

func (h *handlers) register(w http.ResponseWriter, r *http.Request) {
	tenant, ok := h.hostTenant(r)
	if !ok {
		h.oauthError(w, r, &service.OAuthError{Code: "invalid_client_metadata",
			Description: "register at your organisation's host (https://<tenant host>/oauth/register), or use a Client ID Metadata Document"})
		return
	}
	var in service.ClientRegistration
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		h.oauthError(w, r, &service.OAuthError{Code: "invalid_client_metadata", Description: "the body must be a JSON client metadata object"})
		return
	}
	out, err := h.svc.RegisterClient(r.Context(), tenant, in, h.meta(r))
	if err != nil {
		h.oauthError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, out)
}

func (h *handlers) revoke(w http.ResponseWriter, r *http.Request) {
	if e := parseForm(w, r); e != nil {
		h.oauthError(w, r, e)
		return
	}
	if err := h.svc.RevokeToken(r.Context(), r.PostForm.Get("token"), r.PostForm.Get("client_id"), h.meta(r)); err != nil {
		h.oauthError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// oauthError answers with the OAuth error JSON (RFC 6749 §5.2); anything
// that is not an OAuth error is a server_error, logged.
func (h *handlers) oauthError(w http.ResponseWriter, r *http.Request, err error) {
	var oe *service.OAuthError
	if !errors.As(err, &oe) {
		status, code := http.StatusInternalServerError, "server_error"
		if service.KindOf(err) == service.Unavailable {
			status, code = http.StatusServiceUnavailable, "temporarily_unavailable"
			w.Header().Set("Retry-After", "2")
		} else {
			h.opt.Logger.Error("oauth endpoint failed", "path", r.URL.Path, "request_id", api.RequestID(r.Context()), "err", err)
		}
		oe = &service.OAuthError{Code: code, Description: "the server could not answer; retry shortly"}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, status, map[string]string{"error": oe.Code, "error_description": oe.Description})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, oe.Status(), map[string]string{"error": oe.Code, "error_description": oe.Description})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
