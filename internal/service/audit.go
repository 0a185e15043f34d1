package service

import (
	"context"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/ratelimit"
	"github.com/skillvault/skillvault/internal/store"
)

// Audit lists audit entries, newest first (admins only).
func (s *Service) Audit(ctx context.Context, a Actor, f store.AuditFilter) ([]store.AuditEntry, error) {
	if err := a.need("admin"); err != nil {
		return nil, err
	}
	var out []store.AuditEntry
	err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
		var err error
		out, err = store.ListAudit(ctx, q, f)
		return err
	})
	return out, err
}

// Failed authentications are written to the audit trail once per window
// and kind: the first of a window as its own row, the ones that follow
// only counted, and written as one summary row (with the count and when)
// when the window closes. So a flood of bad keys or forged sign-in posts
// cannot fill an append-only log, and the trail still says who tried, how
// often and when.

// defaultFailureWindow is how long repeats of one failure are counted
// before their summary row is written.
const defaultFailureWindow = time.Minute

// maxOpenFailures bounds the windows open at once; beyond it failures go
// to the process log only, so memory and writes stay bounded.
const maxOpenFailures = 10_000

// maxUserAgent bounds the user agent stored with an audit row.
const maxUserAgent = 256

// failure is one failed authentication to audit. A zero tenant in a.TenantID
// writes a tenant-less event.
type failure struct {
	a                               Actor
	action, outcome, resType, resID string
	details                         map[string]any
}

// failureKey is what repeats are counted by: the client's address, what
// failed and why, in which tenant, with which credential.
type failureKey struct {
	addr, action, reason string
	tenant, user, key    uuid.UUID
}

// repeats is an open window: its first failure and the ones after it.
type repeats struct {
	first       failure
	n           int
	start, last time.Time
}

// failureLog holds the open windows.
type failureLog struct {
	mu     sync.Mutex
	window time.Duration
	open   map[failureKey]*repeats
}

// authFailed records a failed authentication: it counts against the
// client's address (ratelimit.Failed) and is audited, once per window.
func (s *Service) authFailed(ctx context.Context, f failure) {
	ratelimit.Failed(ctx)
	if f.details == nil {
		f.details = map[string]any{}
	}
	reason, _ := f.details["reason"].(string)
	k := failureKey{addr: ratelimit.ClientKey(f.a.RemoteAddr), action: f.action, reason: reason,
		tenant: f.a.TenantID, user: f.a.UserID, key: f.a.KeyID}
	switch s.failures.note(k, f, s.writeRepeats) {
	case repeated:
		return
	case full:
		s.log.Warn("authentication failure not audited: too many open failure windows", "action", f.action, "reason", reason,
			"remote", f.a.RemoteAddr, "request_id", f.a.RequestID)
		return
	}
	if err := s.writeFailure(ctx, f); err != nil {
		s.log.Error("could not write audit event", "action", f.action, "err", err)
	}
}

type noted int

const (
	opened   noted = iota // the first of a window: write it
	repeated              // counted in an open window
	full                  // no window could be opened
)

// note counts f in k's open window, or opens one that close will flush
// through flush when it ends.
func (l *failureLog) note(k failureKey, f failure, flush func(*repeats)) noted {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if r := l.open[k]; r != nil {
		r.n++
		r.last = now
		return repeated
	}
	if l.open == nil {
		l.open = map[failureKey]*repeats{}
	}
	if len(l.open) >= maxOpenFailures {
		return full
	}
	if l.window <= 0 {
		l.window = defaultFailureWindow
	}
	l.open[k] = &repeats{first: f, start: now, last: now}
	time.AfterFunc(l.window, func() { l.close(k, flush) })
	return opened
}

// close ends k's window, writing its summary when failures repeated.
func (l *failureLog) close(k failureKey, flush func(*repeats)) {
	l.mu.Lock()
	r := l.open[k]
	delete(l.open, k)
	l.mu.Unlock()
	if r != nil && r.n > 0 {
		flush(r)
	}
}

// closeAll ends every open window now and writes their summaries, so that
// a stopping server loses no count of repeated failures. The windows'
// timers find nothing left to close.
func (l *failureLog) closeAll(flush func(*repeats)) {
	l.mu.Lock()
	open := l.open
	l.open = nil
	l.mu.Unlock()
	for _, r := range open {
		if r.n > 0 {
			flush(r)
		}
	}
}

// writeRepeats writes the summary row of a closed window: like its first
// row, but of no one request, with how many repeats came and when.
func (s *Service) writeRepeats(r *repeats) {
	f := r.first
	d := map[string]any{"repeated": r.n, "window_start": r.start.UTC().Format(time.RFC3339Nano),
		"last_at": r.last.UTC().Format(time.RFC3339Nano)}
	for _, k := range []string{"reason", "method"} {
		if v, ok := f.details[k]; ok {
			d[k] = v
		}
	}
	f.details = d
	f.a.RequestID = ""
	f.a.RemoteAddr = ratelimit.ClientKey(f.a.RemoteAddr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.writeFailure(ctx, f); err != nil {
		s.log.Error("could not write audit summary", "action", f.action, "repeated", r.n, "err", err)
	}
}

// writeFailure writes one failure row: in its tenant, in a transaction of
// its own (the attempt changed nothing), or tenant-less.
func (s *Service) writeFailure(ctx context.Context, f failure) error {
	if f.a.TenantID == uuid.Nil {
		return s.db.WriteGlobalAudit(ctx, database.GlobalEvent{Action: f.action, Outcome: f.outcome, Details: f.details,
			RequestID: f.a.RequestID, RemoteAddr: f.a.RemoteAddr, UserAgent: auditText(f.a.UserAgent, maxUserAgent)})
	}
	return s.db.Write(ctx, f.a.scope(), func(q database.Q) error {
		return s.audit(ctx, q, f.a, f.action, f.outcome, f.resType, f.resID, f.details)
	})
}

// auditText makes caller-supplied text fit for the audit trail: valid
// UTF-8, no control or format characters (which could forge lines or
// reorder text in a log viewer), at most n bytes.
func auditText(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
