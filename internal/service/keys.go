package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/ratelimit"
	"github.com/skillvault/skillvault/internal/store"
)

// KeyPrefix starts every API key, so leaked keys are easy to recognise
// (and to scan for).
const KeyPrefix = "sv_"

const keyAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newSecret returns sv_ followed by 43 base62 characters: 256 bits of
// randomness.
func newSecret() string {
	n := new(big.Int)
	b := make([]byte, 32)
	rand.Read(b)
	n.SetBytes(b)
	out := make([]byte, 0, 43)
	base := big.NewInt(62)
	mod := new(big.Int)
	for range 43 {
		n.DivMod(n, base, mod)
		out = append(out, keyAlphabet[mod.Int64()])
	}
	return KeyPrefix + string(out)
}

// HashKey is what the database stores of a key.
func HashKey(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// roleScopes are the scopes a user's role allows.
func roleScopes(role string) []string {
	if role == "admin" || role == "system" {
		return []string{"read", "write", "admin"}
	}
	return []string{"read", "write"}
}

// NewKey is what CreateKey needs.
type NewKey struct {
	Name          string   `json:"name"`
	Scopes        []string `json:"scopes"`
	ExpiresInDays *int     `json:"expires_in_days"`
}

// CreatedKey is a new key with its secret, shown once.
type CreatedKey struct {
	store.APIKey
	Secret string `json:"key"`
}

// CreateKey makes a key for user (the actor's own user unless a system
// actor names another). A key never exceeds its user's role, nor the
// credential that creates it.
func (s *Service) CreateKey(ctx context.Context, a Actor, user uuid.UUID, n NewKey) (CreatedKey, error) {
	// Making a credential is a write: a read-only key must not mint keys.
	if err := a.need("write"); err != nil {
		return CreatedKey{}, err
	}
	if a.Role != "system" {
		user = a.UserID
	}
	if len(n.Scopes) == 0 {
		n.Scopes = []string{"read"}
	}
	slices.Sort(n.Scopes)
	n.Scopes = slices.Compact(n.Scopes)
	for _, sc := range n.Scopes {
		if sc != "read" && sc != "write" && sc != "admin" {
			return CreatedKey{}, invalidf("unknown scope %q: use read, write or admin", sc)
		}
		if a.Role != "system" && !a.can(sc) {
			return CreatedKey{}, forbiddenf("a key cannot have the %q scope, which the credential creating it lacks", sc)
		}
	}
	if len(n.Name) > 200 {
		return CreatedKey{}, invalidf("name is longer than 200 characters")
	}
	if n.ExpiresInDays != nil && (*n.ExpiresInDays < 0 || *n.ExpiresInDays > 3650) {
		return CreatedKey{}, invalidf("expires_in_days must be between 0 (never) and 3650")
	}
	secret := newSecret()
	var out CreatedKey
	err := s.writeCounted(ctx, a, func(q database.Q) error {
		u, err := store.UserByID(ctx, q, user)
		if errors.Is(err, store.ErrNotFound) {
			return notFoundf("no such user")
		}
		if err != nil {
			return err
		}
		if !u.Active {
			return invalidf("user %s is deactivated", u.Email)
		}
		for _, sc := range n.Scopes {
			if !slices.Contains(roleScopes(u.Role), sc) {
				return forbiddenf("a %s cannot hold a key with the %q scope", u.Role, sc)
			}
		}
		if err := s.checkKeyQuota(ctx, q, user); err != nil {
			return err
		}
		days, err := s.keyExpiryDays(ctx, q)
		if err != nil {
			return err
		}
		if n.ExpiresInDays != nil {
			days = *n.ExpiresInDays
		}
		var expires *time.Time
		if days > 0 {
			t := time.Now().Add(time.Duration(days) * 24 * time.Hour)
			expires = &t
		}
		k, err := store.InsertKey(ctx, q, user, strings.TrimSpace(n.Name), secret[:len(KeyPrefix)+8], HashKey(secret), n.Scopes, expires)
		if err != nil {
			return err
		}
		out = CreatedKey{APIKey: k, Secret: secret}
		return s.audit(ctx, q, a, "key.create", "success", "api_key", k.ID.String(), map[string]any{"name": k.Name, "scopes": k.Scopes, "user": u.Email})
	})
	return out, err
}

func (s *Service) keyExpiryDays(ctx context.Context, q database.Q) (int, error) {
	st, err := s.settingsIn(ctx, q)
	return st.KeyExpiryDays, err
}

// ListKeys lists the actor's keys, or every key of the tenant when all is
// set (admins only). Secrets and hashes are never returned.
func (s *Service) ListKeys(ctx context.Context, a Actor, all bool, c *store.TimeCursor, limit int) ([]store.APIKey, error) {
	if a.UserID == uuid.Nil && a.Role != "system" {
		return nil, errUnauthenticated
	}
	var user *uuid.UUID
	if all {
		if err := a.need("admin"); err != nil {
			return nil, err
		}
	} else {
		user = &a.UserID
	}
	var out []store.APIKey
	err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
		var err error
		out, err = store.ListKeys(ctx, q, user, c, limit)
		return err
	})
	return out, err
}

