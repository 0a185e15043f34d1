// Package discovery serves skills at the well-known URIs of the Agent
// Skills Discovery RFC v0.2.0: /.well-known/agent-skills/index.json lists
// the skills with their per-file and skill-level digests, every listed file
// is served under /.well-known/agent-skills/{name}/{path}, and each skill's
// files also come as one zip package. The older /.well-known/skills/ prefix
// serves the same.
//
// The request's host chooses the tenant (a subdomain of the base domain or
// a vanity domain; the "default" tenant on a host that names none), and
// every read runs in that tenant's scope: anonymously (public, published
// skills of tenants with public discovery on) or as the bearer API key,
// which must belong to that tenant.
package discovery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/api"
	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/fileserve"
	"github.com/skillvault/skillvault/internal/service"
)

// Version is the RFC version the index declares.
const Version = "0.2.0"

// Prefixes are the well-known paths served: the RFC's, and the name of its
// first draft that older clients still ask for.
var Prefixes = []string{"/.well-known/agent-skills/", "/.well-known/skills/"}

// Options connect discovery to the server.
type Options struct {
	// Auth turns a request's bearer API key into an Actor (api.Authenticate).
	Auth func(*http.Request) (service.Actor, error)
	// HostTenant resolves a host that names a tenant; it reports false for
	// a host that names none, which is served the "default" tenant.
	HostTenant func(*http.Request) (uuid.UUID, bool)
	// Allow applies the per-key rate limit (api.Allow); nil for none.
	Allow  func(key uuid.UUID) (bool, time.Duration)
	Logger *slog.Logger
}

// Index is the discovery index document.
type Index struct {
	Version string  `json:"version"`
	Skills  []Skill `json:"skills"`
}

// Skill is one entry of the index.
type Skill struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Digest      string   `json:"digest"`
	Files       []File   `json:"files"`
	Package     *Package `json:"package,omitempty"`
}

// File is one file of a skill entry.
type File struct {
	Path   string `json:"path"`
	Digest string `json:"digest"`
}

// Package is a skill's archive: a zip of its files at the archive root.
type Package struct {
	URL    string `json:"url"`
	Digest string `json:"digest"`
}

type handler struct {
	svc  *service.Service
	opt  Options
	log  *slog.Logger
	pkgs digestCache
}

// Register adds the discovery routes to mux, under both prefixes.
func Register(mux *http.ServeMux, svc *service.Service, opt Options) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{svc: svc, opt: opt, log: opt.Logger, pkgs: digestCache{m: map[string]string{}}}
	for _, p := range Prefixes {
		fileserve.Declare(
			fileserve.Route{Pattern: "GET " + p + "{archive}", Auth: "anonymous", Archive: true,
				Path: func(skill, _ string) string { return p + skill + ".zip" }},
			fileserve.Route{Pattern: "GET " + p + "{name}/{path...}", Auth: "anonymous",
				Path: func(skill, file string) string { return p + skill + "/" + fileserve.EscapePath(file) }})
		mux.HandleFunc("GET "+p+"index.json", h.index)
		mux.HandleFunc("GET "+p+"{archive}", h.archive)
		mux.HandleFunc("GET "+p+"{name}/{path...}", h.file)
		mux.HandleFunc(p, h.other)
	}
}

