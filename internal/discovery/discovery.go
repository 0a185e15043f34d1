// Package discovery serves skills at the well-known URIs of the Agent
// Skills Discovery RFC v0.2.0 (cloudflare/agent-skills-discovery-rfc):
// /.well-known/agent-skills/index.json lists each skill with one artifact,
// its SKILL.md (type "skill-md", for a skill that is only that file) or an
// archive of its folder (type "archive", {name}.tar.gz or {name}.zip), and
// the SHA-256 of the artifact's bytes. Every file of a listed skill is also
// served at {name}/{path}. The older /.well-known/skills/ prefix serves the
// same documents.
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
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/api"
	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/fileserve"
	"github.com/skillvault/skillvault/internal/service"
)

// Schema identifies the index format (the RFC's §Versioning); clients
// match it exactly and read an index without it as v0.1.0.
const Schema = "https://schemas.agentskills.io/discovery/0.2.0/schema.json"

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
	// Allow applies the per-key and per-tenant rate limits and answers 429
	// itself when one refuses (api.Allow); nil for none.
	Allow  func(w http.ResponseWriter, r *http.Request, a service.Actor) bool
	Logger *slog.Logger
}

// Index is the discovery index document.
type Index struct {
	Schema string  `json:"$schema"`
	Skills []Entry `json:"skills"`
}

// Entry is one skill of the index. URL is relative to the index (RFC 3986
// resolution against the index URL, as the RFC specifies), so the same
// document is right under both prefixes and every host of the tenant.
type Entry struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Description string `json:"description"`
	URL         string `json:"url"`
	Digest      string `json:"digest"`
}

// archiveTypes are the archive formats served, with their content types.
var archiveTypes = map[string]string{bundle.TarGz: fileserve.TypeGzip, bundle.Zip: fileserve.TypeZip}

type handler struct {
	svc   *service.Service
	opt   Options
	log   *slog.Logger
	cache indexCache
}

// Register adds the discovery routes to mux, under both prefixes.
func Register(mux *http.ServeMux, svc *service.Service, opt Options) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{svc: svc, opt: opt, log: opt.Logger, cache: indexCache{m: map[cacheKey]cachedIndex{}}}
	for _, p := range Prefixes {
		fileserve.Declare(
			fileserve.Route{Pattern: "GET " + p + "{archive}", Auth: "anonymous", Archive: true,
				Path: func(skill, _ string) string { return p + skill + "." + bundle.TarGz }},
			fileserve.Route{Pattern: "GET " + p + "{archive}", Auth: "anonymous", Archive: true,
				Path: func(skill, _ string) string { return p + skill + "." + bundle.Zip }},
			fileserve.Route{Pattern: "GET " + p + "{name}/{path...}", Auth: "anonymous",
				Path: func(skill, file string) string { return p + skill + "/" + fileserve.EscapePath(file) }})
		mux.HandleFunc("GET "+p+"index.json", cors(h.index))
		mux.HandleFunc("GET "+p+"{archive}", cors(h.archive))
		mux.HandleFunc("GET "+p+"{name}/{path...}", cors(h.file))
		mux.HandleFunc(p, cors(h.other))
	}
}

// cors lets browser pages anywhere read what anyone may read: anonymous
// answers carry Access-Control-Allow-Origin: *. Requests with credentials
// get no CORS headers, and preflights never allow Authorization, so a page
// elsewhere cannot use a visitor's key.
func cors(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			w.Header().Set("Access-Control-Allow-Origin", "*")
		}
		next(w, r)
	}
}

func (h *handler) index(w http.ResponseWriter, r *http.Request) {
	a, ok := h.caller(w, r)
	if !ok {
		return
	}
	doc, err := h.indexDocument(r.Context(), a)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	serve(w, r, a, "application/json", doc.etag, doc.body)
}

// indexDocument returns the actor's index: from the cache when the
// tenant's discovery stamp has not moved since it was built (one cheap
// read, so every process sees another's publication at once), else built
// and cached.
func (h *handler) indexDocument(ctx context.Context, a service.Actor) (cachedIndex, error) {
	key := cacheKey{tenant: a.TenantID, viewer: viewer(a)}
	stamp, err := h.svc.DiscoveryStamp(ctx, a)
	if err != nil {
		return cachedIndex{}, err
	}
	if c, ok := h.cache.get(key); ok && stamp != "" && c.stamp == stamp {
		return c, nil
	}
	entries, stamp, err := h.svc.DiscoveryIndex(ctx, a)
	if err != nil {
		return cachedIndex{}, err
	}
	idx := Index{Schema: Schema, Skills: make([]Entry, 0, len(entries))}
	for _, e := range entries {
		u := e.Name + "/" + bundle.SkillFile
		if e.Type == service.TypeArchive {
			u = e.Name + "." + e.Format
		}
		idx.Skills = append(idx.Skills, Entry{Name: e.Name, Type: e.Type, Description: e.Description, URL: u, Digest: e.Digest})
	}
	body, err := json.Marshal(idx)
	if err != nil {
		return cachedIndex{}, err
	}
	body = append(body, '\n')
	c := cachedIndex{stamp: stamp, body: body, etag: bundle.FileDigest(body)}
	if stamp != "" {
		h.cache.put(key, c)
	}
	return c, nil
}