// RevokeKey revokes one of the actor's keys, or any key of the tenant for
// an admin. Another user's key is "not found" to a member.
func (s *Service) RevokeKey(ctx context.Context, a Actor, id uuid.UUID) (store.APIKey, error) {
	if err := a.need("write"); err != nil {
		return store.APIKey{}, err
	}
	var k store.APIKey
	err := s.db.Write(ctx, a.scope(), func(q database.Q) error {
		var err error
		k, err = store.KeyByID(ctx, q, id)
		if errors.Is(err, store.ErrNotFound) || (err == nil && k.UserID != a.UserID && !a.isAdmin()) {
			return notFoundf("no such key")
		}
		if err != nil {
			return err
		}
		if k, err = store.RevokeKey(ctx, q, id); err != nil {
			return err
		}
		s.forgetAuth("key:" + id.String())
		return s.audit(ctx, q, a, "key.revoke", "success", "api_key", id.String(), map[string]any{"name": k.Name, "prefix": k.Prefix})
	})
	if err == nil {
		s.authChanged(ctx, "key:"+id.String())
	}
	return k, err
}

// RequestMeta is what an interface knows of a request before it knows the
// caller, for the audit trail.
type RequestMeta struct {
	RequestID, RemoteAddr, UserAgent, Source string
	// Resource is the canonical URI the request is for (scheme, host and
	// path): an OAuth access token is accepted only where it equals the
	// token's audience (RFC 8707).
	Resource string
}

// ErrBadCredentials is the one answer to every authentication failure:
// an unknown, revoked, expired or foreign key all look the same.
var ErrBadCredentials = &Error{Kind: Unauthenticated, Msg: "invalid or expired API key"}

// Authenticate turns an API key, or an OAuth access token for the
// resource m names, into an Actor. Failures are audited: in the
// credential's tenant when it exists, tenant-less otherwise.
func (s *Service) Authenticate(ctx context.Context, secret string, m RequestMeta) (Actor, error) {
	if strings.HasPrefix(secret, AccessTokenPrefix) {
		return s.authenticateOAuth(ctx, secret, m)
	}
	a := Actor{Source: m.Source, RequestID: m.RequestID, RemoteAddr: m.RemoteAddr, UserAgent: m.UserAgent}
	if !strings.HasPrefix(secret, KeyPrefix) || len(secret) > 100 {
		s.auditGlobal(ctx, m, "auth.key_failure", map[string]any{"reason": "malformed"})
		return a, ErrBadCredentials
	}
	hash := HashKey(secret)
	now := time.Now()
	live := s.auth.usable(now)
	rec, gen, cached := s.auth.keys.get(string(hash), now, live)
	var err error
	if !cached {
		rec, err = s.db.LookupAPIKey(ctx, hash)
		if err == nil {
			s.auth.keys.put(string(hash), rec, now, gen, live)
		}
	}
	if errors.Is(err, database.ErrNotFound) {
		s.auditGlobal(ctx, m, "auth.key_failure", map[string]any{"reason": "unknown", "prefix": secret[:min(len(secret), len(KeyPrefix)+8)]})
		return a, ErrBadCredentials
	}
	if err != nil {
		return a, err
	}
	a.TenantID, a.UserID, a.KeyID, a.Role, a.Scopes = rec.TenantID, rec.UserID, rec.KeyID, rec.UserRole, rec.Scopes
	if reason := credentialRefusal(rec.RevokedAt, rec.ExpiresAt, true, rec.UserActive, rec.TenantActive); reason != "" {
		s.authFailed(ctx, failure{a: a, action: "auth.key_failure", outcome: "denied", resType: "api_key", resID: rec.KeyID.String(),
			details: map[string]any{"reason": reason}})
		return Actor{}, ErrBadCredentials
	}
	a = clampToRole(a)
	s.touchKey(ctx, a)
	ratelimit.Proved(ctx)
	return a, nil
}

