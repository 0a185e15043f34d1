// Package web is Skillvault's browser interface: server-rendered pages
// (html/template), embedded assets, and a little JavaScript that only
// enhances. People sign in with OpenID Connect or a one-time login link;
// every page runs with the signed-in user's Actor, so the service and
// row-level security keep each tenant to its own data.
package web

import (
	"crypto/subtle"
	"embed"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/api"
	"github.com/skillvault/skillvault/internal/service"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// OIDCConfig names an OpenID Connect provider. Sign-in with it is offered
// when Issuer is set.
type OIDCConfig struct {
	Issuer       string // e.g. https://accounts.example.com
	ClientID     string
	ClientSecret string
	// Name labels the sign-in button ("Sign in with <Name>").
	Name string
}

// Config configures the web UI.
type Config struct {
	Logger *slog.Logger
	// HostTenant resolves a request's host to a tenant when the host names
	// one (subdomain or vanity domain); server.Server.HostTenant.
	HostTenant func(r *http.Request) (uuid.UUID, bool)
	OIDC       OIDCConfig
	// BaseURL is the external address (https://skills.example.com) when
	// the server sits behind a proxy; an https URL marks cookies Secure.
	BaseURL string
	// MaxUploadBytes bounds a bundle upload (default 64 MiB).
	MaxUploadBytes int64
	// Allow applies the per-credential and per-tenant rate limits to a
	// signed-in request and answers 429 itself when one refuses
	// (api.Allow, shared with REST, MCP and discovery); nil for none.
	Allow func(w http.ResponseWriter, r *http.Request, a service.Actor) bool
}

// Web serves the browser interface.
type Web struct {
	svc   *service.Service
	cfg   Config
	log   *slog.Logger
	pages map[string]*pageTemplate
	oidc  *oidcClient
	css   []byte // syntax highlighting styles
	// routes are the patterns Register mounted, for the tests that
	// request every one of them.
	routes []string
}

// New returns the web UI over svc.
func New(svc *service.Service, cfg Config) *Web {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = 64 << 20
	}
	w := &Web{svc: svc, cfg: cfg, log: cfg.Logger, pages: parsePages(), css: highlightCSS()}
	if cfg.OIDC.Issuer != "" {
		w.oidc = newOIDCClient(cfg.OIDC)
	}
	return w
}

// handler is a page handler of a signed-in user; a returned error is shown
// as an error page.
type handler func(w http.ResponseWriter, r *http.Request, c *reqCtx) error

// reqCtx is what a handler knows of the request.
type reqCtx struct {
	A     service.Actor
	S     service.SessionState
	Nonce string
}

func (c *reqCtx) admin() bool { return c.A.Role == "admin" }

// Mux is where Register mounts the UI: an *http.ServeMux.
type Mux interface {
	Handle(pattern string, h http.Handler)
}

