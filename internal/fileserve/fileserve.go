// Package fileserve is the one place that sends a skill bundle's bytes to
// an HTTP client, whatever the route (REST, web UI, well-known discovery).
//
// Bundles are written by users, and they are served from a tenant's own
// origin: a served .html, .svg or .js file would run with that origin's
// cookies and forms. So the type of a served file never depends on its
// name: text is text/plain (SKILL.md text/markdown), anything else an
// octet-stream attachment, and every answer carries nosniff and a sandbox
// CSP, so even a browser that guessed would run nothing.
package fileserve

import (
	"bytes"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Served types: the only ones a bundle's bytes ever go out with.
const (
	TypeText     = "text/plain; charset=utf-8"
	TypeMarkdown = "text/markdown; charset=utf-8"
	TypeBinary   = "application/octet-stream"
	TypeZip      = "application/zip"
	TypeGzip     = "application/gzip"
)

// CSP forbids everything a document could do, should a browser ever render
// one anyway.
const CSP = "sandbox; default-src 'none'"

// IsText reports whether data is text: valid UTF-8 without NUL bytes.
func IsText(data []byte) bool {
	return utf8.Valid(data) && !bytes.ContainsRune(data, 0)
}

// ContentType is the type a bundle file is served with. It looks at the
// content, never the extension, so no name can choose a type a browser
// executes; only the bundle's SKILL.md is named as Markdown.
func ContentType(p string, data []byte) string {
	switch {
	case !IsText(data):
		return TypeBinary
	case path.Base(p) == "SKILL.md":
		return TypeMarkdown
	}
	return TypeText
}

// File serves one bundle file at path p with the given strong ETag value
// (a digest, without quotes). http.ServeContent answers HEAD, ranges and
// If-None-Match.
func File(w http.ResponseWriter, r *http.Request, p string, data []byte, etag string) {
	ct := ContentType(p, data)
	if ct == TypeBinary {
		w.Header().Set("Content-Disposition", Attachment(path.Base(p)))
	}
	serve(w, r, ct, data, etag)
}

// Archive serves a whole skill as an archive attachment; contentType is
// TypeZip or TypeGzip.
func Archive(w http.ResponseWriter, r *http.Request, filename, contentType string, data []byte, etag string) {
	if contentType != TypeZip && contentType != TypeGzip {
		contentType = TypeBinary
	}
	w.Header().Set("Content-Disposition", Attachment(filename))
	serve(w, r, contentType, data, etag)
}

func serve(w http.ResponseWriter, r *http.Request, contentType string, data []byte, etag string) {
	if !registered(r.Pattern) {
		// A route serving bundle bytes that is not declared would escape
		// the test that checks every declared route: refuse it loudly.
		http.Error(w, "internal error: undeclared file route "+r.Pattern, http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", CSP)
	if etag != "" {
		h.Set("ETag", `"`+etag+`"`)
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
}

// Attachment is a Content-Disposition attachment header for name, reduced
// to its last path element without control characters; mime quotes it, or
// uses RFC 2231's UTF-8 form for names that are not ASCII.
func Attachment(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(c rune) rune {
		if c < 0x20 || c == 0x7f {
			return '_'
		}
		return c
	}, name)
	if name == "." || name == "/" || name == ".." || !utf8.ValidString(name) {
		name = "file"
	}
	if v := mime.FormatMediaType("attachment", map[string]string{"filename": name}); v != "" {
		return v
	}
	return `attachment; filename="file"`
}

// Route is a route that serves bundle bytes. Every such route is declared
// here, by the package that registers it, so that one test can request a
// file of every type through each of them.
type Route struct {
	Pattern string // the ServeMux pattern, e.g. "GET /x/{name}/{path...}"
	// Auth is how a caller reaches it: "key" (bearer API key), "session"
	// (a signed-in browser) or "anonymous".
	Auth string
	// Archive marks a route that serves the whole skill as an archive.
	Archive bool
	// Path is the path and query of the route for a skill's file (the
	// file is ignored by archive routes).
	Path func(skill, file string) string
}

// EscapePath escapes each segment of a bundle path for a URL.
func EscapePath(p string) string {
	seg := strings.Split(p, "/")
	for i, s := range seg {
		seg[i] = url.PathEscape(s)
	}
	return strings.Join(seg, "/")
}

var (
	mu     sync.Mutex
	routes []Route
)

// Declare records routes and returns them.
func Declare(rs ...Route) []Route {
	mu.Lock()
	defer mu.Unlock()
	routes = append(routes, rs...)
	return rs
}

// Routes returns every declared route.
func Routes() []Route {
	mu.Lock()
	defer mu.Unlock()
	return slices.Clone(routes)
}

func registered(pattern string) bool {
	mu.Lock()
	defer mu.Unlock()
	return slices.ContainsFunc(routes, func(rt Route) bool { return rt.Pattern == pattern })
}
