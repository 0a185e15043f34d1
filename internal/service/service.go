// Package service is Skillvault's behaviour: who may do what, and in which
// order, for users, keys, skills, versions, ratings, usage, settings and
// audit. Interfaces (REST, MCP, web, CLI) call it with an Actor; it runs
// every tenant query inside that actor's database.Scope and writes the
// audit trail in the same transaction as the change.
package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/egress"
	"github.com/skillvault/skillvault/internal/review"
	"github.com/skillvault/skillvault/internal/secrets"
	"github.com/skillvault/skillvault/internal/store"
)

// Service is the application core.
type Service struct {
	db     *database.DB
	log    *slog.Logger
	limits bundle.Limits
	quotas Quotas // every tenant's defaults; the operator overrides them per tenant

	touchMu sync.Mutex
	touched map[uuid.UUID]time.Time // API key last_used_at throttle

	embedders embedders
	vectors   vectorCache
	counters  EmbedCounters
	wake      chan struct{}
	llm       LLMConfig
	egress    *egress.Client
	secrets   *secrets.Box
	bg        background // per-tenant queues of LLM reviews and embeddings
	auth      authCache
	failures  failureLog // repeated authentication failures, audited once per window
	review    review.Policy
	archives  archiveCache // built archives, by tenant, manifest digest and format
}

// Options configure a Service.
type Options struct {
	Logger *slog.Logger
	Limits bundle.Limits
	Quotas Quotas // the default limits of every tenant (zero: unlimited)
	Embed  EmbedConfig
	LLM    LLMConfig
	// Egress calls tenants' provider URLs; nil refuses every internal
	// address.
	Egress *egress.Client
	// Secrets seals tenants' own provider keys; nil refuses to store any.
	Secrets *secrets.Box
	// Review is the builtin review's operator policy (vendor installer
	// hosts); nil VendorHosts means review.DefaultVendorHosts.
	Review review.Policy
}

// New returns a Service over db.
func New(db *database.DB, opt Options) *Service {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Egress == nil {
		opt.Egress = egress.MustNew(egress.Options{})
	}
	if opt.Review.VendorHosts == nil {
		opt.Review = review.DefaultPolicy
	}
	s := &Service{db: db, log: opt.Logger, limits: opt.Limits, touched: map[uuid.UUID]time.Time{},
		embedders: embedders{cfg: opt.Embed, client: opt.Egress, secrets: opt.Secrets, log: opt.Logger}, wake: make(chan struct{}, 1),
		llm: opt.LLM, egress: opt.Egress, secrets: opt.Secrets, quotas: opt.Quotas, review: opt.Review}
	if db.Citus() {
		s.auth.keys.ttl, s.auth.hosts.ttl = citusAuthCacheTTL, citusAuthCacheTTL
	}
	return s
}

// DB returns the database, for health checks and metrics.
func (s *Service) DB() *database.DB { return s.db }

// Actor is who makes a request: the tenant always, the user and key when
// authenticated, and where the request came from.
type Actor struct {
	TenantID uuid.UUID
	UserID   uuid.UUID // zero for anonymous callers and system work
	Email    string
	Role     string    // admin, member, system, or "" (anonymous)
	KeyID    uuid.UUID // zero unless authenticated by API key
	GrantID  uuid.UUID // zero unless authenticated by OAuth access token
	Scopes   []string  // what the credential allows: read, write, admin
	Source   string    // api, cli, mcp, web, hook

	RequestID, RemoteAddr, UserAgent string
}

// System returns an actor for administrative work in a tenant (the CLI run
// by an operator, background jobs).
func System(tenant uuid.UUID) Actor {
	return Actor{TenantID: tenant, Role: "system", Scopes: []string{"read", "write", "admin"}, Source: "cli"}
}

func (a Actor) scope() database.Scope {
	return database.Scope{TenantID: a.TenantID, UserID: a.UserID, Role: a.Role}
}

