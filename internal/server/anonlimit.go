package server

import (
	"net/http"
	"time"

	"github.com/skillvault/skillvault/internal/api"
	"github.com/skillvault/skillvault/internal/ratelimit"
	"github.com/skillvault/skillvault/internal/service"
)

// anonLimit limits, per client address, every request that proves no
// credential. It wraps the whole mux, so every route of every interface
// (REST, MCP, discovery, web, health) passes through it, including routes
// added later.
//
//   - A request that claims no credential takes a token before it is
//     served, and is refused with 429 when its address has none.
//   - A request that claims one (a bearer key, or a cookie holding a
//     session token) is served as long as its address has tokens, and is
//     counted afterwards unless authentication proved the credential. A
//     failed authentication (a bad key, a dead session, a failed sign-in)
//     counts at once, through the gate in the request's context.
//   - Once the address has no tokens left, a claimed credential is checked
//     here, before anything else runs: a valid one is served (someone
//     else's flood does not lock out a real user at the same address), any
//     other gets 429.
func (s *Server) anonLimit(next http.Handler) http.Handler {
	if s.anon == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g := ratelimit.NewGate(s.anon, ratelimit.ClientKey(r.RemoteAddr))
		gr := r.WithContext(ratelimit.WithGate(r.Context(), g))
		if !claimsCredential(gr) {
			if ok, wait := g.Charge(); !ok {
				tooManyAnonymous(w, gr, wait)
				return
			}
		} else if empty, wait := g.Exhausted(); empty && !s.validCredential(gr) {
			tooManyAnonymous(w, gr, wait)
			return
		}
		next.ServeHTTP(w, gr)
		// The mux recorded its route on the request it was given; the
		// metrics label requests by it.
		r.Pattern = gr.Pattern
		g.Settle()
	})
}

// claimsCredential reports whether r carries something that may be a
// credential: an Authorization header, or a cookie whose value has the
// shape of a session token (whatever the cookie's name).
func claimsCredential(r *http.Request) bool {
	if r.Header.Get("Authorization") != "" {
		return true
	}
	for _, c := range r.Cookies() {
		if _, ok := service.TokenTenant(c.Value); ok {
			return true
		}
	}
	return false
}

// validCredential reports whether r proves a credential: an API key valid
// at this host, or a live session. Bad keys are audited through the
// failure log like any other; a good key at another tenant's host only
// counts as failed here (the API would audit each one, and this address
// is already over its allowance).
func (s *Server) validCredential(r *http.Request) bool {
	if secret, ok := api.BearerToken(r); ok {
		a, err := s.svc.Authenticate(r.Context(), secret, api.Meta(r, "api"))
		if err != nil {
			return false
		}
		if t, named := s.HostTenant(r); named && t != a.TenantID {
			ratelimit.Failed(r.Context())
			return false
		}
		return true
	}
	// Only the first cookie shaped like a session token is looked up: a
	// browser sends one session, and a refused request must not buy a
	// database transaction per forged cookie.
	for _, c := range r.Cookies() {
		if _, ok := service.TokenTenant(c.Value); ok {
			_, _, err := s.svc.SessionActor(r.Context(), c.Value, api.Meta(r, "web"))
			return err == nil
		}
	}
	return false
}

func tooManyAnonymous(w http.ResponseWriter, r *http.Request, wait time.Duration) {
	api.WriteRateLimited(w, r, "address", wait,
		"too many requests without a valid credential from this address; retry after the Retry-After delay")
}