// clampToRole makes a credential's Actor no more than its user's current
// role (a key or token never exceeds it) nor than its own scopes: an
// admin's credential without the admin scope acts as a member, so it
// neither administers nor sees or edits other users' private skills
// (which go by role, down to the SQL).
func clampToRole(a Actor) Actor {
	a.Scopes = withinRole(a.Scopes, a.Role)
	if a.Role == "admin" && !a.can("admin") {
		a.Role = "member"
	}
	return a
}

// touchKey updates last_used_at at most once a minute per key and process,
// so reads do not write on every request.
func (s *Service) touchKey(ctx context.Context, a Actor) {
	if !s.touchDue(a.KeyID) {
		return
	}
	err := s.db.Write(ctx, a.scope(), func(q database.Q) error { return store.TouchKey(ctx, q, a.KeyID) })
	if err != nil {
		s.log.Warn("could not record key use", "key", a.KeyID, "err", err)
	}
}

// touchDue reports whether a credential's last use should be written now:
// at most once a minute per credential and process.
func (s *Service) touchDue(id uuid.UUID) bool {
	s.touchMu.Lock()
	defer s.touchMu.Unlock()
	now := time.Now()
	if last, ok := s.touched[id]; ok && now.Sub(last) < time.Minute {
		return false
	}
	s.touched[id] = now
	return true
}

// auditGlobal records a failed authentication before any tenant is known.
func (s *Service) auditGlobal(ctx context.Context, m RequestMeta, action string, details map[string]any) {
	a := Actor{RequestID: m.RequestID, RemoteAddr: m.RemoteAddr, UserAgent: m.UserAgent}
	s.authFailed(ctx, failure{a: a, action: action, outcome: "failure", details: details})
}

// AuditDenied records a refused attempt in the actor's tenant, in a
// transaction of its own (the attempt itself changed nothing). A refused
// authentication (auth.*, such as a key at another tenant's host) also
// counts against the client's address.
func (s *Service) AuditDenied(ctx context.Context, a Actor, action, resType, resID string, details map[string]any) {
	if strings.HasPrefix(action, "auth.") {
		ratelimit.Failed(ctx)
	}
	err := s.db.Write(ctx, a.scope(), func(q database.Q) error {
		return s.audit(ctx, q, a, action, "denied", resType, resID, details)
	})
	if err != nil {
		s.log.Error("could not write audit event", "action", action, "err", err)
	}
}

// credentialRefusal says why a credential that exists (an API key or an
// OAuth access token) may not be used now, or "" when it may: revoked,
// expired, issued for another resource (audience), or its user or tenant
// deactivated. One rule for both, so they cannot drift apart.
func credentialRefusal(revokedAt, expiresAt *time.Time, audienceOK, userActive, tenantActive bool) string {
	switch {
	case revokedAt != nil:
		return "revoked"
	case expiresAt != nil && time.Now().After(*expiresAt):
		return "expired"
	case !audienceOK:
		return "audience"
	case !userActive:
		return "user deactivated"
	case !tenantActive:
		return "tenant inactive"
	}
	return ""
}
