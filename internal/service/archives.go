package service

import (
	"bytes"
	"container/list"
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/store"
)

// Archives are built from a version's files, reproducibly, so the bytes
// are a function of the manifest digest and the format. Built on every
// request, a flood of downloads of one large public skill made the server
// read and compress megabytes per request and slowed every tenant; so
// built archives are kept here, bounded in bytes, each built once however
// many requests want it at the same moment, and at most maxArchiveBuilds
// builds run at a time, one per tenant, so a tenant that floods downloads
// of many large skills occupies one CPU at most.
const (
	archiveCacheBytes = 128 << 20
	maxArchiveBuilds  = 2
)

type archiveKey struct {
	tenant         uuid.UUID
	digest, format string
}

type archiveEntry struct {
	key  archiveKey
	data []byte
}

// archiveBuild is a build in progress; done closes when data or err is set.
type archiveBuild struct {
	done chan struct{}
	data []byte
	err  error
}

type archiveCache struct {
	mu       sync.Mutex
	lru      *list.List // of *archiveEntry, most recent first
	byKey    map[archiveKey]*list.Element
	size     int64
	building map[archiveKey]*archiveBuild
	slots    chan struct{}               // global build slots
	tenants  map[uuid.UUID]chan struct{} // one build slot per tenant
	builds   atomic.Int64                // archives built, for tests and metrics
}

func (c *archiveCache) init() {
	if c.lru == nil {
		c.lru, c.byKey, c.building = list.New(), map[archiveKey]*list.Element{}, map[archiveKey]*archiveBuild{}
		c.slots, c.tenants = make(chan struct{}, maxArchiveBuilds), map[uuid.UUID]chan struct{}{}
	}
}

// tenantSlot is the tenant's one build slot.
func (c *archiveCache) tenantSlot(t uuid.UUID) chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch, ok := c.tenants[t]
	if !ok {
		ch = make(chan struct{}, 1)
		c.tenants[t] = ch
	}
	return ch
}

// get returns the archive of key, building it with load when it is not
// kept. load returns the files and their manifest digest: an archive whose
// files turn out to be another version's (published meanwhile) is
// returned but not kept under key.
func (c *archiveCache) get(ctx context.Context, key archiveKey, load func(context.Context) ([]bundle.File, string, error)) ([]byte, error) {
	c.mu.Lock()
	c.init()
	if el, ok := c.byKey[key]; ok {
		c.lru.MoveToFront(el)
		data := el.Value.(*archiveEntry).data
		c.mu.Unlock()
		return data, nil
	}
	if b, ok := c.building[key]; ok {
		c.mu.Unlock()
		select {
		case <-b.done:
			return b.data, b.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	b := &archiveBuild{done: make(chan struct{})}
	c.building[key] = b
	c.mu.Unlock()

	// The build serves every request waiting for it, so the first one
	// going away must not cut it short.
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	b.data, b.err = c.build(bctx, key, load)
	cancel()
	c.mu.Lock()
	delete(c.building, key)
	c.mu.Unlock()
	close(b.done)
	return b.data, b.err
}

func (c *archiveCache) build(ctx context.Context, key archiveKey, load func(context.Context) ([]bundle.File, string, error)) ([]byte, error) {
	// The tenant's slot first, so a tenant waiting for its own build
	// holds no global slot meanwhile.
	for _, slot := range []chan struct{}{c.tenantSlot(key.tenant), c.slots} {
		select {
		case slot <- struct{}{}:
			defer func() { <-slot }()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	files, digest, err := load(ctx)
	if err != nil {
		return nil, err
	}
	c.builds.Add(1)
	var buf bytes.Buffer
	if err := bundle.WriteArchive(&buf, key.format, files); err != nil {
		return nil, err
	}
	if digest == key.digest {
		c.keep(key, buf.Bytes())
	}
	return buf.Bytes(), nil
}

// keep stores an archive, dropping the least recently used ones to stay
// within archiveCacheBytes; an archive larger than half of that (beyond
// the upload limit's reach with the defaults) is not kept.
func (c *archiveCache) keep(key archiveKey, data []byte) {
	if int64(len(data)) > archiveCacheBytes/2 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byKey[key]; ok {
		return
	}
	c.byKey[key] = c.lru.PushFront(&archiveEntry{key: key, data: data})
	c.size += int64(len(data))
	for c.size > archiveCacheBytes {
		el := c.lru.Back()
		e := el.Value.(*archiveEntry)
		c.lru.Remove(el)
		delete(c.byKey, e.key)
		c.size -= int64(len(e.data))
	}
}

// DownloadArchive returns a version's files as an archive of format
// (bundle.Zip or bundle.TarGz), for the callers that may download it
// (ref as in Bundle), with the version.
func (s *Service) DownloadArchive(ctx context.Context, a Actor, name, ref, format string) ([]byte, store.Version, error) {
	v, err := s.download(ctx, a, name, ref, func(database.Q, store.Version) error { return nil })
	if err != nil {
		return nil, v, err
	}
	data, err := s.archives.get(ctx, archiveKey{a.TenantID, v.Digest, format}, func(ctx context.Context) ([]bundle.File, string, error) {
		files, v, err := s.Bundle(ctx, a, name, ref)
		return files, v.Digest, err
	})
	return data, v, err
}

// DiscoveryArchiveBytes returns the archive discovery serves for a skill,
// with the listed version's digests.
func (s *Service) DiscoveryArchiveBytes(ctx context.Context, a Actor, name, format string) ([]byte, DiscoveryArchive, error) {
	d, err := s.DiscoveryBundle(ctx, a, name, false)
	if err != nil {
		return nil, d, err
	}
	data, err := s.archives.get(ctx, archiveKey{a.TenantID, d.Digest, format}, func(ctx context.Context) ([]bundle.File, string, error) {
		full, err := s.DiscoveryBundle(ctx, a, name, true)
		return full.Files, full.Digest, err
	})
	return data, d, err
}

// ArchiveBuilds counts the archives built since the process started (the
// rest were served as kept), for metrics.
func (s *Service) ArchiveBuilds() int64 { return s.archives.builds.Load() }
