package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/review"
	"github.com/skillvault/skillvault/internal/service"
)

// Problem is an RFC 9457 problem detail. Type is stable per kind of error,
// so clients can branch on it.
type Problem struct {
	Type     string           `json:"type"`
	Title    string           `json:"title"`
	Status   int              `json:"status"`
	Detail   string           `json:"detail,omitempty"`
	Instance string           `json:"instance,omitempty"`
	Quota    *QuotaProblem    `json:"quota,omitempty"` // with /problems/quota-exceeded
	Problems []bundle.Problem `json:"problems,omitempty"`
	// Findings are the safety findings behind a /problems/blocked-by-review
	// refusal: rule, file, line, message and severity.
	Findings []review.Finding `json:"findings,omitempty"`
	// Limit names the rate limit a 429 hit: key, tenant or address.
	Limit string `json:"limit,omitempty"`
}

// QuotaProblem names the quota that refused a request, the limit of the
// caller's tenant, and what the tenant (for versions the skill, for
// keys_per_user the user) used before the request.
type QuotaProblem struct {
	Name  string `json:"name"` // bytes, skills, versions or keys_per_user
	Limit int64  `json:"limit"`
	Usage int64  `json:"usage"`
}

var kinds = map[service.Kind]struct {
	status int
	typ    string
	title  string
}{
	service.Invalid:         {http.StatusBadRequest, "/problems/invalid", "Invalid request"},
	service.NotFound:        {http.StatusNotFound, "/problems/not-found", "Not found"},
	service.Forbidden:       {http.StatusForbidden, "/problems/forbidden", "Forbidden"},
	service.Unauthenticated: {http.StatusUnauthorized, "/problems/unauthenticated", "Authentication required"},
	service.Conflict:        {http.StatusConflict, "/problems/conflict", "Conflict"},
	service.TooLarge:        {http.StatusRequestEntityTooLarge, "/problems/too-large", "Request too large"},
	service.Unavailable:     {http.StatusServiceUnavailable, "/problems/unavailable", "Service unavailable"},
	service.Blocked:         {http.StatusConflict, "/problems/blocked-by-review", "Blocked by a safety finding"},
	service.Internal:        {http.StatusInternalServerError, "/problems/internal", "Internal error"},
}

// WriteProblem answers with a problem of the given status and type.
func WriteProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	p.Instance = RequestID(r.Context())
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="skillvault"`)
	}
	if p.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "2")
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p)
}

// WriteRateLimited answers 429 for the named rate limit (key, tenant or
// address), with a Retry-After of at least wait.
func WriteRateLimited(w http.ResponseWriter, r *http.Request, limit string, wait time.Duration, detail string) {
	w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
	WriteProblem(w, r, Problem{Type: "/problems/rate-limited", Title: "Too many requests", Status: http.StatusTooManyRequests,
		Detail: detail, Limit: limit})
}

// writeError maps a service error to a problem. Internal errors are logged
// with the request id and shown without detail.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		k := kinds[service.TooLarge]
		WriteProblem(w, r, Problem{Type: k.typ, Title: k.title, Status: k.status, Detail: "the request body is larger than the limit of " + itoa64(mbe.Limit) + " bytes"})
		return
	}
	var ume *unsupportedMediaError
	if errors.As(err, &ume) {
		WriteProblem(w, r, Problem{Type: "/problems/unsupported-media-type", Title: "Unsupported media type",
			Status: http.StatusUnsupportedMediaType, Detail: ume.msg})
		return
	}
	kind := service.KindOf(err)
	k := kinds[kind]
	p := Problem{Type: k.typ, Title: k.title, Status: k.status}
	if e, ok := service.AsError(err); ok {
		p.Detail, p.Problems, p.Findings = e.Msg, e.Problems, e.Findings
	}
	if e, ok := service.AsError(err); ok && e.Quota != nil {
		// Every quota refusal has one type, whatever its status.
		p.Type, p.Title = "/problems/quota-exceeded", "Quota exceeded"
		p.Quota = &QuotaProblem{Name: e.Quota.Quota, Limit: e.Quota.Limit, Usage: e.Quota.Usage}
	}
	if kind == service.Invalid && len(p.Problems) > 0 {
		// A bundle that fails validation has a type of its own, so that
		// clients can show the per-file problems.
		p.Type, p.Title = "/problems/invalid-bundle", "Invalid skill bundle"
	}
	switch kind {
	case service.Internal:
		log.Error("request failed", "request_id", RequestID(r.Context()), "method", r.Method, "path", r.URL.Path, "err", err)
		p.Detail = "something went wrong on our side; quote the instance id when reporting it"
	case service.Unavailable:
		log.Warn("database unavailable", "request_id", RequestID(r.Context()), "err", err)
		p.Detail = "the database is not reachable right now; retry shortly"
	}
	WriteProblem(w, r, p)
}

// unsupportedMediaError is a body sent with a content type the route does
// not take (415).
type unsupportedMediaError struct{ msg string }

func (e *unsupportedMediaError) Error() string { return e.msg }

func badRequest(w http.ResponseWriter, r *http.Request, detail string) {
	k := kinds[service.Invalid]
	WriteProblem(w, r, Problem{Type: k.typ, Title: k.title, Status: k.status, Detail: detail})
}
