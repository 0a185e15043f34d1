package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/oauth"
	"github.com/skillvault/skillvault/internal/service"
)

// The person's side of OAuth: /oauth/authorize. A signed-in person (the
// usual sign-in, OIDC or login link, on the tenant's host) sees who asks
// for what and approves or denies; the decision is a form like any other,
// so the CSRF guard covers it. Errors about the client or its redirect
// URI are shown here and never redirected (the URI is not trusted yet);
// every other error goes back to the client with state and iss (RFC 9207).

func authorizationRequest(v url.Values) service.AuthorizationRequest {
	return service.AuthorizationRequest{ResponseType: v.Get("response_type"), ClientID: v.Get("client_id"),
		RedirectURI: v.Get("redirect_uri"), State: v.Get("state"), CodeChallenge: v.Get("code_challenge"),
		CodeChallengeMethod: v.Get("code_challenge_method"), Scope: v.Get("scope"), Resource: v.Get("resource")}
}

func (wb *Web) authorizePage(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	req := authorizationRequest(r.URL.Query())
	client, err := wb.svc.ResolveClient(r.Context(), c.A, req.ClientID, req.RedirectURI)
	if err != nil {
		return wb.clientProblem(w, r, c, err)
	}
	scopes, oerr := service.CheckAuthorization(c.A, req, oauth.Resource(r))
	if oerr != nil {
		redirectResult(w, r, req, url.Values{"error": {oerr.Code}, "error_description": {oerr.Description}})
		return nil
	}
	// The approval is a form whose answer redirects to the client:
	// form-action must allow that origin, or the browser stops there.
	if o := redirectOrigin(req.RedirectURI); o != "" {
		w.Header().Set("Content-Security-Policy", strings.Replace(csp, "form-action 'self'", "form-action 'self' "+o, 1))
	}
	wb.render(w, r, c, http.StatusOK, "oauth_consent", "Allow "+client.Name+"?", map[string]any{
		"Client": client, "Scopes": scopes, "Req": req, "Resource": oauth.Resource(r)})
	return nil
}

func (wb *Web) authorizeDecision(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	decision := r.PostFormValue("decision") // parses the form of either encoding
	req := authorizationRequest(r.PostForm)
	if _, err := wb.svc.ResolveStoredClient(r.Context(), c.A, req.ClientID, req.RedirectURI); err != nil {
		return wb.clientProblem(w, r, c, err)
	}
	if decision != "approve" {
		wb.svc.AuditConsentDenied(r.Context(), c.A, req.ClientID)
		redirectResult(w, r, req, url.Values{"error": {"access_denied"}, "error_description": {"the person declined"}})
		return nil
	}
	scopes, oerr := service.CheckAuthorization(c.A, req, oauth.Resource(r))
	if oerr != nil {
		redirectResult(w, r, req, url.Values{"error": {oerr.Code}, "error_description": {oerr.Description}})
		return nil
	}
	code, err := wb.svc.IssueCode(r.Context(), c.A, req, scopes)
	if err != nil {
		return wb.clientProblem(w, r, c, err)
	}
	redirectResult(w, r, req, url.Values{"code": {code}})
	return nil
}

// clientProblem shows an error about the client itself to the person.
func (wb *Web) clientProblem(w http.ResponseWriter, r *http.Request, c *reqCtx, err error) error {
	var oe *service.OAuthError
	if errors.As(err, &oe) {
		wb.errorPage(w, r, c, http.StatusBadRequest, "This application cannot sign in", oe.Description)
		return nil
	}
	return err
}

// redirectResult sends the browser back to the client's redirect URI
// (checked against the client's registration) with the result, the state
// and the issuer.
func redirectResult(w http.ResponseWriter, r *http.Request, req service.AuthorizationRequest, params url.Values) {
	u, err := url.Parse(req.RedirectURI)
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	if req.State != "" {
		q.Set("state", req.State)
	}
	q.Set("iss", oauth.Issuer(r))
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

// redirectOrigin is the scheme://host[:port] of a redirect URI, for the
// page's CSP; "" when it has characters a CSP source may not.
func redirectOrigin(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || strings.ContainsAny(u.Host, " ;,'\"") {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

func (wb *Web) revokeGrant(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		return &service.Error{Kind: service.NotFound, Msg: "no such grant"}
	}
	if err := wb.svc.RevokeGrant(r.Context(), c.A, id); err != nil {
		return err
	}
	to := "/me/keys?revoked=1"
	if strings.HasPrefix(r.URL.Path, "/admin/") {
		to = "/admin/keys?revoked=1"
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}