func (h *handler) index(w http.ResponseWriter, r *http.Request) {
	a, ok := h.caller(w, r)
	if !ok {
		return
	}
	skills, err := h.svc.DiscoveryIndex(r.Context(), a)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	prefix := strings.TrimSuffix(r.URL.Path, "index.json")
	idx := Index{Version: Version, Skills: make([]Skill, 0, len(skills))}
	for _, sk := range skills {
		e := Skill{Name: sk.Name, Description: sk.Description, Digest: sk.Digest, Files: make([]File, len(sk.Files))}
		for i, f := range sk.Files {
			e.Files[i] = File{Path: f.Path, Digest: "sha256:" + f.SHA256}
		}
		if d, err := h.packageDigest(r.Context(), a, sk); err != nil {
			h.fail(w, r, err)
			return
		} else if d != "" {
			e.Package = &Package{URL: baseURL(r) + prefix + sk.Name + ".zip", Digest: d}
		}
		idx.Skills = append(idx.Skills, e)
	}
	data, err := json.Marshal(idx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	data = append(data, '\n')
	serve(w, r, a, "application/json", bundle.FileDigest(data), data)
}

func (h *handler) file(w http.ResponseWriter, r *http.Request) {
	name, path := r.PathValue("name"), r.PathValue("path")
	if bundle.ValidateName(name) != nil || path == "" {
		notFound(w, r, "no such skill file: "+r.URL.Path)
		return
	}
	a, ok := h.caller(w, r)
	if !ok {
		return
	}
	f, err := h.svc.DiscoveryFile(r.Context(), a, name, path)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	cacheHeaders(w, a)
	fileserve.File(w, r, f.Path, f.Data, "sha256:"+f.SHA256)
}

// archive serves {name}.zip, the package the index offers.
func (h *handler) archive(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutSuffix(r.PathValue("archive"), ".zip")
	if !ok || bundle.ValidateName(name) != nil {
		notFound(w, r, "no such skill package: "+r.URL.Path)
		return
	}
	a, ok := h.caller(w, r)
	if !ok {
		return
	}
	d, files, err := h.svc.DiscoveryBundle(r.Context(), a, name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	data, err := zipBytes(files)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	digest := bundle.FileDigest(data)
	h.pkgs.put(d.Digest, digest)
	w.Header().Set("X-Skill-Digest", d.Digest)
	cacheHeaders(w, a)
	fileserve.Archive(w, r, name+".zip", fileserve.TypeZip, data, digest)
}

// other answers every other path under a prefix: 405 for methods other
// than GET and HEAD, 404 otherwise.
func (h *handler) other(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		api.WriteProblem(w, r, api.Problem{Type: "/problems/method-not-allowed", Title: "Method not allowed",
			Status: http.StatusMethodNotAllowed, Detail: "discovery is read-only: use GET or HEAD"})
		return
	}
	notFound(w, r, "nothing is served at "+r.URL.Path+"; the index is at "+Prefixes[0]+"index.json")
}

// caller resolves the host's tenant and who asks: an anonymous actor of
// that tenant, or the bearer key's actor when the key belongs to it. It
// answers the request itself and reports false when it refuses.
func (h *handler) caller(w http.ResponseWriter, r *http.Request) (service.Actor, bool) {
	tenant, ok := h.opt.HostTenant(r)
	if !ok {
		id, found, err := h.svc.DefaultTenant(r.Context())
		if err != nil {
			h.fail(w, r, err)
			return service.Actor{}, false
		}
		// Without a default tenant, name one that cannot exist: every read
		// in its scope is empty, and no other tenant is ever shown.
		tenant = uuid.Max
		if found {
			tenant = id
		}
	}
	if r.Header.Get("Authorization") == "" {
		return service.Actor{TenantID: tenant, Source: "discovery", RequestID: api.RequestID(r.Context()),
			RemoteAddr: r.RemoteAddr, UserAgent: r.UserAgent()}, true
	}
	a, err := h.opt.Auth(r)
	if err != nil {
		h.fail(w, r, err)
		return service.Actor{}, false
	}
	if a.TenantID != tenant {
		// A key is good only at its own tenant's host; answer as for any
		// bad key, so the host learns nothing of the key's tenant.
		h.svc.AuditDenied(r.Context(), a, "auth.cross_tenant", "host", r.Host, map[string]any{"path": r.URL.Path})
		h.fail(w, r, service.ErrBadCredentials)
		return service.Actor{}, false
	}
	if h.opt.Allow != nil {
		if ok, wait := h.opt.Allow(a.KeyID); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
			api.WriteProblem(w, r, api.Problem{Type: "/problems/rate-limited", Title: "Too many requests", Status: http.StatusTooManyRequests,
				Detail: "this API key is over its rate limit; retry after the Retry-After delay"})
			return service.Actor{}, false
		}
	}
	return a, true
}

