package service

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/egress"
	"github.com/skillvault/skillvault/internal/ratelimit"
	"github.com/skillvault/skillvault/internal/store"
)

// Skillvault is the OAuth 2.1 authorization server of its own MCP
// resource (MCP authorization, revision 2026-07-28). A person signs in on
// the tenant's host and approves a client; the client gets an opaque,
// short-lived access token bound to the resource it asked for (RFC 8707)
// and a refresh token that rotates on every use. Codes and tokens are
// stored as SHA-256 hashes, like API keys; a grant is the family of tokens
// one approval produced, and revoking it ends them all.

const (
	// AccessTokenPrefix starts every OAuth access token.
	AccessTokenPrefix = "svat_"
	// RefreshTokenPrefix starts every OAuth refresh token.
	RefreshTokenPrefix = "svrt_"
	codePrefix         = "svac_"

	// AccessTokenTTL is short: a leaked access token is good for minutes.
	AccessTokenTTL = 15 * time.Minute
	// RefreshTokenTTL bounds how long a client stays signed in unused.
	RefreshTokenTTL = 30 * 24 * time.Hour
	// CodeTTL is how long an authorization code may be redeemed (once).
	CodeTTL = 2 * time.Minute

	// maxClientMetadata bounds a Client ID Metadata Document.
	maxClientMetadata = 64 << 10
	// clientMetadataTimeout bounds its fetch: a person waits for it.
	clientMetadataTimeout = 5 * time.Second
	// maxRegisteredClients caps open dynamic registration per tenant.
	maxRegisteredClients = 1000
)

// OAuthScopes are the scopes the authorization server knows.
var OAuthScopes = []string{"read", "write", "admin"}

// OAuthError is an error of the OAuth protocol (RFC 6749 §4.1.2.1, §5.2;
// RFC 7591 §3.2.2): Code is what the client reads.
type OAuthError struct {
	Code        string
	Description string
}

func (e *OAuthError) Error() string { return e.Code + ": " + e.Description }

func oauthErr(code, format string, args ...any) *OAuthError {
	return &OAuthError{Code: code, Description: fmt.Sprintf(format, args...)}
}

// Status is the HTTP status of a token or registration endpoint error.
func (e *OAuthError) Status() int {
	if e.Code == "invalid_client" {
		return http.StatusUnauthorized
	}
	return http.StatusBadRequest
}

// AuthorizationRequest is an authorization request (RFC 6749 §4.1.1 with
// PKCE and RFC 8707's resource), as the consent page carries it.
type AuthorizationRequest struct {
	ResponseType, ClientID, RedirectURI, State string
	CodeChallenge, CodeChallengeMethod         string
	Scope, Resource                            string
}

// ConsentClient is what the consent page shows of a client.
type ConsentClient struct {
	ClientID string
	Name     string
	// Host is the host of the client's metadata document (or "registered
	// dynamically"), which a person can judge; the name is the client's
	// own claim.
	Host        string
	RedirectURI string
	// RedirectHost is the redirect URI's host, shown prominently; Loopback
	// warns that the code goes to a program on this computer.
	RedirectHost string
	Loopback     bool
	Kind         string
}

// ResolveClient checks the client and redirect URI of an authorization
// request for the signed-in person a: a Client ID Metadata Document is
// fetched (through the egress client) and cached in a's tenant; a
// registered client must be the tenant's. An error here must not redirect
// (the redirect URI is not trusted): it is shown to the person.
func (s *Service) ResolveClient(ctx context.Context, a Actor, clientID, redirectURI string) (ConsentClient, error) {
	if a.UserID == uuid.Nil {
		return ConsentClient{}, errUnauthenticated
	}
	var c store.OAuthClient
	if isMetadataClientID(clientID) {
		doc, err := s.fetchClientMetadata(ctx, clientID)
		if err != nil {
			return ConsentClient{}, err
		}
		err = s.db.Write(ctx, a.scope(), func(q database.Q) error {
			var err error
			c, err = store.UpsertOAuthClient(ctx, q, clientID, "metadata", doc.Name, doc.RedirectURIs)
			return err
		})
		if errors.Is(err, store.ErrNotFound) {
			return ConsentClient{}, oauthErr("invalid_client", "client_id is registered as another kind of client")
		}
		if err != nil {
			return ConsentClient{}, err
		}
	} else {
		var err error
		if c, err = s.storedClient(ctx, a, clientID); err != nil {
			return ConsentClient{}, err
		}
	}
	return checkRedirect(c, redirectURI)
}