// Register mounts the UI on mux as its catch-all "/". Every route of the
// UI lives on a mux of its own behind the security headers and the CSRF
// guard, so no route of the UI can be added that skips them; the more
// specific patterns of the API, MCP and discovery stay theirs.
func (wb *Web) Register(mux Mux) {
	ui := http.NewServeMux()
	wb.routes = nil
	handle := func(p string, h http.Handler) {
		wb.routes = append(wb.routes, p)
		ui.Handle(p, h)
	}
	static, _ := fs.Sub(staticFS, "static")
	files := http.FileServerFS(static)
	handle("GET /static/", http.StripPrefix("/static/", cacheStatic(files)))
	handle("GET /static/code.css", http.HandlerFunc(wb.codeCSS))

	pub := func(p string, h http.HandlerFunc) { handle(p, h) }
	pub("GET /login", wb.loginPage)
	pub("GET /login/{token}", wb.loginLinkPage)
	pub("POST /login/{token}", wb.loginLinkPost)
	pub("GET /auth/oidc/start", wb.oidcStart)
	pub("GET /auth/oidc/callback", wb.oidcCallback)
	pub("POST /logout", wb.logout)

	auth := func(p string, h handler) { handle(p, wb.authed(h)) }
	auth("GET /{$}", wb.home)
	auth("GET /search", wb.search)
	auth("GET /skills/{name}", wb.skillPage)
	auth("GET /skills/{name}/files/{path...}", wb.filePage)
	auth("GET /skills/{name}/versions", wb.versionsPage)
	auth("GET /skills/{name}/diff", wb.diffPage)
	auth("GET /skills/{name}/download", wb.download)
	auth("POST /skills/{name}/rate", wb.rate)
	auth("POST /skills/{name}/fork", wb.fork)
	auth("POST /skills/{name}/publish", wb.publishSkill)
	auth("GET /publish", wb.publishPage)
	auth("POST /publish", wb.publishPost)
	auth("GET /me/skills", wb.mySkills)
	auth("GET /me/keys", wb.myKeys)
	auth("POST /me/keys", wb.createKey)
	auth("GET /me/keys/{id}", wb.keyPage)
	auth("POST /me/keys/{id}/revoke", wb.revokeKey)
	auth("POST /logout/everywhere", wb.logoutEverywhere)
	auth("GET /oauth/authorize", wb.authorizePage)
	auth("POST /oauth/authorize", wb.authorizeDecision)
	auth("POST /me/grants/{id}/revoke", wb.revokeGrant)

	auth("GET /admin/{$}", wb.adminOnly(wb.adminHome))
	auth("GET /admin/users", wb.adminOnly(wb.adminUsers))
	auth("POST /admin/users", wb.adminOnly(wb.adminCreateUser))
	auth("POST /admin/users/{id}", wb.adminOnly(wb.adminUpdateUser))
	auth("GET /admin/keys", wb.adminOnly(wb.adminKeys))
	auth("POST /admin/keys/{id}/revoke", wb.adminOnly(wb.adminRevokeKey))
	auth("POST /admin/grants/{id}/revoke", wb.adminOnly(wb.revokeGrant))
	auth("GET /admin/settings", wb.adminOnly(wb.adminSettings))
	auth("POST /admin/settings", wb.adminOnly(wb.adminSaveSettings))
	auth("GET /admin/audit", wb.adminOnly(wb.adminAudit))
	auth("GET /admin/audit/{id}", wb.adminOnly(wb.adminAuditEntry))
	auth("GET /admin/analytics", wb.adminOnly(wb.adminAnalytics))
	auth("GET /admin/reviews", wb.adminOnly(wb.adminReviews))
	auth("POST /admin/reviews/{name}", wb.adminOnly(wb.adminDecide))

	// Anything else the UI does not know is its 404 page.
	handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := wb.requestSession(r)
		wb.errorPage(w, r, c, http.StatusNotFound, "Page not found", "There is no page at this address.")
	}))
	mux.Handle("/", wb.headers(wb.guard(ui)))
}

// csp allows no inline script or style: every script and style is a file
// of ours.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// headers adds the security headers every UI response carries.
func (wb *Web) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if wb.secure(r) {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

func cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}

// secure reports whether the browser reaches us over TLS.
func (wb *Web) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(wb.cfg.BaseURL, "https://")
}

func (wb *Web) meta(r *http.Request) service.RequestMeta {
	return service.RequestMeta{RequestID: api.RequestID(r.Context()), RemoteAddr: r.RemoteAddr, UserAgent: r.UserAgent(), Source: "web"}
}

// session returns the signed-in user of the request, if any. A session of
// another tenant than the one the host names is no session here.
func (wb *Web) session(r *http.Request) (*reqCtx, bool) {
	tok := wb.readCookie(r, sessionCookie)
	if tok == "" {
		return nil, false
	}
	if wb.foreignToken(r, tok) {
		return nil, false
	}
	a, st, err := wb.svc.SessionActor(r.Context(), tok, wb.meta(r))
	if err != nil {
		if !errors.Is(err, service.ErrSignInFailed) {
			wb.log.Error("session look-up failed", "err", err)
		}
		return nil, false
	}
	return &reqCtx{A: a, S: st}, true
}

// authed runs h for a signed-in user and sends others to the sign-in
// page. The guard has checked the CSRF token and origin already.
func (wb *Web) authed(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		c, ok := wb.requestSession(r)
		if !ok {
			if !safeMethod(r.Method) {
				wb.errorPage(w, r, nil, http.StatusUnauthorized, "Please sign in", "Your session has ended. Sign in again, then repeat what you were doing.")
				return
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if wb.cfg.Allow != nil && !wb.cfg.Allow(w, r, c.A) {
			return
		}
		if err := h(w, r, c); err != nil {
			wb.fail(w, r, c, err)
		}
	})
}

// AuditCSRF records a refused cross-site or stale form.
func (wb *Web) AuditCSRF(r *http.Request, c *reqCtx) {
	wb.svc.AuditDenied(r.Context(), c.A, "web.csrf_refused", "path", r.URL.Path, nil)
}