// packageDigest returns the digest of the skill's zip package. The zip is
// a function of the files alone (bundle.WriteZip is deterministic), and the
// skill digest names the files, so the result is cached by skill digest:
// the index is built without reading every file on every request. It
// returns "" when the skill changed while the index was read.
func (h *handler) packageDigest(ctx context.Context, a service.Actor, sk service.DiscoverySkill) (string, error) {
	if d, ok := h.pkgs.get(sk.Digest); ok {
		return d, nil
	}
	cur, files, err := h.svc.DiscoveryBundle(ctx, a, sk.Name)
	if service.KindOf(err) == service.NotFound {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if cur.Digest != sk.Digest || bundle.Digest(files) != sk.Digest {
		return "", nil
	}
	data, err := zipBytes(files)
	if err != nil {
		return "", err
	}
	d := bundle.FileDigest(data)
	h.pkgs.put(sk.Digest, d)
	return d, nil
}

func zipBytes(files []bundle.File) ([]byte, error) {
	var buf bytes.Buffer
	if err := bundle.WriteZip(&buf, files); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// serve writes content with its digest as a strong ETag; http.ServeContent
// answers If-None-Match with 304, HEAD, and ranges. Content may change at
// the same URL when a new version is published, and the index and files
// must agree for clients to verify them, so caches must revalidate (cheap
// with the ETag) rather than serve a stale copy.
func serve(w http.ResponseWriter, r *http.Request, a service.Actor, contentType, digest string, data []byte) {
	cacheHeaders(w, a)
	hd := w.Header()
	hd.Set("Content-Type", contentType)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("ETag", `"`+digest+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
}

// cacheHeaders: anonymous answers may be shared by caches, a key's not.
func cacheHeaders(w http.ResponseWriter, a service.Actor) {
	hd := w.Header()
	hd.Set("Vary", "Authorization")
	if a.KeyID == uuid.Nil {
		hd.Set("Cache-Control", "public, no-cache")
	} else {
		hd.Set("Cache-Control", "private, no-cache")
	}
}

// baseURL is the scheme and host the request came to, for the package URL.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

var problems = map[service.Kind]struct {
	status      int
	typ, title  string
	logAs       slog.Level
	hideDetails bool
}{
	service.Invalid:         {http.StatusBadRequest, "/problems/invalid", "Invalid request", slog.LevelDebug, false},
	service.NotFound:        {http.StatusNotFound, "/problems/not-found", "Not found", slog.LevelDebug, false},
	service.Forbidden:       {http.StatusForbidden, "/problems/forbidden", "Forbidden", slog.LevelDebug, false},
	service.Unauthenticated: {http.StatusUnauthorized, "/problems/unauthenticated", "Authentication required", slog.LevelDebug, false},
	service.Unavailable:     {http.StatusServiceUnavailable, "/problems/unavailable", "Service unavailable", slog.LevelWarn, true},
	service.Internal:        {http.StatusInternalServerError, "/problems/internal", "Internal error", slog.LevelError, true},
}

// fail answers with the problem for err; internal errors are logged with
// the request id and shown without detail.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the client went away
	}
	k, ok := problems[service.KindOf(err)]
	if !ok {
		k = problems[service.Internal]
	}
	p := api.Problem{Type: k.typ, Title: k.title, Status: k.status}
	if e, ok := service.AsError(err); ok && !k.hideDetails {
		p.Detail = e.Msg
	}
	if k.hideDetails {
		h.log.Log(r.Context(), k.logAs, "discovery request failed", "request_id", api.RequestID(r.Context()),
			"path", r.URL.Path, "err", err)
		p.Detail = "the request could not be served right now; quote the instance id when reporting it"
	}
	api.WriteProblem(w, r, p)
}

func notFound(w http.ResponseWriter, r *http.Request, detail string) {
	api.WriteProblem(w, r, api.Problem{Type: "/problems/not-found", Title: "Not found", Status: http.StatusNotFound, Detail: detail})
}

// digestCache maps skill digests to package digests. Entries never go
// stale (both sides are content digests); the map is emptied when full to
// bound its memory.
type digestCache struct {
	mu sync.Mutex
	m  map[string]string
}

const maxCachedPackages = 10000

func (c *digestCache) get(skill string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.m[skill]
	return d, ok
}

func (c *digestCache) put(skill, pkg string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedPackages {
		clear(c.m)
	}
	c.m[skill] = pkg
}
