package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/uuid"
	"golang.org/x/oauth2"

	"github.com/skillvault/skillvault/internal/service"
)

const (
	sessionCookie = "sv_session"
	preCookie     = "sv_pre"  // the pre-session token of the guard (double submit)
	oidcCookie    = "sv_oidc" // state, nonce and PKCE verifier of one OIDC flow
)

func random() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// cookieName is the name a cookie has on this request. Every cookie of
// the UI is host-only (no Domain), Path=/, HttpOnly and SameSite=Lax: no
// tenant host shares one with another. When the browser reaches us over
// TLS (or through an https BaseURL) the names carry the __Host- prefix,
// with which the browser also refuses a cookie of that name that a sibling
// host (another tenant's subdomain) or a plain-HTTP answer tries to set,
// so none can be planted for the guard's double submit.
//
// Over plain HTTP the prefix cannot be used. Measured with Chromium 156:
// it keeps Secure and __Host- cookies set by http://127.0.0.1 and
// http://localhost (trustworthy origins) but drops them when set by
// http://acme.example.test (a name mapped to 127.0.0.1), so tenant hosts
// over plain HTTP would sign no one in; Go's cookie jar likewise sends
// Secure cookies over plain HTTP only to loopback. So plain HTTP keeps
// the plain names, still host-only (TestChromiumCookieRules).
func (wb *Web) cookieName(r *http.Request, name string) string {
	if wb.secure(r) {
		return "__Host-" + name
	}
	return name
}

func (wb *Web) cookie(r *http.Request, name, value string, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{Name: wb.cookieName(r, name), Value: value, Path: "/", HttpOnly: true, Secure: wb.secure(r), SameSite: http.SameSiteLaxMode}
	if maxAge > 0 {
		c.MaxAge = int(maxAge.Seconds())
	} else if maxAge < 0 {
		c.MaxAge = -1
	}
	return c
}

// readCookie returns the value of the request's cookie name, "" without.
func (wb *Web) readCookie(r *http.Request, name string) string {
	ck, err := r.Cookie(wb.cookieName(r, name))
	if err != nil {
		return ""
	}
	return ck.Value
}

// setSession puts a new session's token in its cookie.
func (wb *Web) setSession(w http.ResponseWriter, r *http.Request, s service.NewSession) {
	http.SetCookie(w, wb.cookie(r, sessionCookie, s.Token, time.Until(s.ExpiresAt)))
}

func (wb *Web) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := wb.session(r); ok {
		http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	data := map[string]any{"OIDC": wb.oidc != nil, "OIDCName": wb.cfg.OIDC.Name, "Next": localPath(r.URL.Query().Get("next"))}
	if data["OIDCName"] == "" {
		data["OIDCName"] = "single sign-on"
	}
	wb.render(w, r, nil, http.StatusOK, "login", "Sign in", data)
}

// loginLinkPage asks for a click before a link is used, so link scanners
// and previews that fetch it do not spend it.
func (wb *Web) loginLinkPage(w http.ResponseWriter, r *http.Request) {
	tok := r.PathValue("token")
	if wb.foreignToken(r, tok) {
		wb.linkFailed(w, r, service.ErrSignInFailed)
		return
	}
	email, err := wb.svc.LoginLinkInfo(r.Context(), tok)
	if err != nil {
		wb.linkFailed(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	wb.render(w, r, nil, http.StatusOK, "login_link", "Sign in", map[string]any{"Email": email, "CSRF": wb.formToken(w, r), "Token": tok})
}

// formToken is the token the guard will want from a form on a page shown
// without a session's data: the session's when the browser has one, else
// a new pre-session token in its cookie.
func (wb *Web) formToken(w http.ResponseWriter, r *http.Request) string {
	if c, ok := wb.requestSession(r); ok {
		return c.S.CSRF
	}
	pre := random()
	http.SetCookie(w, wb.cookie(r, preCookie, pre, 15*time.Minute))
	return pre
}

func (wb *Web) linkFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, service.ErrSignInFailed) {
		wb.render(w, r, nil, http.StatusGone, "error", "Sign-in link not valid", map[string]any{"Status": http.StatusGone,
			"Message": "This sign-in link has been used already, has expired, or is not a link this server issued. Ask your administrator for a new one.", "SignIn": true})
		return
	}
	wb.fail(w, r, nil, err)
}