// ResolveStoredClient is ResolveClient without a fetch: the client as
// stored when the consent page was shown, for the person's decision.
func (s *Service) ResolveStoredClient(ctx context.Context, a Actor, clientID, redirectURI string) (ConsentClient, error) {
	if a.UserID == uuid.Nil {
		return ConsentClient{}, errUnauthenticated
	}
	c, err := s.storedClient(ctx, a, clientID)
	if err != nil {
		return ConsentClient{}, err
	}
	return checkRedirect(c, redirectURI)
}

func (s *Service) storedClient(ctx context.Context, a Actor, clientID string) (store.OAuthClient, error) {
	var c store.OAuthClient
	err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
		var err error
		c, err = store.OAuthClientByClientID(ctx, q, clientID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return c, oauthErr("invalid_client", "unknown client_id: use a Client ID Metadata Document URL, or register the client at this host")
	}
	return c, err
}

func checkRedirect(c store.OAuthClient, redirectURI string) (ConsentClient, error) {
	if !redirectAllowed(c.RedirectURIs, redirectURI) {
		return ConsentClient{}, oauthErr("invalid_request", "redirect_uri is not one of the client's registered redirect URIs")
	}
	return consentClient(c, redirectURI), nil
}

func consentClient(c store.OAuthClient, redirectURI string) ConsentClient {
	out := ConsentClient{ClientID: c.ClientID, Name: c.Name, RedirectURI: redirectURI, Kind: c.Kind, Host: "registered dynamically"}
	if u, err := url.Parse(c.ClientID); err == nil && c.Kind == "metadata" {
		out.Host = u.Host
	}
	if u, err := url.Parse(redirectURI); err == nil {
		out.RedirectHost = u.Host
		out.Loopback = isLoopbackHost(u.Hostname())
	}
	if out.Name == "" {
		out.Name = "(unnamed client)"
	}
	return out
}

// CheckAuthorization validates the parts of an authorization request that
// are answered by redirecting to the client (the client and redirect URI
// are checked already) and returns the scopes to ask the person for: the
// requested ones, or read and write when none are asked.
// Scopes above the person's role are refused, not trimmed. hostResource
// is the MCP server of the host the request came to: the only resource a
// token issued there may be for.
func CheckAuthorization(a Actor, req AuthorizationRequest, hostResource string) ([]string, *OAuthError) {
	if req.ResponseType != "code" {
		return nil, oauthErr("unsupported_response_type", "only response_type=code is supported")
	}
	if req.CodeChallengeMethod != "S256" {
		return nil, oauthErr("invalid_request", "PKCE with code_challenge_method=S256 is required")
	}
	if !validChallenge(req.CodeChallenge) {
		return nil, oauthErr("invalid_request", "code_challenge must be 43 base64url characters (S256)")
	}
	if req.Resource == "" {
		return nil, oauthErr("invalid_target", "the resource parameter (RFC 8707) is required: the MCP server's URL")
	}
	if !sameResource(req.Resource, hostResource) {
		return nil, oauthErr("invalid_target", "this server issues tokens only for %s", hostResource)
	}
	return grantableScopes(a.Role, req.Scope)
}

