package ratelimit

import (
	"context"
	"sync"
	"time"
)

// Gate is one request's account with the limit of its client address.
// The server puts it in the request's context; authentication (in the
// service) reports through it whether the request proved a credential or
// failed to, without knowing about HTTP.
type Gate struct {
	b   *Buckets[string]
	key string

	mu      sync.Mutex
	charged bool
	proved  bool
}

// NewGate returns the gate of a request from the client address key.
func NewGate(b *Buckets[string], key string) *Gate { return &Gate{b: b, key: key} }

// Charge counts the request against its address, once per request. It
// reports false, and how long to wait, when the address is over its limit.
func (g *Gate) Charge() (bool, time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.charged {
		return true, 0
	}
	g.charged = true
	_, ok, wait := g.b.Take(g.key)
	return ok, wait
}

// Exhausted reports whether the address has no token left, and the wait.
func (g *Gate) Exhausted() (bool, time.Duration) { return g.b.Empty(g.key) }

// Settle charges a request that proved no credential and was not charged
// yet: a credential sent to a route that never checked it buys nothing.
func (g *Gate) Settle() {
	g.mu.Lock()
	proved := g.proved
	g.mu.Unlock()
	if !proved {
		g.Charge()
	}
}

type gateKey struct{}

// WithGate returns ctx carrying g.
func WithGate(ctx context.Context, g *Gate) context.Context {
	return context.WithValue(ctx, gateKey{}, g)
}

// Proved records that ctx's request proved a credential (a valid API key
// or session): it is not counted as anonymous.
func Proved(ctx context.Context) {
	if g, ok := ctx.Value(gateKey{}).(*Gate); ok {
		g.mu.Lock()
		g.proved = true
		g.mu.Unlock()
	}
}

// Failed records a failed authentication of ctx's request: it counts
// against the client's address even when a credential was proved before
// (a valid key at another tenant's host).
func Failed(ctx context.Context) {
	if g, ok := ctx.Value(gateKey{}).(*Gate); ok {
		g.mu.Lock()
		g.proved = false
		g.mu.Unlock()
		g.Charge()
	}
}