// loginLinkPost redeems a login link; the guard has checked the form's
// pre-session token.
func (wb *Web) loginLinkPost(w http.ResponseWriter, r *http.Request) {
	tok := r.PathValue("token")
	if wb.foreignToken(r, tok) {
		wb.linkFailed(w, r, service.ErrSignInFailed)
		return
	}
	s, err := wb.svc.RedeemLoginLink(r.Context(), tok, wb.meta(r))
	if err != nil {
		wb.linkFailed(w, r, err)
		return
	}
	http.SetCookie(w, wb.cookie(r, preCookie, "", -1))
	wb.setSession(w, r, s)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// logout ends the browser's session, if it has one; the guard has checked
// the form's token.
func (wb *Web) logout(w http.ResponseWriter, r *http.Request) {
	if _, ok := wb.requestSession(r); ok {
		if err := wb.svc.SignOut(r.Context(), wb.readCookie(r, sessionCookie), wb.meta(r)); err != nil {
			wb.log.Error("sign-out failed", "err", err)
		}
	}
	http.SetCookie(w, wb.cookie(r, sessionCookie, "", -1))
	http.Redirect(w, r, "/login?signed_out=1", http.StatusSeeOther)
}

func (wb *Web) logoutEverywhere(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	if _, err := wb.svc.SignOutEverywhere(r.Context(), c.A); err != nil {
		return err
	}
	http.SetCookie(w, wb.cookie(r, sessionCookie, "", -1))
	http.Redirect(w, r, "/login?signed_out=1", http.StatusSeeOther)
	return nil
}

// oidcClient discovers its provider on first use, so the server starts
// even while the provider is down.
type oidcClient struct {
	cfg OIDCConfig
	mu  sync.Mutex
	p   *oidc.Provider
}

func newOIDCClient(cfg OIDCConfig) *oidcClient { return &oidcClient{cfg: cfg} }

func (o *oidcClient) provider(ctx context.Context) (*oidc.Provider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.p != nil {
		return o.p, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(oidc.ClientContext(context.WithoutCancel(ctx), http.DefaultClient), o.cfg.Issuer)
	if err != nil {
		return nil, err
	}
	o.p = p
	return p, nil
}

// redirectURL is where the provider sends the browser back: this host, so
// a tenant's own host keeps its cookies.
func (wb *Web) redirectURL(r *http.Request) string {
	scheme := "http"
	if wb.secure(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/auth/oidc/callback"
}

func (wb *Web) oauth(p *oidc.Provider, r *http.Request) *oauth2.Config {
	return &oauth2.Config{ClientID: wb.cfg.OIDC.ClientID, ClientSecret: wb.cfg.OIDC.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: wb.redirectURL(r), Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}
}

type oidcFlow struct {
	State, Nonce, Verifier, Next string
}

func (wb *Web) oidcStart(w http.ResponseWriter, r *http.Request) {
	if wb.oidc == nil {
		wb.errorPage(w, r, nil, http.StatusNotFound, "Page not found", "Single sign-on is not configured on this server.")
		return
	}
	p, err := wb.oidc.provider(r.Context())
	if err != nil {
		wb.log.Error("OIDC discovery failed", "issuer", wb.cfg.OIDC.Issuer, "err", err)
		wb.errorPage(w, r, nil, http.StatusBadGateway, "Sign-in unavailable", "The identity provider cannot be reached. Try again in a moment.")
		return
	}
	f := oidcFlow{State: random(), Nonce: random(), Verifier: oauth2.GenerateVerifier(), Next: localPath(r.URL.Query().Get("next"))}
	data, _ := json.Marshal(f)
	http.SetCookie(w, wb.cookie(r, oidcCookie, base64.RawURLEncoding.EncodeToString(data), 10*time.Minute))
	u := wb.oauth(p, r).AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier))
	http.Redirect(w, r, u, http.StatusFound)
}

// oidcFail audits a failed sign-in and shows why.
func (wb *Web) oidcFail(w http.ResponseWriter, r *http.Request, tenant uuid.UUID, reason, title, msg string, details map[string]any) {
	wb.svc.AuditSignInFailure(r.Context(), tenant, "oidc", reason, wb.meta(r), details)
	wb.render(w, r, nil, http.StatusForbidden, "error", title, map[string]any{"Status": http.StatusForbidden, "Message": msg, "SignIn": true})
}

func (wb *Web) oidcCallback(w http.ResponseWriter, r *http.Request) {
	if wb.oidc == nil {
		wb.errorPage(w, r, nil, http.StatusNotFound, "Page not found", "Single sign-on is not configured on this server.")
		return
	}
	ht, hostNamed := uuid.Nil, false
	if wb.cfg.HostTenant != nil {
		ht, hostNamed = wb.cfg.HostTenant(r)
	}
	var f oidcFlow
	data, err := base64.RawURLEncoding.DecodeString(wb.readCookie(r, oidcCookie))
	if err == nil {
		err = json.Unmarshal(data, &f)
	}
	http.SetCookie(w, wb.cookie(r, oidcCookie, "", -1))
	q := r.URL.Query()
	switch {
	case err != nil || f.State == "":
		wb.oidcFail(w, r, ht, "no flow", "Sign-in failed", "The sign-in took too long or was started in another browser. Please try again.", nil)
		return
	case !tokenEqual(q.Get("state"), f.State):
		wb.oidcFail(w, r, ht, "state mismatch", "Sign-in failed", "The answer of the identity provider does not belong to this sign-in. Please try again.", nil)
		return
	case q.Get("error") != "":
		wb.oidcFail(w, r, ht, "provider error", "Sign-in failed", "The identity provider refused the sign-in: "+q.Get("error")+".", map[string]any{"error": q.Get("error")})
		return
	}
	p, err := wb.oidc.provider(r.Context())
	if err != nil {
		wb.errorPage(w, r, nil, http.StatusBadGateway, "Sign-in unavailable", "The identity provider cannot be reached. Try again in a moment.")
		return
	}
	ctx := oidc.ClientContext(r.Context(), http.DefaultClient)
	tok, err := wb.oauth(p, r).Exchange(ctx, q.Get("code"), oauth2.VerifierOption(f.Verifier))
	if err != nil {
		wb.oidcFail(w, r, ht, "code exchange failed", "Sign-in failed", "The identity provider did not accept the sign-in code. Please try again.", map[string]any{"error": err.Error()})
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&oidc.Config{ClientID: wb.cfg.OIDC.ClientID}).Verify(ctx, raw)
	if err != nil {
		wb.oidcFail(w, r, ht, "invalid id token", "Sign-in failed", "The identity provider's answer could not be verified.", map[string]any{"error": err.Error()})
		return
	}
	if !tokenEqual(idt.Nonce, f.Nonce) {
		wb.oidcFail(w, r, ht, "nonce mismatch", "Sign-in failed", "The identity provider's answer does not belong to this sign-in. Please try again.", nil)
		return
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified any    `json:"email_verified"` // some providers send "true"
		Name          string `json:"name"`
	}
	if err := idt.Claims(&claims); err != nil {
		wb.oidcFail(w, r, ht, "bad claims", "Sign-in failed", "The identity provider's answer has no usable email address.", nil)
		return
	}
	verified := claims.EmailVerified == true || claims.EmailVerified == "true"
	id := service.Identity{Email: strings.ToLower(strings.TrimSpace(claims.Email)), EmailVerified: verified, Name: claims.Name, Subject: idt.Subject, Issuer: idt.Issuer}
	if !verified || id.Email == "" {
		wb.oidcFail(w, r, ht, "email not verified", "Email address not verified",
			"Your identity provider has not verified your email address, so it cannot be used to choose your organisation. Verify it there, then sign in again.",
			map[string]any{"email": id.Email})
		return
	}
	tenant := ht
	if !hostNamed {
		_, domain, _ := strings.Cut(id.Email, "@")
		tenant, err = wb.svc.TenantByEmailDomain(r.Context(), domain)
		if err != nil {
			if service.KindOf(err) != service.NotFound {
				wb.fail(w, r, nil, err)
				return
			}
			wb.oidcFail(w, r, uuid.Nil, "unknown email domain", "No organisation for "+domain,
				"No organisation on this Skillvault signs in with @"+domain+" addresses. If yours should, ask its administrator to set its email domain, or use your organisation's own Skillvault address.",
				map[string]any{"email": id.Email})
			return
		}
	}
	s, err := wb.svc.SignInIdentity(r.Context(), tenant, id, wb.meta(r))
	if err != nil {
		if errors.Is(err, service.ErrSignInFailed) {
			wb.render(w, r, nil, http.StatusForbidden, "error", "No access", map[string]any{"Status": http.StatusForbidden, "SignIn": true,
				"Message": "You (" + id.Email + ") are not a member of this organisation on Skillvault. Ask one of its administrators to add you."})
			return
		}
		wb.fail(w, r, nil, err)
		return
	}
	wb.setSession(w, r, s)
	http.Redirect(w, r, localPath(f.Next), http.StatusSeeOther)
}