// grantableScopes parses a scope parameter for a user of role. Unknown
// scopes and offline_access (refresh tokens are always issued) are
// ignored, as RFC 6749 §3.3 allows; a known scope above the role is an
// invalid_scope error.
func grantableScopes(role, scope string) ([]string, *OAuthError) {
	allowed := roleScopes(role)
	var out []string
	for _, sc := range strings.Fields(scope) {
		if !slices.Contains(OAuthScopes, sc) {
			continue
		}
		if !slices.Contains(allowed, sc) {
			return nil, oauthErr("invalid_scope", "the %q scope is above what a %s may hold", sc, role)
		}
		out = append(out, sc)
	}
	if len(out) == 0 {
		// Nothing asked: read and write, never admin unasked.
		out = withinRole([]string{"read", "write"}, role)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// IssueCode records the person's approval of an authorization request and
// returns the one-time code for the client. The request was checked by
// ResolveClient and CheckAuthorization; the client is read again here, in
// the same transaction as the code.
func (s *Service) IssueCode(ctx context.Context, a Actor, req AuthorizationRequest, scopes []string) (string, error) {
	if a.UserID == uuid.Nil {
		return "", errUnauthenticated
	}
	code := codePrefix + randomToken()
	err := s.db.Write(ctx, a.scope(), func(q database.Q) error {
		c, err := store.OAuthClientByClientID(ctx, q, req.ClientID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !redirectAllowed(c.RedirectURIs, req.RedirectURI)) {
			return oauthErr("invalid_request", "the client or its redirect URI is no longer valid")
		}
		if err != nil {
			return err
		}
		err = store.InsertOAuthCode(ctx, q, HashKey(code), store.OAuthCode{ClientID: c.ID, UserID: a.UserID, RedirectURI: req.RedirectURI,
			CodeChallenge: req.CodeChallenge, Scopes: scopes, Resource: req.Resource, ExpiresAt: time.Now().Add(CodeTTL)})
		if err != nil {
			return err
		}
		return s.audit(ctx, q, a, "oauth.authorize", "success", "oauth_client", c.ClientID,
			map[string]any{"scopes": scopes, "resource": req.Resource, "redirect_uri": req.RedirectURI})
	})
	if err != nil {
		return "", err
	}
	return code, nil
}

// AuditConsentDenied records that the person refused a client.
func (s *Service) AuditConsentDenied(ctx context.Context, a Actor, clientID string) {
	s.AuditDenied(ctx, a, "oauth.consent_denied", "oauth_client", clientID, nil)
}

// TokenRequest is a token endpoint request (RFC 6749 §4.1.3, §6).
type TokenRequest struct {
	GrantType, Code, RedirectURI, ClientID, CodeVerifier, RefreshToken, Resource, Scope string
	// Resource is the canonical URI of the MCP server at the host the
	// request came to; a token is only for the host that issued it.
	HostResource string
}

// TokenResponse is a successful token response (RFC 6749 §5.1).
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

// Token answers the token endpoint: a code exchange or a refresh. Every
// outcome is audited; a refusal is an *OAuthError and issues nothing.
func (s *Service) Token(ctx context.Context, in TokenRequest, m RequestMeta) (TokenResponse, error) {
	switch in.GrantType {
	case "authorization_code":
		return s.exchangeCode(ctx, in, m)
	case "refresh_token":
		return s.refresh(ctx, in, m)
	}
	return TokenResponse{}, oauthErr("unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
}

var errBadGrant = oauthErr("invalid_grant", "the code or refresh token is invalid, expired, already used, or was issued to another client")

func (s *Service) exchangeCode(ctx context.Context, in TokenRequest, m RequestMeta) (TokenResponse, error) {
	if !strings.HasPrefix(in.Code, codePrefix) || len(in.Code) > 100 {
		s.auditGlobal(ctx, m, "oauth.token_failure", map[string]any{"reason": "malformed code"})
		return TokenResponse{}, errBadGrant
	}
	hash := HashKey(in.Code)
	tenant, err := s.db.OAuthCodeTenant(ctx, hash)
	if errors.Is(err, database.ErrNotFound) {
		s.auditGlobal(ctx, m, "oauth.token_failure", map[string]any{"reason": "unknown code"})
		return TokenResponse{}, errBadGrant
	}
	if err != nil {
		return TokenResponse{}, err
	}
	a := metaActor(tenant, m)
	var out TokenResponse
	// refusal is set, and the transaction still commits, when the refusal
	// itself changes something (a reused code revokes its grant).
	var refusal *OAuthError
	var reason string
	err = s.db.Write(ctx, a.scope(), func(q database.Q) error {
		c, err := store.OAuthCodeForUpdate(ctx, q, hash)
		if err != nil {
			return err
		}
		a.UserID = c.UserID
		if c.UsedAt != nil {
			// RFC 6749 §4.1.2: a code used twice revokes what it issued.
			refusal, reason = errBadGrant, "code reuse"
			if c.GrantID != nil {
				if err := store.RevokeOAuthGrant(ctx, q, *c.GrantID, "code reuse"); err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
			}
			return s.audit(ctx, q, a, "oauth.code_reuse", "denied", "oauth_grant", uuidString(c.GrantID), nil)
		}
		if reason = s.codeProblem(ctx, q, c, in); reason != "" {
			return errBadGrant
		}
		u, err := store.UserByID(ctx, q, c.UserID)
		if err != nil {
			return err
		}
		if !u.Active {
			reason = "user deactivated"
			return errBadGrant
		}
		scopes := withinRole(c.Scopes, u.Role)
		grant, err := store.InsertOAuthGrant(ctx, q, c.ClientID, c.UserID, scopes, c.Resource)
		if err != nil {
			return err
		}
		if err := store.RedeemOAuthCode(ctx, q, c.ID, grant); err != nil {
			return err
		}
		if out, err = issueTokens(ctx, q, grant, scopes); err != nil {
			return err
		}
		return s.audit(ctx, q, a, "oauth.token_issue", "success", "oauth_grant", grant.String(),
			map[string]any{"client_id": in.ClientID, "scopes": scopes, "resource": c.Resource})
	})
	if errors.Is(err, store.ErrNotFound) {
		err = errBadGrant
	}
	if refusal != nil {
		return TokenResponse{}, refusal
	}
	var oe *OAuthError
	if errors.As(err, &oe) {
		s.AuditDenied(ctx, a, "oauth.token_failure", "oauth_client", in.ClientID, map[string]any{"reason": reason})
	}
	return out, err
}

// codeProblem names what is wrong with redeeming c for in, or "".
func (s *Service) codeProblem(ctx context.Context, q database.Q, c store.OAuthCode, in TokenRequest) string {
	client, err := store.OAuthClientByID(ctx, q, c.ClientID)
	switch {
	case err != nil || client.ClientID != in.ClientID:
		return "code issued to another client"
	case time.Now().After(c.ExpiresAt):
		return "code expired"
	case in.RedirectURI != c.RedirectURI:
		return "redirect_uri differs from the authorization request"
	case !pkceMatches(in.CodeVerifier, c.CodeChallenge):
		return "PKCE verifier does not match"
	case in.Resource != "" && !sameResource(in.Resource, c.Resource):
		return "resource differs from the authorization request"
	case !sameResource(c.Resource, in.HostResource):
		return "code issued at another host"
	}
	return ""
}

func (s *Service) refresh(ctx context.Context, in TokenRequest, m RequestMeta) (TokenResponse, error) {
	if !strings.HasPrefix(in.RefreshToken, RefreshTokenPrefix) || len(in.RefreshToken) > 100 {
		s.auditGlobal(ctx, m, "oauth.token_failure", map[string]any{"reason": "malformed refresh token"})
		return TokenResponse{}, errBadGrant
	}
	rec, err := s.db.LookupOAuthToken(ctx, HashKey(in.RefreshToken))
	if errors.Is(err, database.ErrNotFound) || (err == nil && rec.Kind != "refresh") {
		s.auditGlobal(ctx, m, "oauth.token_failure", map[string]any{"reason": "unknown refresh token"})
		return TokenResponse{}, errBadGrant
	}
	if err != nil {
		return TokenResponse{}, err
	}
	a := metaActor(rec.TenantID, m)
	a.UserID = rec.UserID
	var out TokenResponse
	var refusal *OAuthError
	reason := ""
	err = s.db.Write(ctx, a.scope(), func(q database.Q) error {
		client, err := store.OAuthGrantClientID(ctx, q, rec.GrantID)
		if err != nil {
			return err
		}
		switch {
		case client != in.ClientID:
			reason = "refresh token issued to another client"
		case rec.RevokedAt != nil:
			reason = "grant revoked"
		case time.Now().After(rec.ExpiresAt):
			reason = "refresh token expired"
		case in.Resource != "" && !sameResource(in.Resource, rec.Resource), !sameResource(rec.Resource, in.HostResource):
			reason = "resource differs from the grant"
		case !rec.UserActive || !rec.TenantActive:
			reason = "user or tenant inactive"
		}
		if reason != "" {
			return errBadGrant
		}
		if err := store.RotateOAuthToken(ctx, q, rec.TokenID); errors.Is(err, store.ErrNotFound) {
			// A rotated refresh token presented again: it was copied.
			// Revoke the family, so neither copy works (OAuth 2.1 §4.3.1).
			refusal = errBadGrant
			if err := store.RevokeOAuthGrant(ctx, q, rec.GrantID, "refresh token reuse"); err != nil {
				return err
			}
			return s.audit(ctx, q, a, "oauth.refresh_reuse", "denied", "oauth_grant", rec.GrantID.String(), map[string]any{"client_id": client})
		} else if err != nil {
			return err
		}
		scopes := withinRole(rec.Scopes, rec.UserRole)
		if narrowed, bad := narrowScopes(scopes, in.Scope); bad {
			reason = "scope above the grant"
			return oauthErr("invalid_scope", "a refresh cannot add scopes to the grant")
		} else {
			scopes = narrowed
		}
		if out, err = issueTokens(ctx, q, rec.GrantID, scopes); err != nil {
			return err
		}
		return s.audit(ctx, q, a, "oauth.token_refresh", "success", "oauth_grant", rec.GrantID.String(), map[string]any{"client_id": client})
	})
	if refusal != nil {
		return TokenResponse{}, refusal
	}
	var oe *OAuthError
	if errors.As(err, &oe) {
		s.AuditDenied(ctx, a, "oauth.token_failure", "oauth_grant", rec.GrantID.String(), map[string]any{"reason": reason})
	}
	return out, err
}

// narrowScopes applies a refresh request's scope parameter: empty keeps
// the grant's; a subset narrows the new access token; more is refused.
func narrowScopes(granted []string, scope string) ([]string, bool) {
	asked := strings.Fields(scope)
	if len(asked) == 0 {
		return granted, false
	}
	for _, sc := range asked {
		if !slices.Contains(granted, sc) {
			return nil, true
		}
	}
	return asked, false
}

// issueTokens stores a new access and refresh token of grant.
func issueTokens(ctx context.Context, q database.Q, grant uuid.UUID, scopes []string) (TokenResponse, error) {
	access, refresh := AccessTokenPrefix+randomToken(), RefreshTokenPrefix+randomToken()
	now := time.Now()
	if err := store.InsertOAuthToken(ctx, q, grant, "access", HashKey(access), now.Add(AccessTokenTTL)); err != nil {
		return TokenResponse{}, err
	}
	if err := store.InsertOAuthToken(ctx, q, grant, "refresh", HashKey(refresh), now.Add(RefreshTokenTTL)); err != nil {
		return TokenResponse{}, err
	}
	return TokenResponse{AccessToken: access, TokenType: "Bearer", ExpiresIn: int(AccessTokenTTL.Seconds()),
		RefreshToken: refresh, Scope: strings.Join(scopes, " ")}, nil
}

// withinRole keeps the scopes a role still allows.
func withinRole(scopes []string, role string) []string {
	return slices.DeleteFunc(slices.Clone(scopes), func(sc string) bool { return !slices.Contains(roleScopes(role), sc) })
}

// authenticateOAuth turns an access token into an Actor, for the resource
// m names only (RFC 8707 audience): a token of another host or for the
// MCP server used on the REST API is refused.
func (s *Service) authenticateOAuth(ctx context.Context, secret string, m RequestMeta) (Actor, error) {
	a := Actor{Source: m.Source, RequestID: m.RequestID, RemoteAddr: m.RemoteAddr, UserAgent: m.UserAgent}
	if len(secret) > 100 {
		s.auditGlobal(ctx, m, "auth.oauth_failure", map[string]any{"reason": "malformed"})
		return a, ErrBadCredentials
	}
	rec, err := s.db.LookupOAuthToken(ctx, HashKey(secret))
	if errors.Is(err, database.ErrNotFound) || (err == nil && rec.Kind != "access") {
		s.auditGlobal(ctx, m, "auth.oauth_failure", map[string]any{"reason": "unknown"})
		return a, ErrBadCredentials
	}
	if err != nil {
		return a, err
	}
	a.TenantID, a.UserID, a.GrantID, a.Role = rec.TenantID, rec.UserID, rec.GrantID, rec.UserRole
	if reason := credentialRefusal(rec.RevokedAt, &rec.ExpiresAt, sameResource(rec.Resource, m.Resource), rec.UserActive, rec.TenantActive); reason != "" {
		s.authFailed(ctx, failure{a: a, action: "auth.oauth_failure", outcome: "denied", resType: "oauth_grant", resID: rec.GrantID.String(),
			details: map[string]any{"reason": reason, "resource": m.Resource}})
		return Actor{}, ErrBadCredentials
	}
	a.Scopes = rec.Scopes
	a = clampToRole(a)
	s.touchGrant(ctx, a)
	ratelimit.Proved(ctx)
	return a, nil
}

// touchGrant records a grant's use at most once a minute per process.
func (s *Service) touchGrant(ctx context.Context, a Actor) {
	if !s.touchDue(a.GrantID) {
		return
	}
	err := s.db.Write(ctx, a.scope(), func(q database.Q) error { return store.TouchOAuthGrant(ctx, q, a.GrantID) })
	if err != nil {
		s.log.Warn("could not record grant use", "grant", a.GrantID, "err", err)
	}
}

// RevokeToken answers the revocation endpoint (RFC 7009): the token's
// whole grant is revoked when the token is the client's. Unknown tokens
// are no error (§2.2), so the answer reveals nothing.
func (s *Service) RevokeToken(ctx context.Context, token, clientID string, m RequestMeta) error {
	if len(token) > 100 || !(strings.HasPrefix(token, AccessTokenPrefix) || strings.HasPrefix(token, RefreshTokenPrefix)) {
		return nil
	}
	rec, err := s.db.LookupOAuthToken(ctx, HashKey(token))
	if errors.Is(err, database.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	a := metaActor(rec.TenantID, m)
	a.UserID = rec.UserID
	return s.db.Write(ctx, a.scope(), func(q database.Q) error {
		client, err := store.OAuthGrantClientID(ctx, q, rec.GrantID)
		if err != nil {
			return err
		}
		if client != clientID {
			return s.audit(ctx, q, a, "oauth.revoke", "denied", "oauth_grant", rec.GrantID.String(), map[string]any{"reason": "another client's token"})
		}
		if err := store.RevokeOAuthGrant(ctx, q, rec.GrantID, "revoked by client"); err != nil {
			return err
		}
		return s.audit(ctx, q, a, "oauth.revoke", "success", "oauth_grant", rec.GrantID.String(), map[string]any{"client_id": client})
	})
}

// ListGrants lists the actor's OAuth grants, or every grant of the tenant
// when all is set (admins only).
func (s *Service) ListGrants(ctx context.Context, a Actor, all bool, limit int) ([]store.OAuthGrant, error) {
	if a.UserID == uuid.Nil && a.Role != "system" {
		return nil, errUnauthenticated
	}
	user := &a.UserID
	if all {
		if err := a.need("admin"); err != nil {
			return nil, err
		}
		user = nil
	}
	var out []store.OAuthGrant
	err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
		var err error
		out, err = store.ListOAuthGrants(ctx, q, user, limit)
		return err
	})
	return out, err
}

// RevokeGrant revokes one of the actor's grants, or any of the tenant's
// for an admin; the client is cut off at its next request.
func (s *Service) RevokeGrant(ctx context.Context, a Actor, id uuid.UUID) error {
	if err := a.need("write"); err != nil {
		return err
	}
	return s.db.Write(ctx, a.scope(), func(q database.Q) error {
		g, err := store.OAuthGrantByID(ctx, q, id)
		if errors.Is(err, store.ErrNotFound) || (err == nil && g.UserID != a.UserID && !a.isAdmin()) {
			return notFoundf("no such grant")
		}
		if err != nil {
			return err
		}
		if err := store.RevokeOAuthGrant(ctx, q, id, "revoked by "+a.Email); err != nil {
			return err
		}
		return s.audit(ctx, q, a, "oauth.grant_revoke", "success", "oauth_grant", id.String(),
			map[string]any{"client_id": g.ClientID, "user": g.UserEmail})
	})
}

// ClientRegistration is an RFC 7591 registration request (the fields
// Skillvault uses; others are ignored).
type ClientRegistration struct {
	RedirectURIs            []string `json:"redirect_uris"`
	ClientName              string   `json:"client_name"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
}

// RegisteredClient is the registration response (RFC 7591 §3.2.1).
type RegisteredClient struct {
	ClientID                string   `json:"client_id"`
	ClientIDIssuedAt        int64    `json:"client_id_issued_at"`
	ClientName              string   `json:"client_name,omitempty"`
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
}

// RegisterClient registers a public client in the tenant of the host it
// registered at (RFC 7591; deprecated by MCP in favour of Client ID
// Metadata Documents, kept for clients that still use it).
func (s *Service) RegisterClient(ctx context.Context, tenant uuid.UUID, in ClientRegistration, m RequestMeta) (RegisteredClient, error) {
	if in.TokenEndpointAuthMethod != "" && in.TokenEndpointAuthMethod != "none" {
		return RegisteredClient{}, oauthErr("invalid_client_metadata", "only public clients (token_endpoint_auth_method none, with PKCE) are supported")
	}
	for _, gt := range in.GrantTypes {
		if gt != "authorization_code" && gt != "refresh_token" {
			return RegisteredClient{}, oauthErr("invalid_client_metadata", "grant type %q is not supported", gt)
		}
	}
	if err := checkRedirectURIs(in.RedirectURIs); err != nil {
		return RegisteredClient{}, oauthErr("invalid_redirect_uri", "%s", err.Error())
	}
	if len(in.ClientName) > 200 {
		return RegisteredClient{}, oauthErr("invalid_client_metadata", "client_name is longer than 200 characters")
	}
	a := metaActor(tenant, m)
	id := "svcl_" + randomToken()
	var c store.OAuthClient
	err := s.db.Write(ctx, a.scope(), func(q database.Q) error {
		n, err := store.CountRegisteredOAuthClients(ctx, q)
		if err != nil {
			return err
		}
		if n >= maxRegisteredClients {
			return oauthErr("invalid_client_metadata", "this organisation has too many registered clients; use a Client ID Metadata Document")
		}
		if c, err = store.UpsertOAuthClient(ctx, q, id, "registered", strings.TrimSpace(in.ClientName), in.RedirectURIs); err != nil {
			return err
		}
		return s.audit(ctx, q, a, "oauth.client_register", "success", "oauth_client", id,
			map[string]any{"client_name": c.Name, "redirect_uris": c.RedirectURIs})
	})
	if err != nil {
		return RegisteredClient{}, err
	}
	return RegisteredClient{ClientID: c.ClientID, ClientIDIssuedAt: c.CreatedAt.Unix(), ClientName: c.Name, RedirectURIs: c.RedirectURIs,
		TokenEndpointAuthMethod: "none", GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"}}, nil
}

// clientMetadata is the part of a Client ID Metadata Document used here.
type clientMetadata struct {
	ClientID                string   `json:"client_id"`
	Name                    string   `json:"client_name"`
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	ClientSecret            *string  `json:"client_secret"`
}

// fetchClientMetadata fetches and checks a Client ID Metadata Document
// through the egress client: no internal addresses unless the operator
// allows them, no redirects, bounded size and time. What went wrong is
// told by category only; the remote body stays in the log.
func (s *Service) fetchClientMetadata(ctx context.Context, clientID string) (clientMetadata, error) {
	var doc clientMetadata
	body, err := s.egress.GetJSON(ctx, clientID, maxClientMetadata, clientMetadataTimeout)
	if err != nil {
		s.log.Warn("client metadata fetch failed", "client_id", clientID, "err", err)
		return doc, oauthErr("invalid_client", "the client's metadata document could not be fetched: %s", egress.Category(err))
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return doc, oauthErr("invalid_client", "the client's metadata document is not valid JSON")
	}
	switch {
	case doc.ClientID != clientID:
		return doc, oauthErr("invalid_client", "the client's metadata document names another client_id")
	case doc.ClientSecret != nil:
		return doc, oauthErr("invalid_client", "a client metadata document must not carry a client_secret")
	case doc.TokenEndpointAuthMethod != "" && doc.TokenEndpointAuthMethod != "none":
		return doc, oauthErr("invalid_client", "only public clients (token_endpoint_auth_method none) are supported")
	case len(doc.Name) > 200:
		return doc, oauthErr("invalid_client", "client_name is longer than 200 characters")
	}
	if err := checkRedirectURIs(doc.RedirectURIs); err != nil {
		return doc, oauthErr("invalid_client", "the client's metadata document: %s", err.Error())
	}
	doc.Name = strings.TrimSpace(doc.Name)
	return doc, nil
}

// isMetadataClientID reports whether a client_id is a Client ID Metadata
// Document URL: https, with a path, no fragment, user or dot segments.
func isMetadataClientID(id string) bool {
	if len(id) > 2000 || !strings.HasPrefix(id, "https://") {
		return false
	}
	u, err := url.Parse(id)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" || u.RawFragment != "" {
		return false
	}
	if u.Path == "" || u.Path == "/" {
		return false
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// checkRedirectURIs accepts https URIs and, for native clients, http on a
// loopback address (RFC 8252 §7.3); nothing with a fragment or user.
func checkRedirectURIs(uris []string) error {
	if len(uris) == 0 || len(uris) > 20 {
		return errors.New("redirect_uris must list 1 to 20 URIs")
	}
	for _, s := range uris {
		u, err := url.Parse(s)
		if err != nil || len(s) > 2000 || u.Host == "" || u.User != nil || u.Fragment != "" || strings.Contains(s, "#") {
			return fmt.Errorf("redirect URI %q is not an absolute URI without fragment", s)
		}
		if u.Scheme != "https" && !(u.Scheme == "http" && isLoopbackHost(u.Hostname())) {
			return fmt.Errorf("redirect URI %q must use https, or http on a loopback address", s)
		}
	}
	return nil
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// redirectAllowed compares a redirect URI with the registered ones
// exactly, except that a loopback http URI may use any port (RFC 8252
// §7.3: a native client listens on a port of the moment).
func redirectAllowed(registered []string, got string) bool {
	if slices.Contains(registered, got) {
		return true
	}
	g, err := url.Parse(got)
	if err != nil || g.Scheme != "http" || !isLoopbackHost(g.Hostname()) || g.User != nil || g.Fragment != "" {
		return false
	}
	for _, r := range registered {
		u, err := url.Parse(r)
		if err == nil && u.Scheme == "http" && u.Hostname() == g.Hostname() && u.Path == g.Path && u.RawQuery == g.RawQuery {
			return true
		}
	}
	return false
}

func validChallenge(c string) bool {
	if len(c) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(c)
	return err == nil
}

// pkceMatches checks a code_verifier against an S256 challenge (RFC 7636
// §4.6); a verifier must be 43 to 128 characters.
func pkceMatches(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}

// CanonicalResource is the form resources are compared in: scheme and
// host lower case, no trailing slash, no fragment.
func CanonicalResource(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	u.Scheme, u.Host, u.Fragment, u.RawFragment = strings.ToLower(u.Scheme), strings.ToLower(u.Host), "", ""
	return strings.TrimSuffix(u.String(), "/")
}

func sameResource(a, b string) bool {
	ca := CanonicalResource(a)
	return ca != "" && ca == CanonicalResource(b)
}

func uuidString(id *uuid.UUID) string {
	if id == nil {
		return ""
	}
	return id.String()
}
