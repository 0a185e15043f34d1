// Package api is the REST API under /api/v1: small handlers that decode a
// request, call the service with the caller's Actor, and encode the result
// or a problem+json error.
package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/time/rate"

	"github.com/skillvault/skillvault/internal/service"
)

// Options configure the API.
type Options struct {
	Logger *slog.Logger
	// RateLimit is the sustained requests per second allowed per API key,
	// with bursts of twice that (default 100).
	RateLimit float64
	// HostTenant resolves the request's host to a tenant when the host names
	// one (subdomain or vanity domain); a key of another tenant is refused
	// there.
	HostTenant func(r *http.Request) (uuid.UUID, bool)
	// MaxUploadBytes bounds a bundle upload (default 64 MiB).
	MaxUploadBytes int64
}

// API serves /api/v1.
type API struct {
	svc    *service.Service
	log    *slog.Logger
	opt    Options
	mu     sync.Mutex
	lims   map[uuid.UUID]*limiter
	pruned time.Time
}

// New returns the API over svc.
func New(svc *service.Service, opt Options) *API {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.RateLimit <= 0 {
		opt.RateLimit = 100
	}
	if opt.MaxUploadBytes <= 0 {
		opt.MaxUploadBytes = 64 << 20
	}
	return &API{svc: svc, log: opt.Logger, opt: opt, lims: map[uuid.UUID]*limiter{}}
}

// handler is an authenticated API handler.
type handler func(w http.ResponseWriter, r *http.Request, a service.Actor) error

// route is one documented route; the OpenAPI test compares these with the
// document.
type route struct {
	method, pattern string
	h               handler
}

func (api *API) routes() []route {
	return []route{
		{"GET", "/api/v1/me", api.me},
		{"GET", "/api/v1/users", api.listUsers},
		{"POST", "/api/v1/users", api.createUser},
		{"PATCH", "/api/v1/users/{id}", api.updateUser},
		{"GET", "/api/v1/keys", api.listKeys},
		{"POST", "/api/v1/keys", api.createKey},
		{"DELETE", "/api/v1/keys/{id}", api.revokeKey},
		{"GET", "/api/v1/skills", api.listSkills},
		{"POST", "/api/v1/skills", api.createSkill},
		{"GET", "/api/v1/skills/{name}", api.getSkill},
		{"PATCH", "/api/v1/skills/{name}", api.updateSkill},
		{"DELETE", "/api/v1/skills/{name}", api.deleteSkill},
		{"POST", "/api/v1/skills/{name}/publish", api.publish},
		{"POST", "/api/v1/skills/{name}/fork", api.fork},
		{"GET", "/api/v1/skills/{name}/versions", api.listVersions},
		{"POST", "/api/v1/skills/{name}/versions", api.addVersion},
		{"GET", "/api/v1/skills/{name}/versions/{n}", api.getVersion},
		{"GET", "/api/v1/skills/{name}/versions/{n}/bundle.zip", api.downloadZip},
		{"GET", "/api/v1/skills/{name}/versions/{n}/files/{path...}", api.downloadFile},
		{"PUT", "/api/v1/skills/{name}/rating", api.rate},
		{"GET", "/api/v1/skills/{name}/ratings", api.listRatings},
		{"GET", "/api/v1/skills/{name}/stats", api.stats},
		{"POST", "/api/v1/usage", api.recordUsage},
		{"GET", "/api/v1/audit", api.audit},
		{"GET", "/api/v1/skills/{name}/reviews", api.listReviews},
		{"POST", "/api/v1/skills/{name}/reviews", api.reviewAgain},
		{"POST", "/api/v1/skills/{name}/decision", api.decide},
		{"GET", "/api/v1/search", api.search},
		{"GET", "/api/v1/skills/{name}/similar", api.similar},
		{"GET", "/api/v1/skills/{name}/embedding", api.embedding},
		{"GET", "/api/v1/settings", api.getSettings},
		{"PATCH", "/api/v1/settings", api.patchSettings},
	}
}

// Register adds the API's routes to mux.
func (api *API) Register(mux *http.ServeMux) {
	for _, rt := range api.routes() {
		mux.Handle(rt.method+" "+rt.pattern, api.authed(rt.h))
	}
	mux.HandleFunc("GET /api/v1/openapi.json", serveOpenAPI)
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		k := kinds[service.NotFound]
		WriteProblem(w, r, Problem{Type: k.typ, Title: k.title, Status: k.status,
			Detail: "no such API route: " + r.Method + " " + r.URL.Path + " (see /api/v1/openapi.json)"})
	})
}

