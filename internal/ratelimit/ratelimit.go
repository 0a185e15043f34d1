// Package ratelimit holds the token buckets of every rate limit (per API
// key, per tenant, per client address) and the per-request gate through
// which authentication reports whether a request proved a credential.
package ratelimit

import (
	"net"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxBuckets bounds a Buckets map: an attacker with many addresses must not
// grow it without end.
const maxBuckets = 100_000

// Buckets is a token bucket per key, refilled at a rate with a burst.
type Buckets[K comparable] struct {
	rate  rate.Limit
	burst int
	max   int

	mu       sync.Mutex
	m        map[K]*rate.Limiter
	overflow *rate.Limiter // shared by new keys while the map is full
	pruned   time.Time
}

// New returns buckets of burst tokens refilled at perSecond.
func New[K comparable](perSecond float64, burst int) *Buckets[K] {
	return newBuckets[K](perSecond, burst, maxBuckets)
}

func newBuckets[K comparable](perSecond float64, burst, most int) *Buckets[K] {
	burst = max(burst, 1)
	return &Buckets[K]{rate: rate.Limit(perSecond), burst: burst, max: most, m: map[K]*rate.Limiter{},
		overflow: rate.NewLimiter(rate.Limit(perSecond), burst)}
}

// Take takes a token from key's bucket. When there is none it takes
// nothing and reports how long until there is one. The reservation lets a
// caller that is refused by a later limit give the token back.
func (b *Buckets[K]) Take(key K) (*rate.Reservation, bool, time.Duration) {
	res := b.limiter(key, time.Now()).Reserve()
	if d := res.Delay(); d > 0 {
		res.Cancel()
		return nil, false, d
	}
	return res, true, 0
}

// Empty reports whether key's bucket has no whole token left, and how long
// until it has one.
func (b *Buckets[K]) Empty(key K) (bool, time.Duration) {
	now := time.Now()
	tokens := b.limiter(key, now).TokensAt(now)
	if tokens >= 1 {
		return false, 0
	}
	return true, time.Duration((1 - tokens) / float64(b.rate) * float64(time.Second))
}

// Len is how many keys have a bucket of their own.
func (b *Buckets[K]) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.m)
}

func (b *Buckets[K]) limiter(key K, now time.Time) *rate.Limiter {
	b.mu.Lock()
	defer b.mu.Unlock()
	if l := b.m[key]; l != nil {
		return l
	}
	if now.Sub(b.pruned) > time.Minute || (len(b.m) >= b.max && now.Sub(b.pruned) > time.Second) {
		b.prune(now)
	}
	if len(b.m) >= b.max {
		// Every bucket is in use: new keys share one, so memory stays
		// bounded and they are limited together rather than not at all.
		return b.overflow
	}
	l := rate.NewLimiter(b.rate, b.burst)
	b.m[key] = l
	return l
}

// prune forgets full buckets: a full bucket is the same as a new one, so
// forgetting it loses nothing. Called with mu held.
func (b *Buckets[K]) prune(now time.Time) {
	b.pruned = now
	for k, l := range b.m {
		if l.TokensAt(now) >= float64(b.burst) {
			delete(b.m, k)
		}
	}
}

// ClientKey is the address a limit counts a client by: the IP of
// remoteAddr ("host:port"), an IPv6 address by its /64 (one subscriber's
// network gets many addresses).
func ClientKey(remoteAddr string) string {
	host := remoteAddr
	if h, _, err := net.SplitHostPort(remoteAddr); err == nil {
		host = h
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if v4 := ip.To4(); v4 != nil {
		return v4.String()
	}
	return (&net.IPNet{IP: ip.Mask(net.CIDRMask(64, 128)), Mask: net.CIDRMask(64, 128)}).String()
}
