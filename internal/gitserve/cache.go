package gitserve

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/service"
)

// buildTimeout bounds the generation of one repository.
const buildTimeout = 2 * time.Minute

// cache keeps the generated repositories, one per (tenant, view): the view
// key is a digest of everything the repository shows (skills, versions
// with their content digests, tenant name), so it also names the head
// commit. Repeat clones and fetches of an unchanged view reuse the packed
// repository; only git's pack streaming runs per request.
type cache struct {
	root string
	max  int

	mu      sync.Mutex
	clock   int64
	entries map[string]*cached
}

type cached struct {
	dir   string
	ready chan struct{}
	err   error
	users int   // requests serving from it right now
	used  int64 // cache clock at the last use, for eviction
}

// viewKey names a view of a tenant.
func viewKey(tenant uuid.UUID, v service.GitView) string {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain data: cannot fail
	}
	h := sha256.New()
	h.Write(tenant[:])
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// acquire returns the repository folder of the view, building it when it is
// not cached; release must be called when the request is done with it.
func (c *cache) acquire(ctx context.Context, tenant uuid.UUID, key string, gen func(ctx context.Context, dir string) error) (string, func(), error) {
	id := tenant.String() + "/" + key
	c.mu.Lock()
	e, ok := c.entries[id]
	if !ok {
		e = &cached{dir: filepath.Join(c.root, tenant.String(), key+".git"), ready: make(chan struct{})}
		c.entries[id] = e
		go c.fill(ctx, e, id, gen)
	}
	c.clock++
	e.used = c.clock
	e.users++
	c.mu.Unlock()
	release := func() {
		c.mu.Lock()
		e.users--
		c.mu.Unlock()
	}
	select {
	case <-e.ready:
	case <-ctx.Done():
		release()
		return "", nil, ctx.Err()
	}
	if e.err != nil {
		release()
		return "", nil, e.err
	}
	return e.dir, release, nil
}

// fill builds a repository in a temporary folder and renames it into
// place. It runs apart from the request that asked, which may go away
// while others wait for the same view.
func (c *cache) fill(ctx context.Context, e *cached, id string, gen func(ctx context.Context, dir string) error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), buildTimeout)
	defer cancel()
	e.err = c.buildInto(ctx, e.dir, gen)
	c.mu.Lock()
	if e.err != nil {
		delete(c.entries, id) // the next request tries again
	}
	trash := c.evict()
	c.mu.Unlock()
	close(e.ready)
	for _, dir := range trash {
		os.RemoveAll(dir)
	}
}

func (c *cache) buildInto(ctx context.Context, dir string, gen func(ctx context.Context, dir string) error) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return fmt.Errorf("git cache: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "build-")
	if err != nil {
		return fmt.Errorf("git cache: %w", err)
	}
	defer os.RemoveAll(tmp)
	repo := filepath.Join(tmp, "repo.git")
	if err := gen(ctx, repo); err != nil {
		return err
	}
	os.RemoveAll(dir) // left over by a process that stopped while serving
	if err := os.Rename(repo, dir); err != nil {
		return fmt.Errorf("git cache: %w", err)
	}
	return nil
}

// evict forgets the least recently used repositories nobody is reading
// while the cache holds more than max. Each one's folder is moved aside
// at once, under mu, so that a rebuild of the same view (which renames
// into the same path) can never be deleted by the slower removal that
// follows; evict returns the moved folders for the caller to remove
// without holding mu. Called with mu held.
func (c *cache) evict() []string {
	var out []string
	for len(c.entries) > c.max {
		var oldID string
		var old *cached
		for id, e := range c.entries {
			if e.users > 0 || !isClosed(e.ready) {
				continue
			}
			if old == nil || e.used < old.used {
				oldID, old = id, e
			}
		}
		if old == nil {
			break // every entry is in use: over max until they are done
		}
		delete(c.entries, oldID)
		if gone, err := os.MkdirTemp(filepath.Dir(old.dir), "evicted-"); err == nil {
			if os.Rename(old.dir, filepath.Join(gone, "repo.git")) == nil {
				out = append(out, gone)
				continue
			}
			os.Remove(gone)
		}
		os.RemoveAll(old.dir) // could not be moved aside: remove it in place
	}
	return out
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