// CredentialID names the credential of the request, an API key or an
// OAuth grant (zero for a web session): rate limits and MCP sessions are
// per credential.
func (a Actor) CredentialID() uuid.UUID {
	if a.KeyID != uuid.Nil {
		return a.KeyID
	}
	return a.GrantID
}

func (a Actor) isAdmin() bool { return a.Role == "admin" || a.Role == "system" }

// can reports whether the credential carries a scope.
func (a Actor) can(scope string) bool { return slices.Contains(a.Scopes, scope) }

// need returns a forbidden error unless the credential carries the scope
// (and, for admin, the user is an admin).
func (a Actor) need(scope string) error {
	if a.Role == "" {
		return errUnauthenticated
	}
	if !a.can(scope) {
		return &Error{Kind: Forbidden, Msg: fmt.Sprintf("this credential lacks the %q scope", scope)}
	}
	if scope == "admin" && !a.isAdmin() {
		return &Error{Kind: Forbidden, Msg: "only tenant admins may do this"}
	}
	return nil
}

func (a Actor) actorType() string {
	switch {
	case a.KeyID != uuid.Nil:
		return "key"
	case a.UserID != uuid.Nil:
		return "user"
	case a.Role == "system":
		return "system"
	}
	return "anonymous"
}

// audit writes one audit row in the transaction of q.
func (s *Service) audit(ctx context.Context, q database.Q, a Actor, action, outcome, resType, resID string, details map[string]any) error {
	e := store.AuditEntry{ActorType: a.actorType(), Action: action, Outcome: outcome, ResourceType: resType, ResourceID: resID,
		RequestID: a.RequestID, RemoteAddr: a.RemoteAddr, UserAgent: auditText(a.UserAgent, maxUserAgent)}
	if a.UserID != uuid.Nil {
		e.ActorUserID = &a.UserID
	}
	if a.KeyID != uuid.Nil {
		e.ActorKeyID = &a.KeyID
	}
	if details == nil {
		details = map[string]any{}
	}
	if a.Source != "" {
		details["source"] = a.Source
	}
	e.Details, _ = json.Marshal(details)
	if err := store.InsertAudit(ctx, q, e); err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// Kind classifies errors for the interfaces (HTTP status, MCP message).
type Kind int

const (
	Internal Kind = iota
	Invalid
	NotFound
	Forbidden
	Unauthenticated
	Conflict
	TooLarge
	Unavailable
	Blocked // a safety finding blocks publishing
)

// Error is an error a caller can act on.
type Error struct {
	Kind     Kind
	Msg      string
	Problems []bundle.Problem // per-file problems of a bundle
	Quota    *QuotaExceeded   // the quota that refused the request, if one did
	Findings []review.Finding // the safety findings that block publishing (Kind Blocked)
}

func (e *Error) Error() string { return e.Msg }

var errUnauthenticated = &Error{Kind: Unauthenticated, Msg: "authentication required: send Authorization: Bearer <API key>"}

func invalidf(format string, args ...any) error {
	return &Error{Kind: Invalid, Msg: fmt.Sprintf(format, args...)}
}

func notFoundf(format string, args ...any) error {
	return &Error{Kind: NotFound, Msg: fmt.Sprintf(format, args...)}
}

func forbiddenf(format string, args ...any) error {
	return &Error{Kind: Forbidden, Msg: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of err; database outages are Unavailable.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	var be *bundle.Error
	if errors.As(err, &be) {
		return Invalid
	}
	if errors.Is(err, store.ErrNotFound) {
		return NotFound
	}
	if isUnavailable(err) {
		return Unavailable
	}
	return Internal
}

// AsError returns err as an *Error when it is one (or a bundle error).
func AsError(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	var be *bundle.Error
	if errors.As(err, &be) {
		return &Error{Kind: Invalid, Msg: "the skill bundle is not valid: " + be.Error(), Problems: be.Problems}, true
	}
	return nil, false
}