// viewer names what decides an actor's view of its tenant: anonymous, or
// the user and role (a member sees their own private skills).
func viewer(a service.Actor) string {
	if a.Role == "" {
		return ""
	}
	return a.UserID.String() + "/" + a.Role
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

// archive serves {name}.tar.gz and {name}.zip: the skill's folder, written
// reproducibly, so its bytes match the digest stored at publish.
func (h *handler) archive(w http.ResponseWriter, r *http.Request) {
	name, format := splitArchive(r.PathValue("archive"))
	if format == "" || bundle.ValidateName(name) != nil {
		notFound(w, r, "no such skill archive: "+r.URL.Path+" (archives are NAME.tar.gz and NAME.zip)")
		return
	}
	a, ok := h.caller(w, r)
	if !ok {
		return
	}
	// A conditional request for the listed archive is answered from the
	// stored digest, without reading or compressing the files.
	inm := r.Header.Get("If-None-Match")
	if inm != "" {
		d, err := h.svc.DiscoveryBundle(r.Context(), a, name, false)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if d.Format == format && d.ArchiveDigest != "" && inm == `"`+d.ArchiveDigest+`"` {
			cacheHeaders(w, a)
			w.Header().Set("ETag", inm)
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	data, d, err := h.svc.DiscoveryArchiveBytes(r.Context(), a, name, format)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	digest := bundle.FileDigest(data)
	if d.Format == format && d.ArchiveDigest != "" && d.ArchiveDigest != digest {
		// The writer no longer reproduces the stored bytes (a changed
		// compressor?): clients will refuse the archive. Say so loudly.
		h.log.Error("discovery archive differs from its stored digest", "skill", name, "version", d.Version,
			"stored", d.ArchiveDigest, "written", digest)
	}
	w.Header().Set("X-Skill-Digest", d.Digest)
	cacheHeaders(w, a)
	fileserve.Archive(w, r, name+"."+format, archiveTypes[format], data, digest)
}

// splitArchive splits "name.tar.gz" or "name.zip"; format is "" for
// anything else.
func splitArchive(s string) (name, format string) {
	for f := range archiveTypes {
		if n, ok := strings.CutSuffix(s, "."+f); ok {
			return n, f
		}
	}
	return s, ""
}

// other answers every other path under a prefix: CORS preflights (which
// never allow Authorization), 405 for methods other than GET and HEAD, 404
// otherwise.
func (h *handler) other(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions {
		w.Header().Set("Access-Control-Allow-Methods", "GET, HEAD")
		w.Header().Set("Access-Control-Allow-Headers", "If-None-Match")
		w.Header().Set("Access-Control-Max-Age", "86400")
		w.WriteHeader(http.StatusNoContent)
		return
	}
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
	if h.opt.Allow != nil && !h.opt.Allow(w, r, a) {
		return service.Actor{}, false
	}
	return a, true
}

// serve writes the index with its digest as a strong ETag;
// http.ServeContent answers If-None-Match with 304, and HEAD.
func serve(w http.ResponseWriter, r *http.Request, a service.Actor, contentType, digest string, data []byte) {
	cacheHeaders(w, a)
	hd := w.Header()
	hd.Set("Content-Type", contentType)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("ETag", `"`+digest+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
}

// cacheHeaders: anonymous answers may be kept by shared caches, a key's
// only by its holder. Content changes at the same URL when a version is
// published, and the index and artifacts must agree for clients to verify
// them, so caches revalidate (cheap with the ETag) before each use.
func cacheHeaders(w http.ResponseWriter, a service.Actor) {
	hd := w.Header()
	hd.Set("Vary", "Authorization")
	if a.KeyID == uuid.Nil {
		hd.Set("Cache-Control", "public, no-cache")
	} else {
		hd.Set("Cache-Control", "private, no-cache")
	}
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

// indexCache holds built index documents per tenant and viewer. An entry
// is used only while its stamp is the tenant's current one; the cache is
// emptied when it would grow past maxCachedBytes, to bound its memory.
type indexCache struct {
	mu    sync.Mutex
	m     map[cacheKey]cachedIndex
	bytes int
}

type cacheKey struct {
	tenant uuid.UUID
	viewer string
}

type cachedIndex struct {
	stamp string
	body  []byte
	etag  string
}

// maxCachedBytes bounds the cache: a 1,000-skill index is about 250 KB.
const maxCachedBytes = 64 << 20

func (c *indexCache) get(k cacheKey) (cachedIndex, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

func (c *indexCache) put(k cacheKey, v cachedIndex) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[k]; ok {
		c.bytes -= len(old.body)
	}
	if c.bytes+len(v.body) > maxCachedBytes {
		clear(c.m)
		c.bytes = 0
	}
	c.m[k] = v
	c.bytes += len(v.body)
}