func tokenEqual(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// adminOnly shows the 403 page to members.
func (wb *Web) adminOnly(h handler) handler {
	return func(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
		if !c.admin() {
			wb.svc.AuditDenied(r.Context(), c.A, "web.admin_denied", "path", r.URL.Path, nil)
			wb.errorPage(w, r, c, http.StatusForbidden, "Admins only", "This page is for the administrators of your organisation.")
			return nil
		}
		return h(w, r, c)
	}
}

// fail shows an error as the page its kind calls for. Not-found is one
// page for every missing thing, so another tenant's skill looks exactly
// like a skill that does not exist.
func (wb *Web) fail(w http.ResponseWriter, r *http.Request, c *reqCtx, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		wb.errorPage(w, r, c, http.StatusRequestEntityTooLarge, "Upload too large", "The upload is larger than this server accepts.")
		return
	}
	switch service.KindOf(err) {
	case service.NotFound:
		wb.errorPage(w, r, c, http.StatusNotFound, "Page not found", "There is no page at this address.")
	case service.Forbidden:
		e, _ := service.AsError(err)
		wb.errorPage(w, r, c, http.StatusForbidden, "Not allowed", e.Msg)
	case service.Invalid, service.Conflict:
		e, _ := service.AsError(err)
		msg := err.Error()
		if e != nil {
			msg = e.Msg
		}
		wb.errorPage(w, r, c, http.StatusBadRequest, "That did not work", msg)
	case service.TooLarge:
		msg := "The upload is larger than this server accepts."
		if e, ok := service.AsError(err); ok {
			msg = e.Msg // a quota names itself, its limit and the usage
		}
		wb.errorPage(w, r, c, http.StatusRequestEntityTooLarge, "Too large", msg)
	case service.Unauthenticated:
		wb.errorPage(w, r, c, http.StatusUnauthorized, "Please sign in", "Sign in to continue.")
	case service.Unavailable:
		wb.errorPage(w, r, c, http.StatusServiceUnavailable, "Temporarily unavailable", "The database is not answering. Try again in a moment.")
	default:
		wb.log.Error("web page failed", "path", r.URL.Path, "request_id", api.RequestID(r.Context()), "err", err)
		wb.errorPage(w, r, c, http.StatusInternalServerError, "Something went wrong", "The error was logged. Try again, and tell your administrator if it persists.")
	}
}

// errorPage renders the error template with status.
func (wb *Web) errorPage(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, title, msg string) {
	wb.render(w, r, c, status, "error", title, map[string]any{"Status": status, "Message": msg})
}

// localPath returns next when it is a path of this site, "/" otherwise,
// so a sign-in never redirects to another site. Every redirect to an
// address the caller chose goes through it.
func localPath(next string) string {
	if !isLocalPath(next) {
		return "/"
	}
	return next
}

// isLocalPath reports whether s is only a path (and query) on this origin:
// it parses with no scheme, host or user, and, as sent and once
// percent-decoded, it starts with exactly one "/" and has no backslash and
// no control character. Browsers drop tabs and newlines inside a URL and
// read "\" as "/", so "/\t/evil.example" and "/\evil" are other sites.
func isLocalPath(s string) bool {
	dec, err := url.PathUnescape(s)
	if err != nil || !plainPath(s) || !plainPath(dec) {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil && u.Opaque == ""
}

func plainPath(s string) bool {
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.ContainsRune(s, '\\') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return false
		}
	}
	return true
}

func since(t time.Time) string {
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d.Minutes()), "minute") + " ago"
	case d < 48*time.Hour:
		return plural(int(d.Hours()), "hour") + " ago"
	case d < 60*24*time.Hour:
		return plural(int(d.Hours()/24), "day") + " ago"
	}
	return t.UTC().Format(dayFormat)
}

func (wb *Web) codeCSS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(wb.css)
}

// foreignToken reports whether a session or login-link token belongs to
// another tenant than the one the request's host names. Such a token is
// no token here: it is refused before the service looks it up, so a page
// of one tenant cannot spend, or write audit rows about, another's links.
func (wb *Web) foreignToken(r *http.Request, tok string) bool {
	t, ok := service.TokenTenant(tok)
	if !ok || wb.cfg.HostTenant == nil {
		return false
	}
	ht, named := wb.cfg.HostTenant(r)
	return named && ht != t
}
