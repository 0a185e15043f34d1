// Package gitserve serves each tenant's skills as a read-only git
// repository over git's smart HTTP protocol, so that agents' own
// installers (`npx skills add`, `claude plugin marketplace add`, plain
// `git clone`) install private skills with git's own credentials.
//
// The repository is generated from the registry for the caller's view:
// skills/<name>/… at each published version, .claude-plugin/marketplace.json
// (one plugin per skill) and README.md on main, and a tag <skill>/v<N> per
// version. Commits have a fixed author and the newest publish time, so a
// view always has the same commit ids. Generated repositories are cached
// per (tenant, view) and streamed by git's own `git http-backend` (git is
// a runtime dependency of the server), which speaks protocol v0, v1 and v2
// and shallow clones.
//
// Two URLs serve the host's tenant: /git/skills.git answers anonymous
// callers with the public published skills when the tenant's public
// discovery is on (and asks for credentials otherwise), and
// /git/auth/skills.git always asks for credentials, for members of a
// public tenant who want their private skills too. Credentials are HTTP
// Basic with any user name and an API key as the password.
package gitserve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/api"
	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/service"
)

// Paths are the repositories served on every tenant host.
const (
	PublicPath = "/git/skills.git"      // anonymous callers see public skills
	AuthPath   = "/git/auth/skills.git" // always asks for credentials
)

// maxRequestBody bounds an upload-pack request (its wants and haves).
const maxRequestBody = 16 << 20

// Options connect the git endpoint to the server.
type Options struct {
	// Auth turns a request's bearer API key into an Actor (api.Authenticate).
	Auth func(*http.Request) (service.Actor, error)
	// HostTenant resolves a host that names a tenant; it reports false for
	// a host that names none, which is served the "default" tenant.
	HostTenant func(*http.Request) (uuid.UUID, bool)
	// Allow applies the per-key and per-tenant rate limits and answers 429
	// itself when one refuses (api.Allow); nil for none.
	Allow func(w http.ResponseWriter, r *http.Request, a service.Actor) bool
	// Git is the git binary; empty looks for "git" on PATH.
	Git string
	// Dir holds the generated repositories; empty makes a temporary folder,
	// removed by Close.
	Dir string
	// MaxRepos bounds how many generated repositories are kept (default 256).
	MaxRepos int
	Logger   *slog.Logger
}

// Handler serves the git repositories.
type Handler struct {
	svc     *service.Service
	opt     Options
	log     *slog.Logger
	git     string // "" when git is missing: every request gets 503
	cache   *cache
	tempDir bool
}

// Register adds the git routes to mux. The caller closes the handler when
// the server stops.
func Register(mux *http.ServeMux, svc *service.Service, opt Options) (*Handler, error) {
	h, err := New(svc, opt)
	if err != nil {
		return nil, err
	}
	for _, p := range []string{PublicPath, AuthPath} {
		mux.HandleFunc("GET "+p+"/info/refs", h.infoRefs)
		mux.HandleFunc("POST "+p+"/git-upload-pack", h.uploadPack)
	}
	mux.HandleFunc("/git/", h.other)
	return h, nil
}

// New makes a handler; Register mounts it.
func New(svc *service.Service, opt Options) (*Handler, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.MaxRepos <= 0 {
		opt.MaxRepos = 256
	}
	h := &Handler{svc: svc, opt: opt, log: opt.Logger}
	h.git = opt.Git
	if h.git == "" {
		if p, err := exec.LookPath("git"); err == nil {
			h.git = p
		} else {
			h.log.Warn("git is not installed: the git endpoints (" + PublicPath + ") answer 503 until it is")
		}
	}
	dir := opt.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "skillvault-git-")
		if err != nil {
			return nil, fmt.Errorf("git cache folder: %w", err)
		}
		dir, h.tempDir = d, true
	} else {
		removeStale(dir)
	}
	h.cache = &cache{root: dir, max: opt.MaxRepos, entries: map[string]*cached{}}
	return h, nil
}

// removeStale removes the repositories an earlier process left in dir
// (folders named by a tenant id): nothing remembers them, so nothing would
// ever remove them. Anything else in dir is left alone.
func removeStale(dir string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return // created when the first repository is
	}
	for _, e := range ents {
		if _, err := uuid.Parse(e.Name()); err == nil && e.IsDir() {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}

// Close removes the generated repositories when their folder is temporary.
func (h *Handler) Close() error {
	if h.tempDir {
		return os.RemoveAll(h.cache.root)
	}
	return nil
}

func (h *Handler) infoRefs(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Query().Get("service") {
	case "git-upload-pack":
		h.serve(w, r, "info/refs")
	case "git-receive-pack":
		refusePush(w)
	default:
		// The dumb protocol cannot clone shallowly, which the installers do.
		plain(w, http.StatusForbidden, "Only git's smart HTTP protocol is served here: use git 1.6.6 or newer.")
	}
}

func (h *Handler) uploadPack(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
	h.serve(w, r, "git-upload-pack")
}

// other answers every other path under /git/: pushes are refused with a
// reason git shows its user, anything else is not found.
func (h *Handler) other(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, "/git-receive-pack") {
		refusePush(w)
		return
	}
	plain(w, http.StatusNotFound, "No git repository is served at "+r.URL.Path+"; clone "+PublicPath+" (or "+AuthPath+" to always sign in).")
}

func refusePush(w http.ResponseWriter) {
	plain(w, http.StatusForbidden, "This repository is generated by Skillvault from its registry and is read-only: "+
		"publish skills with `skillvault push` or the web UI.")
}

