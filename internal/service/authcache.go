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

// The cache is used only while this process provably receives
// notifications: its own heartbeat must have come back within
// heartbeatGrace. Behind a pooler that drops LISTEN (PgBouncer in
// transaction mode) no ping returns, and every request looks its key up.
const (
	heartbeatEvery = 2 * time.Second
	heartbeatGrace = 3 * heartbeatEvery
)

type authEntry struct {
	rec database.KeyRecord
	at  time.Time
}

// authCache holds API key look-ups by key hash.
type authCache struct {
	mu       sync.Mutex
	m        map[string]authEntry
	lastPing atomic.Int64 // unix nanoseconds of the last own ping received
	nonce    string
	// gen moves on every eviction: a look-up that began before an eviction
	// may hold what was evicted, and is not cached.
	gen  atomic.Uint64
	hits atomic.Int64
}

// AuthCacheActive reports whether API key look-ups are being cached (the
// process receives its own notifications).
func (s *Service) AuthCacheActive() bool { return s.auth.usable(time.Now()) }

// AuthCacheHits counts authentications answered from the cache.
func (s *Service) AuthCacheHits() int64 { return s.auth.hits.Load() }

func (c *authCache) usable(now time.Time) bool {
	return now.UnixNano()-c.lastPing.Load() < int64(heartbeatGrace)
}

// get returns a cached record, or false and the generation to pass to put.
func (c *authCache) get(hash []byte, now time.Time) (database.KeyRecord, uint64, bool) {
	gen := c.gen.Load()
	if !c.usable(now) {
		return database.KeyRecord{}, gen, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[string(hash)]
	if !ok || now.Sub(e.at) > authCacheTTL {
		return database.KeyRecord{}, gen, false
	}
	c.hits.Add(1)
	return e.rec, gen, true
}

func (c *authCache) put(hash []byte, rec database.KeyRecord, at time.Time, gen uint64) {
	if !c.usable(at) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() != gen {
		return
	}
	if c.m == nil {
		c.m = map[string]authEntry{}
	}
	if len(c.m) > 100_000 {
		clear(c.m)
	}
	c.m[string(hash)] = authEntry{rec: rec, at: at}
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
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	for h, e := range c.m {
		if err != nil || (kind == "key" && e.rec.KeyID == u) || (kind == "user" && e.rec.UserID == u) || (kind == "tenant" && e.rec.TenantID == u) {
			delete(c.m, h)
		}
	}
}

func (c *authCache) reset() {
	c.lastPing.Store(0)
	c.mu.Lock()
	c.gen.Add(1)
	clear(c.m)
	c.mu.Unlock()
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
// tell the other processes when it commits.
func (s *Service) forgetAuth(what string) { s.auth.evict(what) }
