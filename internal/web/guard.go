package web

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
)

// The CSRF guard. Tenant hosts share a parent domain, so they are one
// site: SameSite cookies are sent on a form that a page of another tenant
// posts to this one. What separates tenants is this guard, in front of
// every state-changing request of the UI (Register puts it in front of
// every route), whatever its content type:
//
//  1. the browser must say the request comes from this origin: Go's
//     CrossOriginProtection (Sec-Fetch-Site same-origin or none, or,
//     without it, an Origin equal to the host), and never "Origin: null",
//     which a page sends with a no-referrer policy or from a sandbox;
//  2. it must carry the token of its session: the X-CSRF-Token header, or
//     the form field "csrf" (for multipart bodies the first part, read
//     here before the handler sees the body). A request without a session
//     (the login-link form, signing out) carries the pre-session token of
//     its host-only cookie instead (double submit).
//
// A refused request changes nothing: the handler never runs.
//
// Safe requests pass too, except the subresources another origin of the
// site or another site makes (foreignSubresource): only a top-level
// navigation from elsewhere is served.

const (
	tokenField = "csrf"
	// maxFormBytes bounds a urlencoded form, which the guard parses.
	maxFormBytes = 1 << 20
	// maxTokenPrefix bounds how far into a multipart body the guard reads
	// to find the token part, which a page of ours always sends first.
	maxTokenPrefix = 64 << 10
	maxTokenBytes  = 256
)

var (
	errOpaqueOrigin = errors.New("request from an opaque origin (Origin: null)")
	errBadToken     = errors.New("csrf token missing or wrong")
)

// crossOrigin is the origin half of the guard; it trusts no other origin.
var crossOrigin = http.NewCrossOriginProtection()

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// guard refuses every unsafe request that fails the checks above with a
// 403 page, audited when the request has a session. The session it looks
// up is handed on to the handler, so it is read once.
func (wb *Web) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if safeMethod(r.Method) {
			if foreignSubresource(r) {
				c, _ := wb.requestSession(r)
				wb.errorPage(w, r, c, http.StatusForbidden, "Request refused",
					"This page cannot be loaded from another site. Open it from its address instead.")
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		c, _ := wb.session(r)
		r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, sessionLookup{c}))
		err := wb.checkRequest(w, r, c)
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			wb.fail(w, r, c, err)
		case err != nil:
			if c != nil {
				wb.AuditCSRF(r, c)
			}
			wb.errorPage(w, r, c, http.StatusForbidden, "Request refused",
				"This form was not sent from a page of this site, or it is too old. Go back, reload the page and try again.")
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// foreignSubresource reports a request that the browser says another
// origin made without the user following a link: an image, script, style,
// fetch or frame of another tenant's page (same site) or another site.
// The browser sends cookies with those, so they would run as the
// signed-in user: a GET that records a download would be recorded, and
// the answer's size and timing are what cross-site leaks measure. Only a
// top-level navigation from elsewhere is served. Browsers without Fetch
// Metadata send no Sec-Fetch-Site and are served as before.
func foreignSubresource(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-site", "cross-site":
		return r.Header.Get("Sec-Fetch-Mode") != "navigate" || r.Header.Get("Sec-Fetch-Dest") != "document"
	}
	return false
}

func (wb *Web) checkRequest(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	if r.Header.Get("Origin") == "null" {
		return errOpaqueOrigin
	}
	if err := crossOrigin.Check(r); err != nil {
		return err
	}
	want := wb.readCookie(r, preCookie)
	if c != nil {
		want = c.S.CSRF
	}
	got, err := submittedToken(w, r)
	if err != nil {
		return err
	}
	if !tokenEqual(got, want) {
		return errBadToken
	}
	return nil
}

// submittedToken returns the token a request carries. A body of another
// type than a form carries none but in the header.
func submittedToken(w http.ResponseWriter, r *http.Request) (string, error) {
	if tok := r.Header.Get("X-CSRF-Token"); tok != "" {
		return tok, nil
	}
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/x-www-form-urlencoded":
		// Parsed here once; the handler reads r.PostForm. A token in the
		// query string does not count (URLs leak through logs).
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			return "", err
		}
		return r.PostForm.Get(tokenField), nil
	case "multipart/form-data":
		return firstPartToken(r, params["boundary"]), nil
	}
	return "", nil
}

// firstPartToken reads the token from the first part of a multipart body,
// which must be the field "csrf", then puts back every byte it read, so
// the handler streams the whole body as it was sent (an upload is never
// buffered whole here).
func firstPartToken(r *http.Request, boundary string) string {
	if boundary == "" {
		return ""
	}
	var seen bytes.Buffer
	mr := multipart.NewReader(io.TeeReader(io.LimitReader(r.Body, maxTokenPrefix), &seen), boundary)
	tok := ""
	if p, err := mr.NextPart(); err == nil && p.FormName() == tokenField && p.FileName() == "" {
		b, err := io.ReadAll(io.LimitReader(p, maxTokenBytes+1))
		if err == nil && len(b) <= maxTokenBytes {
			tok = string(b)
		}
	}
	r.Body = replayedBody{io.MultiReader(bytes.NewReader(seen.Bytes()), r.Body), r.Body}
	return tok
}

type replayedBody struct {
	io.Reader
	io.Closer
}

// sessionKey carries the guard's session look-up to the handler.
type sessionKey struct{}

type sessionLookup struct{ c *reqCtx }

// requestSession is the signed-in user of the request: the guard's
// look-up when it made one, else a fresh one.
func (wb *Web) requestSession(r *http.Request) (*reqCtx, bool) {
	if l, ok := r.Context().Value(sessionKey{}).(sessionLookup); ok {
		return l.c, l.c != nil
	}
	return wb.session(r)
}