// serve generates (or finds in the cache) the caller's repository and
// hands the request to git http-backend.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, suffix string) {
	if h.git == "" {
		plain(w, http.StatusServiceUnavailable, "git is not installed on this server, so its git endpoint cannot serve; ask the operator to install git.")
		return
	}
	a, ok := h.caller(w, r)
	if !ok {
		return
	}
	view, err := h.svc.GitView(r.Context(), a)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !view.Open {
		challenge(w, "This tenant's skills are private: sign in with an API key as the password.")
		return
	}
	key := viewKey(a.TenantID, view)
	dir, release, err := h.cache.acquire(r.Context(), a.TenantID, key, func(ctx context.Context, dir string) error {
		return build(ctx, h.git, dir, view, func(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID][]bundle.File, error) {
			return h.svc.GitFiles(ctx, a, ids)
		})
	})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer release()
	h.backend(w, r, dir, suffix)
}

// gitProtocol is what a Git-Protocol header may hold ("version=2", with
// more keys separated by ':').
var gitProtocol = regexp.MustCompile(`^[A-Za-z0-9=:._-]{1,128}$`)

// backend runs git http-backend on the repository in dir. The request it
// sees names only that repository and carries no credentials.
func (h *Handler) backend(w http.ResponseWriter, r *http.Request, dir, suffix string) {
	env := append(gitEnv(""), "GIT_PROJECT_ROOT="+filepath.Dir(dir), "GIT_HTTP_EXPORT_ALL=1")
	if p := r.Header.Get("Git-Protocol"); gitProtocol.MatchString(p) {
		env = append(env, "GIT_PROTOCOL="+p)
	}
	req := r.Clone(r.Context())
	req.URL.Path = "/" + filepath.Base(dir) + "/" + suffix
	req.URL.RawPath = ""
	for _, k := range []string{"Authorization", "Cookie", "Git-Protocol"} {
		req.Header.Del(k)
	}
	cgiH := &cgi.Handler{Path: h.git, Args: []string{"http-backend"}, Root: "/", Env: env,
		Stderr: logWriter{h.log, r}}
	cgiH.ServeHTTP(w, req)
}

// caller resolves the host's tenant and who asks: the API key sent as the
// Basic password (or a bearer token), which must belong to that tenant, or
// an anonymous actor of the tenant on PublicPath.
func (h *Handler) caller(w http.ResponseWriter, r *http.Request) (service.Actor, bool) {
	tenant, err := h.hostTenant(r)
	if err != nil {
		h.fail(w, r, err)
		return service.Actor{}, false
	}
	auth := r.Header.Get("Authorization")
	if auth == "" {
		if strings.HasPrefix(r.URL.Path, AuthPath+"/") {
			challenge(w, "Sign in with an API key as the password (any user name).")
			return service.Actor{}, false
		}
		return service.Actor{TenantID: tenant, Source: "git", RequestID: api.RequestID(r.Context()),
			RemoteAddr: r.RemoteAddr, UserAgent: r.UserAgent()}, true
	}
	if _, pw, ok := r.BasicAuth(); ok {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+pw)
	}
	a, err := h.opt.Auth(r)
	if err == nil && a.TenantID != tenant {
		// A key is good only at its own tenant's host; answer as for any
		// bad key, so the host learns nothing of the key's tenant.
		h.svc.AuditDenied(r.Context(), a, "auth.cross_tenant", "host", r.Host, map[string]any{"path": r.URL.Path})
		err = service.ErrBadCredentials
	}
	if err != nil {
		h.fail(w, r, err)
		return service.Actor{}, false
	}
	if h.opt.Allow != nil && !h.opt.Allow(w, r, a) {
		return service.Actor{}, false
	}
	return a, true
}

// hostTenant is the tenant the host names, or the default tenant on a host
// that names none (a tenant that cannot exist when there is none, so every
// read in its scope is empty).
func (h *Handler) hostTenant(r *http.Request) (uuid.UUID, error) {
	if t, ok := h.opt.HostTenant(r); ok {
		return t, nil
	}
	id, found, err := h.svc.DefaultTenant(r.Context())
	if err != nil || !found {
		return uuid.Max, err
	}
	return id, nil
}

// fail answers with the status for err, as plain text: git shows a
// text/plain body to its user. Internal errors are logged, not shown.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the client went away
	}
	msg := ""
	if e, ok := service.AsError(err); ok {
		msg = e.Msg
	}
	switch service.KindOf(err) {
	case service.Unauthenticated:
		challenge(w, "Sign in with an API key as the password: "+msg)
	case service.Forbidden:
		plain(w, http.StatusForbidden, msg)
	case service.NotFound:
		plain(w, http.StatusNotFound, msg)
	case service.Invalid:
		plain(w, http.StatusBadRequest, msg)
	default:
		h.log.Error("git request failed", "request_id", api.RequestID(r.Context()), "path", r.URL.Path, "err", err)
		plain(w, http.StatusServiceUnavailable, "The repository could not be served right now; request id "+api.RequestID(r.Context())+".")
	}
}

// challenge answers 401 with a Basic challenge, which makes git ask its
// credential helper (or the person) for a user name and password.
func challenge(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Basic realm="Skillvault", charset="UTF-8"`)
	plain(w, http.StatusUnauthorized, msg)
}

func plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	io.WriteString(w, msg+"\n")
}

// logWriter logs what git http-backend writes to its standard error.
type logWriter struct {
	log *slog.Logger
	r   *http.Request
}

func (l logWriter) Write(p []byte) (int, error) {
	l.log.Warn("git http-backend", "request_id", api.RequestID(l.r.Context()), "stderr", strings.TrimSpace(string(p)))
	return len(p), nil
}
