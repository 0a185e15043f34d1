package service

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/ratelimit"
	"github.com/skillvault/skillvault/internal/store"
)

// Web sign-in: one-time login links, browser sessions, and the sign-in of
// a person verified by an OpenID Connect provider. Tokens carry their
// tenant ("<tenant-uuid>.<secret>") so they are checked inside that
// tenant's scope; only their SHA-256 is stored.

const (
	// LoginLinkTTL is how long a login link may be used (once).
	LoginLinkTTL = 15 * time.Minute
	// SessionIdle ends a session that has not been used for this long.
	SessionIdle = 12 * time.Hour
	// SessionMaxAge ends every session this long after sign-in.
	SessionMaxAge = 14 * 24 * time.Hour
	// sessionTouchEvery throttles last_seen_at writes.
	sessionTouchEvery = time.Minute
)

// ErrSignInFailed is the one answer to a failed sign-in: an unknown,
// expired, used or foreign token all look the same.
var ErrSignInFailed = &Error{Kind: Unauthenticated, Msg: "this sign-in link or session is invalid or has expired"}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// splitToken parses "<tenant-uuid>.<secret>".
func splitToken(tok string) (uuid.UUID, bool) {
	t, secret, ok := strings.Cut(tok, ".")
	if !ok || len(secret) < 20 || len(tok) > 200 {
		return uuid.Nil, false
	}
	id, err := uuid.Parse(t)
	if err != nil || id == uuid.Nil || id.String() != t {
		return uuid.Nil, false
	}
	return id, true
}

// TokenTenant returns the tenant a login-link or session token names, if
// it is well formed.
func TokenTenant(tok string) (uuid.UUID, bool) { return splitToken(tok) }

// CreateLoginLink issues a one-time sign-in link for a user of the actor's
// tenant (admins and system work only) and returns its path, /login/<token>.
func (s *Service) CreateLoginLink(ctx context.Context, a Actor, userID uuid.UUID) (string, error) {
	if err := a.need("admin"); err != nil {
		return "", err
	}
	tok := a.TenantID.String() + "." + randomToken()
	err := s.db.Write(ctx, a.scope(), func(q database.Q) error {
		u, err := store.UserByID(ctx, q, userID)
		if errors.Is(err, store.ErrNotFound) {
			return notFoundf("no such user")
		}
		if err != nil {
			return err
		}
		if !u.Active {
			return invalidf("user %s is deactivated", u.Email)
		}
		id, err := store.InsertLoginLink(ctx, q, userID, HashKey(tok), time.Now().Add(LoginLinkTTL))
		if err != nil {
			return err
		}
		return s.audit(ctx, q, a, "auth.login_link_create", "success", "login_link", id.String(), map[string]any{"user": u.Email})
	})
	if err != nil {
		return "", err
	}
	return "/login/" + tok, nil
}