// Authenticate turns the request's bearer key into an Actor; interfaces
// other than REST (MCP, discovery) use it too.
func (api *API) Authenticate(r *http.Request, source string) (service.Actor, error) {
	meta := service.RequestMeta{RequestID: RequestID(r.Context()), RemoteAddr: r.RemoteAddr, UserAgent: r.UserAgent(), Source: source,
		Resource: Origin(r) + r.URL.Path}
	h := r.Header.Get("Authorization")
	secret, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || secret == "" {
		return service.Actor{}, &service.Error{Kind: service.Unauthenticated, Msg: "authentication required: send Authorization: Bearer <API key>"}
	}
	a, err := api.svc.Authenticate(r.Context(), strings.TrimSpace(secret), meta)
	if err != nil {
		return a, err
	}
	if api.opt.HostTenant != nil {
		if t, ok := api.opt.HostTenant(r); ok && t != a.TenantID {
			api.svc.AuditDenied(r.Context(), a, "auth.cross_tenant", "host", r.Host, map[string]any{"path": r.URL.Path})
			return service.Actor{}, service.ErrBadCredentials
		}
	}
	return a, nil
}

// Allow applies the per-key rate limit and reports the wait when refused.
func (api *API) Allow(key uuid.UUID) (bool, time.Duration) {
	now := time.Now()
	api.mu.Lock()
	l := api.lims[key]
	if l == nil {
		l = &limiter{Limiter: rate.NewLimiter(rate.Limit(api.opt.RateLimit), int(2*api.opt.RateLimit))}
		api.lims[key] = l
		api.prune(now)
	}
	l.last = now
	api.mu.Unlock()
	res := l.Reserve()
	if d := res.Delay(); d > 0 {
		res.Cancel()
		return false, d
	}
	return true, 0
}

// limiter is a key's token bucket and when it was last used.
type limiter struct {
	*rate.Limiter
	last time.Time
}

// prune forgets limiters idle long enough to have refilled, so the map
// does not grow with every key ever seen. Called with mu held, when a key
// is added; it scans at most once a minute.
func (api *API) prune(now time.Time) {
	if now.Sub(api.pruned) < time.Minute {
		return
	}
	api.pruned = now
	for k, l := range api.lims {
		if now.Sub(l.last) > 10*time.Minute {
			delete(api.lims, k)
		}
	}
}

func (api *API) authed(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := api.Authenticate(r, "api")
		if err != nil {
			writeError(w, r, api.log, err)
			return
		}
		if ok, wait := api.Allow(a.KeyID); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
			WriteProblem(w, r, Problem{Type: "/problems/rate-limited", Title: "Too many requests", Status: http.StatusTooManyRequests,
				Detail: "this API key is over its rate limit; retry after the Retry-After delay"})
			return
		}
		if err := h(w, r, a); err != nil {
			writeError(w, r, api.log, err)
		}
	})
}

// decode reads a JSON body strictly: unknown fields and trailing data are
// errors, and the body is bounded.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	// curl -d sends application/x-www-form-urlencoded unless told otherwise;
	// the body is read as JSON either way.
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") &&
		!strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return &unsupportedMediaError{"send the body as application/json, not " + strconv.Quote(ct)}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		if errors.Is(err, io.EOF) {
			return &service.Error{Kind: service.Invalid, Msg: "the request body is empty; send a JSON object"}
		}
		return &service.Error{Kind: service.Invalid, Msg: "the request body is not valid JSON for this route: " + err.Error()}
	}
	if dec.More() {
		return &service.Error{Kind: service.Invalid, Msg: "the request body has data after the JSON object"}
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// Page is a list with the cursor of the next page ("" on the last).
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

func page[T any](items []T, limit int, next func(last T) any) Page[T] {
	p := Page[T]{Items: items}
	if p.Items == nil {
		p.Items = []T{}
	}
	if len(items) > limit {
		p.Items = items[:limit]
		data, _ := json.Marshal(next(p.Items[limit-1]))
		p.NextCursor = base64.RawURLEncoding.EncodeToString(data)
	}
	return p
}

// list serves one page of a list: it reads ?limit= and the cursor (into a
// C), asks fetch for one more item than the page holds, and answers with
// the page and the cursor that next makes from its last item.
func list[C, T any](w http.ResponseWriter, r *http.Request, fetch func(c C, limit int) ([]T, error), next func(last T, c C, limit int) any) error {
	n, err := limit(r)
	if err != nil {
		return err
	}
	var c C
	if _, err := cursor(r, &c); err != nil {
		return err
	}
	items, err := fetch(c, n+1)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, page(items, n, func(last T) any { return next(last, c, n) }))
}

// cursor decodes a cursor made by page into v; it reports false when there
// is none.
func cursor(r *http.Request, v any) (bool, error) {
	c := r.URL.Query().Get("cursor")
	if c == "" {
		return false, nil
	}
	data, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || json.Unmarshal(data, v) != nil {
		return false, &service.Error{Kind: service.Invalid, Msg: "cursor is not one this API returned"}
	}
	return true, nil
}

// limit reads ?limit= (default 50, at most 200). The store is asked for
// one more, to know whether a next page exists.
func limit(r *http.Request) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return 50, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 200 {
		return 0, &service.Error{Kind: service.Invalid, Msg: "limit must be a number from 1 to 200"}
	}
	return n, nil
}

func pathUUID(r *http.Request, name string) (uuid.UUID, error) {
	id, err := uuid.Parse(r.PathValue(name))
	if err != nil {
		return id, &service.Error{Kind: service.NotFound, Msg: "no such " + name}
	}
	return id, nil
}
