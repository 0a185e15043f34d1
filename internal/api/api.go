// Package api is the REST API under /api/v1: small handlers that decode a
// request, call the service with the caller's Actor, and encode the result
// or a problem+json error.
package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/ratelimit"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/store"
)

// Options configure the API.
type Options struct {
	Logger *slog.Logger
	// RateLimit is the sustained requests per second allowed per API key,
	// with bursts of twice that (default 100).
	RateLimit float64
	// TenantRateLimit is the same for all keys of a tenant together
	// (default 5 × RateLimit), so minting keys does not multiply what a
	// tenant may send.
	TenantRateLimit float64
	// HostTenant resolves the request's host to a tenant when the host names
	// one (subdomain or vanity domain); a key of another tenant is refused
	// there.
	HostTenant func(r *http.Request) (uuid.UUID, bool)
	// MaxUploadBytes bounds a bundle upload (default 64 MiB).
	MaxUploadBytes int64
}

// API serves /api/v1.
type API struct {
	svc     *service.Service
	log     *slog.Logger
	opt     Options
	keys    *ratelimit.Buckets[uuid.UUID]
	tenants *ratelimit.Buckets[uuid.UUID]
}

// New returns the API over svc.
func New(svc *service.Service, opt Options) *API {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.RateLimit <= 0 {
		opt.RateLimit = 100
	}
	if opt.TenantRateLimit <= 0 {
		opt.TenantRateLimit = 5 * opt.RateLimit
	}
	if opt.MaxUploadBytes <= 0 {
		opt.MaxUploadBytes = 64 << 20
	}
	return &API{svc: svc, log: opt.Logger, opt: opt,
		keys:    ratelimit.New[uuid.UUID](opt.RateLimit, int(2*opt.RateLimit)),
		tenants: ratelimit.New[uuid.UUID](opt.TenantRateLimit, int(2*opt.TenantRateLimit))}
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
	secret, ok := BearerToken(r)
	if !ok {
		return service.Actor{}, &service.Error{Kind: service.Unauthenticated, Msg: "authentication required: send Authorization: Bearer <API key>"}
	}
	a, err := api.svc.Authenticate(r.Context(), secret, Meta(r, source))
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

// BearerToken is the API key of the request's Authorization header.
func BearerToken(r *http.Request) (string, bool) {
	secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	secret = strings.TrimSpace(secret)
	return secret, ok && secret != ""
}

// Meta is what the audit trail records of a request before its caller is
// known. The request id is the server's own (never the client's).
func Meta(r *http.Request, source string) service.RequestMeta {
	// Resource is the URL the credential is used at: an OAuth access
	// token is valid only for the resource (RFC 8707) it was issued for.
	return service.RequestMeta{RequestID: RequestID(r.Context()), RemoteAddr: r.RemoteAddr, UserAgent: r.UserAgent(), Source: source,
		Resource: Origin(r) + r.URL.Path}
}

// Allow applies the per-credential and then the per-tenant rate limit to
// a's request. The credential is the API key, or the user for a web
// session (which has no key). When one refuses it answers 429 naming that
// limit and reports false. MCP, discovery and the web UI use it too, so
// every interface shares the same allowance.
func (api *API) Allow(w http.ResponseWriter, r *http.Request, a service.Actor) bool {
	id := a.CredentialID() // the API key or the OAuth grant
	if id == uuid.Nil {
		id = a.UserID // a web session; key, grant and user ids are random UUIDs: buckets never meet
	}
	key, ok, wait := api.keys.Take(id)
	if !ok {
		WriteRateLimited(w, r, "key", wait, "this API key (or OAuth grant, or web session) is over its rate limit; retry after the Retry-After delay")
		return false
	}
	if _, ok, wait := api.tenants.Take(a.TenantID); !ok {
		key.Cancel() // the request was not served: the key keeps its token
		WriteRateLimited(w, r, "tenant", wait,
			"this tenant's API keys together are over the tenant's rate limit; retry after the Retry-After delay")
		return false
	}
	return true
}

func (api *API) authed(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, err := api.Authenticate(r, "api")
		if err != nil {
			writeError(w, r, api.log, err)
			return
		}
		if !api.Allow(w, r, a) {
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

// jsonBuffers hold answers while they are encoded, so each is written in
// one piece with its length, and a failure to encode is still answered
// with a problem instead of half a body.
var jsonBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	buf := jsonBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 1<<20 {
			jsonBuffers.Put(buf)
		}
	}()
	buf.Reset()
	if err := encodeJSON(buf, v); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// encodeJSON writes v and a newline, the bytes json.Encoder writes. A
// skill and a page of skills, the commonest answers, are written without
// reflection (store.Skill.AppendJSON, held to encoding/json's bytes by its
// test).
func encodeJSON(buf *bytes.Buffer, v any) error {
	var b []byte
	var err error
	switch v := v.(type) {
	case store.Skill:
		b, err = v.AppendJSON(buf.AvailableBuffer())
	case Page[store.Skill]:
		b, err = appendSkillPage(buf.AvailableBuffer(), v)
	default:
		return json.NewEncoder(buf).Encode(v)
	}
	if err != nil {
		return err
	}
	buf.Write(b)
	return buf.WriteByte('\n')
}

// appendSkillPage appends p as encoding/json encodes a Page.
func appendSkillPage(b []byte, p Page[store.Skill]) ([]byte, error) {
	if p.Items == nil {
		b = append(b, `{"items":null`...)
	} else {
		b = append(b, `{"items":[`...)
		for i := range p.Items {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = p.Items[i].AppendJSON(b); err != nil {
				return b, err
			}
		}
		b = append(b, ']')
	}
	b = append(b, `,"next_cursor":`...)
	b = store.AppendJSONString(b, p.NextCursor)
	return append(b, '}'), nil
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
		p.NextCursor = EncodeCursor(next(p.Items[limit-1]))
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

// cursor decodes the request's ?cursor= into v; it reports false when
// there is none.
func cursor(r *http.Request, v any) (bool, error) {
	c := r.URL.Query().Get("cursor")
	if c == "" {
		return false, nil
	}
	return true, DecodeCursor(c, v)
}

// EncodeCursor makes the opaque cursor of a next page from v: the
// base64url of its JSON. Every list of the REST API and of MCP uses it.
func EncodeCursor(v any) string {
	data, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(data)
}

// DecodeCursor reads a cursor made by EncodeCursor into v. It accepts
// only what a page could have ended on: numbers (offsets, version numbers,
// audit ids) are positive, and a cursor type with a valid method must pass
// it. Anything else is an Invalid error (400), so a forged cursor such as
// a negative offset never reaches the service or a query.
func DecodeCursor(c string, v any) error {
	data, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || json.Unmarshal(data, v) != nil || !validCursor(v) {
		return &service.Error{Kind: service.Invalid, Msg: "the cursor is not one this server returned; omit it to start from the first page"}
	}
	return nil
}

func validCursor(v any) bool {
	switch c := v.(type) {
	case *int:
		return *c > 0
	case *int64:
		return *c > 0
	case interface{ valid() bool }:
		return c.valid()
	}
	return true
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