// LoginLinkInfo says whom a usable login link signs in, without using it.
func (s *Service) LoginLinkInfo(ctx context.Context, tok string) (email string, err error) {
	tenant, ok := splitToken(tok)
	if !ok {
		return "", ErrSignInFailed
	}
	err = s.db.Read(ctx, database.Scope{TenantID: tenant}, func(q database.Q) error {
		l, err := store.PeekLoginLink(ctx, q, HashKey(tok))
		if err != nil {
			return err
		}
		if l.UsedAt != nil || time.Now().After(l.ExpiresAt) {
			return store.ErrNotFound
		}
		email = l.Email
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", ErrSignInFailed
	}
	return email, err
}

// NewSession is a session just started: the token goes into the cookie
// and is never shown again.
type NewSession struct {
	Token     string
	CSRF      string
	ExpiresAt time.Time
	Actor     Actor
}

// RedeemLoginLink uses a login link once and starts a session. Every
// failure is audited (in the link's tenant when the token names one).
func (s *Service) RedeemLoginLink(ctx context.Context, tok string, m RequestMeta) (NewSession, error) {
	tenant, ok := splitToken(tok)
	if !ok {
		s.auditGlobal(ctx, m, "auth.login_failure", map[string]any{"method": "link", "reason": "malformed"})
		return NewSession{}, ErrSignInFailed
	}
	a := metaActor(tenant, m)
	var out NewSession
	reason := ""
	err := s.db.Write(ctx, a.scope(), func(q database.Q) error {
		l, err := store.LockLoginLink(ctx, q, HashKey(tok))
		switch {
		case errors.Is(err, store.ErrNotFound):
			reason = "unknown"
		case err != nil:
			return err
		case l.UsedAt != nil:
			reason = "used"
		case time.Now().After(l.ExpiresAt):
			reason = "expired"
		}
		if reason != "" {
			return nil
		}
		if used, err := store.UseLoginLink(ctx, q, l.ID); err != nil || !used {
			reason = "used"
			return err
		}
		u, err := store.UserByID(ctx, q, l.UserID)
		if err != nil {
			return err
		}
		if !u.Active {
			reason = "user deactivated"
			return nil
		}
		out, err = s.startSession(ctx, q, a, u, "link")
		return err
	})
	if err != nil {
		return NewSession{}, err
	}
	if reason != "" {
		s.auditFailure(ctx, a, "link", reason, nil)
		return NewSession{}, ErrSignInFailed
	}
	return out, nil
}

// metaActor is an anonymous actor of a tenant, for sign-in work.
func metaActor(tenant uuid.UUID, m RequestMeta) Actor {
	if m.Source == "" {
		m.Source = "web"
	}
	return Actor{TenantID: tenant, Source: m.Source, RequestID: m.RequestID, RemoteAddr: m.RemoteAddr, UserAgent: m.UserAgent}
}

// sessionActor is the Actor of a signed-in user.
func sessionActor(tenant uuid.UUID, u store.User, m Actor) Actor {
	a := m
	a.TenantID, a.UserID, a.Email, a.Role, a.Scopes, a.KeyID = tenant, u.ID, u.Email, u.Role, roleScopes(u.Role), uuid.Nil
	a.Source = "web"
	return a
}

// startSession creates a session for u inside q's transaction, records the
// sign-in on the user and in the audit trail.
func (s *Service) startSession(ctx context.Context, q database.Q, m Actor, u store.User, method string) (NewSession, error) {
	// Sign-ins sweep the tenant's dead sessions, so the table holds only
	// live ones without a background job.
	if _, err := store.DeleteExpiredSessions(ctx, q, time.Now().Add(-SessionIdle)); err != nil {
		return NewSession{}, err
	}
	tok := m.TenantID.String() + "." + randomToken()
	csrf := randomToken()
	expires := time.Now().Add(SessionMaxAge)
	id, _, err := store.InsertSession(ctx, q, u.ID, HashKey(tok), csrf, expires)
	if err != nil {
		return NewSession{}, err
	}
	if err := store.TouchLogin(ctx, q, u.ID); err != nil {
		return NewSession{}, err
	}
	a := sessionActor(m.TenantID, u, m)
	if err := s.audit(ctx, q, a, "auth.login", "success", "session", id.String(), map[string]any{"method": method, "email": u.Email}); err != nil {
		return NewSession{}, err
	}
	return NewSession{Token: tok, CSRF: csrf, ExpiresAt: expires, Actor: a}, nil
}

func (s *Service) auditFailure(ctx context.Context, a Actor, method, reason string, extra map[string]any) {
	d := map[string]any{"method": method, "reason": reason}
	for k, v := range extra {
		d[k] = v
	}
	s.authFailed(ctx, failure{a: a, action: "auth.login_failure", outcome: "failure", resType: "session", details: d})
}

// AuditSignInFailure records a sign-in that failed before a session could
// start (a refused identity provider answer, an unknown email domain). A
// zero tenant writes a tenant-less event.
func (s *Service) AuditSignInFailure(ctx context.Context, tenant uuid.UUID, method, reason string, m RequestMeta, details map[string]any) {
	if tenant == uuid.Nil || tenant == uuid.Max {
		d := map[string]any{"method": method, "reason": reason}
		for k, v := range details {
			d[k] = v
		}
		s.auditGlobal(ctx, m, "auth.login_failure", d)
		return
	}
	s.auditFailure(ctx, metaActor(tenant, m), method, reason, details)
}

// SessionState is what a request learns from its session cookie.
type SessionState struct {
	ID         uuid.UUID
	CSRF       string
	TenantSlug string
	TenantName string
	Name       string
	ExpiresAt  time.Time
}

// SessionActor turns a session token into the signed-in user's Actor. An
// unknown, expired or idle session, a deactivated user or an inactive
// tenant all give ErrSignInFailed; expired sessions are deleted.
func (s *Service) SessionActor(ctx context.Context, tok string, m RequestMeta) (Actor, SessionState, error) {
	a, st, err := s.sessionActor(ctx, tok, m)
	switch {
	case err == nil:
		ratelimit.Proved(ctx)
	case errors.Is(err, ErrSignInFailed):
		// A dead or forged session counts against the client's address,
		// like a bad key; it is not audited (expired sessions are normal).
		ratelimit.Failed(ctx)
	}
	return a, st, err
}

func (s *Service) sessionActor(ctx context.Context, tok string, m RequestMeta) (Actor, SessionState, error) {
	tenant, ok := splitToken(tok)
	if !ok {
		return Actor{}, SessionState{}, ErrSignInFailed
	}
	base := metaActor(tenant, m)
	var ws store.WebSession
	err := s.db.Read(ctx, base.scope(), func(q database.Q) error {
		var err error
		ws, err = store.SessionByHash(ctx, q, HashKey(tok))
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return Actor{}, SessionState{}, ErrSignInFailed
	}
	if err != nil {
		return Actor{}, SessionState{}, err
	}
	now := time.Now()
	if now.After(ws.ExpiresAt) || now.Sub(ws.LastSeenAt) > SessionIdle || !ws.UserActive || !ws.TenantActive {
		err := s.db.Write(ctx, base.scope(), func(q database.Q) error { return store.DeleteSession(ctx, q, ws.ID) })
		if err != nil {
			s.log.Warn("could not delete an expired session", "err", err)
		}
		return Actor{}, SessionState{}, ErrSignInFailed
	}
	if now.Sub(ws.LastSeenAt) > sessionTouchEvery {
		err := s.db.Write(ctx, base.scope(), func(q database.Q) error { return store.TouchSession(ctx, q, ws.ID) })
		if err != nil {
			s.log.Warn("could not record session use", "err", err)
		}
	}
	a := sessionActor(tenant, store.User{ID: ws.UserID, Email: ws.Email, Role: ws.Role}, base)
	return a, SessionState{ID: ws.ID, CSRF: ws.CSRF, TenantSlug: ws.TenantSlug, TenantName: ws.TenantName, Name: ws.Name, ExpiresAt: ws.ExpiresAt}, nil
}

// SignOut ends the session of a token (a no-op for unknown tokens).
func (s *Service) SignOut(ctx context.Context, tok string, m RequestMeta) error {
	tenant, ok := splitToken(tok)
	if !ok {
		return nil
	}
	base := metaActor(tenant, m)
	return s.db.Write(ctx, base.scope(), func(q database.Q) error {
		ws, err := store.SessionByHash(ctx, q, HashKey(tok))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := store.DeleteSession(ctx, q, ws.ID); err != nil {
			return err
		}
		a := sessionActor(tenant, store.User{ID: ws.UserID, Email: ws.Email, Role: ws.Role}, base)
		return s.audit(ctx, q, a, "auth.logout", "success", "session", ws.ID.String(), nil)
	})
}

// SignOutEverywhere ends every session of the acting user.
func (s *Service) SignOutEverywhere(ctx context.Context, a Actor) (int64, error) {
	if a.UserID == uuid.Nil {
		return 0, errUnauthenticated
	}
	var n int64
	err := s.db.Write(ctx, a.scope(), func(q database.Q) error {
		var err error
		if n, err = store.DeleteUserSessions(ctx, q, a.UserID); err != nil {
			return err
		}
		return s.audit(ctx, q, a, "auth.logout_everywhere", "success", "user", a.UserID.String(), map[string]any{"sessions": n})
	})
	return n, err
}

// TenantByEmailDomain finds the tenant that owns an email domain, for
// sign-in on the bare host. Inactive tenants are not found.
func (s *Service) TenantByEmailDomain(ctx context.Context, domain string) (uuid.UUID, error) {
	t, err := s.db.TenantByEmailDomain(ctx, strings.ToLower(strings.TrimSpace(domain)))
	if errors.Is(err, database.ErrNotFound) || (err == nil && !t.Active) {
		return uuid.Nil, notFoundf("no organisation signs in with @%s addresses", domain)
	}
	return t.ID, err
}

// Identity is a person as an identity provider vouches for them.
type Identity struct {
	Email         string
	EmailVerified bool
	Name          string
	Subject       string
	Issuer        string
}

// SignInIdentity signs in a verified identity in a tenant. A user that
// does not exist yet is created as a member, or as admin when the tenant
// has no active admin, but only when the email's domain is the tenant's
// email domain: anyone else must be added by an admin first.
func (s *Service) SignInIdentity(ctx context.Context, tenant uuid.UUID, id Identity, m RequestMeta) (NewSession, error) {
	a := metaActor(tenant, m)
	fail := func(reason string) (NewSession, error) {
		s.auditFailure(ctx, a, "oidc", reason, map[string]any{"email": id.Email, "issuer": id.Issuer})
		return NewSession{}, ErrSignInFailed
	}
	email, err := normaliseEmail(id.Email)
	if err != nil {
		return fail("invalid email")
	}
	if !id.EmailVerified {
		return fail("email not verified")
	}
	var out NewSession
	reason := ""
	err = s.db.Write(ctx, a.scope(), func(q database.Q) error {
		t, err := store.TenantSelf(ctx, q)
		if errors.Is(err, store.ErrNotFound) {
			reason = "unknown tenant"
			return nil
		}
		if err != nil {
			return err
		}
		if !t.Active {
			reason = "tenant inactive"
			return nil
		}
		u, err := store.UserByEmail(ctx, q, email)
		if errors.Is(err, store.ErrNotFound) {
			_, domain, _ := strings.Cut(email, "@")
			if t.EmailDomain == "" || domain != t.EmailDomain {
				reason = "not a member"
				return nil
			}
			admins, err := store.CountActiveAdmins(ctx, q)
			if err != nil {
				return err
			}
			role := "member"
			if admins == 0 {
				role = "admin"
			}
			if u, err = store.InsertUser(ctx, q, email, strings.TrimSpace(id.Name), role); err != nil {
				return err
			}
			sys := a
			sys.Role = "system"
			if err := s.audit(ctx, q, sys, "user.create", "success", "user", u.ID.String(),
				map[string]any{"email": email, "role": role, "via": "oidc"}); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if !u.Active {
			reason = "user deactivated"
			return nil
		}
		out, err = s.startSession(ctx, q, a, u, "oidc")
		return err
	})
	if err != nil {
		return NewSession{}, err
	}
	if reason != "" {
		return fail(reason)
	}
	return out, nil
}

// DeleteExpiredSessions removes a tenant's expired sessions.
func (s *Service) DeleteExpiredSessions(ctx context.Context, a Actor) (int64, error) {
	var n int64
	err := s.db.Write(ctx, a.scope(), func(q database.Q) error {
		var err error
		n, err = store.DeleteExpiredSessions(ctx, q, time.Now().Add(-SessionIdle))
		return err
	})
	return n, err
}

// The admin helper below serves the web UI's analytics page; it belongs
// with usage and can move there.
