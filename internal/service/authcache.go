package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/database"
)

// AuthChannel carries "key:<id>", "user:<id>" and "tenant:<id>" whenever a
// key, user or tenant changes in a way that affects authentication (sent
// by triggers, migration 00005), and each process's heartbeat pings.
const AuthChannel = "skillvault_auth"

// authCacheTTL bounds how long a looked-up key is reused. Revocations,
// role changes and deactivations are not waited for: they are notified
// to every process and evict the entry at once; expiry is checked on every
// use from the cached expiry time.
const authCacheTTL = time.Minute

// citusAuthCacheTTL bounds it on Citus. There no trigger tells of a
// change (a NOTIFY would fire on a worker, where nobody listens, and break
// the two-phase commit; schema.finishCitus drops those triggers): the
// servers tell each other of the changes they make (authChanged), and a
// change made by hand in SQL takes effect within this time.
const citusAuthCacheTTL = 5 * time.Second

// The cache is used only while this process provably receives
// notifications: its own heartbeat must have come back within
// heartbeatGrace. Behind a pooler that drops LISTEN (PgBouncer in
// transaction mode) no ping returns, and every request looks its key up.
const (
	heartbeatEvery = 2 * time.Second
	heartbeatGrace = 3 * heartbeatEvery
)

// authCache holds API key look-ups by key hash and tenant look-ups by
// host, both kept coherent by the same notifications and heartbeat.
type authCache struct {
	lastPing atomic.Int64 // unix nanoseconds of the last own ping received
	nonce    string
	keys     notified[database.KeyRecord]
	hosts    notified[database.TenantRef]
}

// AuthCacheActive reports whether API key look-ups are being cached (the
// process receives its own notifications).
func (s *Service) AuthCacheActive() bool { return s.auth.usable(time.Now()) }

// AuthCacheHits counts authentications answered from the cache.
func (s *Service) AuthCacheHits() int64 { return s.auth.keys.hits.Load() }

// HostCacheHits counts tenant-by-host look-ups answered from the cache.
func (s *Service) HostCacheHits() int64 { return s.auth.hosts.hits.Load() }

func (c *authCache) usable(now time.Time) bool {
	return now.UnixNano()-c.lastPing.Load() < int64(heartbeatGrace)
}

// evict drops the entries a notification names.
func (c *authCache) evict(payload string) {
	kind, id, ok := strings.Cut(payload, ":")
	if !ok {
		return
	}
	if kind == "ping" {
		if id == c.nonce {
			c.lastPing.Store(time.Now().UnixNano())
		}
		return
	}
	u, err := uuid.Parse(id)
	c.keys.evict(func(r database.KeyRecord) bool {
		return err != nil || (kind == "key" && r.KeyID == u) || (kind == "user" && r.UserID == u) || (kind == "tenant" && r.TenantID == u)
	})
	c.hosts.evict(func(t database.TenantRef) bool { return err != nil || (kind == "tenant" && t.ID == u) })
}

func (c *authCache) reset() {
	c.lastPing.Store(0)
	c.keys.clear()
	c.hosts.clear()
}

type notifiedEntry[V any] struct {
	v  V
	at time.Time
}

// notified is a map whose entries live authCacheTTL (or ttl) at most and are
// evicted by notifications; it is read and filled only while the caller
// says notifications arrive (live).
type notified[V any] struct {
	mu sync.Mutex
	m  map[string]notifiedEntry[V]
	// gen moves on every eviction: a look-up that began before an eviction
	// may hold what was evicted, and is not cached.
	gen  atomic.Uint64
	hits atomic.Int64
	// ttl overrides authCacheTTL when set (Citus).
	ttl time.Duration
}

func (n *notified[V]) maxAge() time.Duration {
	if n.ttl > 0 {
		return n.ttl
	}
	return authCacheTTL
}

// get returns a cached value, or false and the generation to pass to put.
func (n *notified[V]) get(key string, now time.Time, live bool) (V, uint64, bool) {
	gen := n.gen.Load()
	var zero V
	if !live {
		return zero, gen, false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	e, ok := n.m[key]
	if !ok || now.Sub(e.at) > n.maxAge() {
		return zero, gen, false
	}
	n.hits.Add(1)
	return e.v, gen, true
}

func (n *notified[V]) put(key string, v V, at time.Time, gen uint64, live bool) {
	if !live {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.gen.Load() != gen {
		return
	}
	if n.m == nil {
		n.m = map[string]notifiedEntry[V]{}
	}
	if len(n.m) > 100_000 {
		clear(n.m)
	}
	n.m[key] = notifiedEntry[V]{v: v, at: at}
}

// evict drops the entries drop selects.
func (n *notified[V]) evict(drop func(V) bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.gen.Add(1)
	for k, e := range n.m {
		if drop(e.v) {
			delete(n.m, k)
		}
	}
}

func (n *notified[V]) clear() {
	n.mu.Lock()
	n.gen.Add(1)
	clear(n.m)
	n.mu.Unlock()
}

// TenantByHost finds a tenant by slug or vanity domain, answered from the
// cache while notifications arrive: a tenant's slug, domain or active flag
// changing, or its deletion, evicts it (trigger, migration 00010). Misses
// are not cached, so a tenant created for a host is found at once.
func (s *Service) TenantByHost(ctx context.Context, slugOrDomain string) (database.TenantRef, error) {
	now := time.Now()
	live := s.auth.usable(now)
	t, gen, ok := s.auth.hosts.get(slugOrDomain, now, live)
	if ok {
		return t, nil
	}
	t, err := s.db.TenantByHost(ctx, slugOrDomain)
	if err == nil {
		s.auth.hosts.put(slugOrDomain, t, now, gen, live)
	}
	return t, err
}

// RunAuthListener keeps this process's API key cache coherent with every
// other process until ctx ends. Without it (or while it is disconnected)
// no key look-up is cached.
func (s *Service) RunAuthListener(ctx context.Context) {
	b := make([]byte, 8)
	rand.Read(b)
	s.auth.nonce = hex.EncodeToString(b)
	go func() {
		t := time.NewTicker(heartbeatEvery)
		defer t.Stop()
		for {
			if err := s.db.Notify(ctx, AuthChannel, "ping:"+s.auth.nonce); err != nil && ctx.Err() == nil {
				s.log.Debug("auth heartbeat", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	s.db.Listen(ctx, AuthChannel, s.auth.evict, func(up bool) {
		if !up {
			s.auth.reset()
			return
		}
		// The heartbeat will mark the cache usable once it comes back.
		s.db.Notify(ctx, AuthChannel, "ping:"+s.auth.nonce)
	})
}

// forgetAuth drops what this process cached of a key, user or tenant
// ("key:<id>", ...) as soon as the change is made; the database's triggers
// tell the other processes when it commits, and so does authChanged.
func (s *Service) forgetAuth(what string) { s.auth.evict(what) }

// authChanged tells every process, after the change committed, that a key,
// user or tenant changed, and drops this process's entry again (a look-up
// made between forgetAuth and the commit may have cached the old row). On
// plain PostgreSQL the triggers have told them already; on Citus this is
// the only notification.
func (s *Service) authChanged(ctx context.Context, what string) {
	s.auth.evict(what)
	if err := s.db.Notify(context.WithoutCancel(ctx), AuthChannel, what); err != nil {
		s.log.Warn("tell other servers of an authentication change", "what", what, "err", err)
	}
}
