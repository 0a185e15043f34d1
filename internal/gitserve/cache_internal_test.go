package gitserve

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
)

// TestCacheBuildsOncePerView: concurrent and repeated requests for one
// (tenant, view) build its repository once; another view or tenant builds
// its own; a failed build is retried; the least recently used repository
// nobody reads is removed when the cache is full.
func TestCacheBuildsOncePerView(t *testing.T) {
	c := &cache{root: t.TempDir(), max: 2, entries: map[string]*cached{}}
	var builds atomic.Int32
	gen := func(ctx context.Context, dir string) error {
		builds.Add(1)
		return os.MkdirAll(dir, 0o700)
	}
	get := func(tenant uuid.UUID, key string) string {
		t.Helper()
		dir, release, err := c.acquire(context.Background(), tenant, key, gen)
		if err != nil {
			t.Fatal(err)
		}
		release()
		return dir
	}
	a, b := uuid.New(), uuid.New()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { get(a, "v1") })
	}
	wg.Wait()
	get(a, "v1")
	if n := builds.Load(); n != 1 {
		t.Fatalf("9 requests for one view built it %d times; want once", n)
	}
	dirB := get(b, "v1")
	if n := builds.Load(); n != 2 || filepath.Base(filepath.Dir(dirB)) != b.String() {
		t.Fatalf("another tenant's view: %d builds, folder %s", n, dirB)
	}

	// A failed build is not cached.
	fail := errors.New("boom")
	if _, _, err := c.acquire(context.Background(), a, "bad", func(context.Context, string) error { return fail }); !errors.Is(err, fail) {
		t.Fatalf("failed build: %v", err)
	}
	get(a, "bad")

	// Over max: the least recently used (a/v1, then b/v1) went, with its folder.
	if _, ok := c.entries[a.String()+"/v1"]; ok {
		t.Error("a/v1 is still cached beyond max")
	}
	if _, err := os.Stat(filepath.Join(c.root, a.String(), "v1.git")); !os.IsNotExist(err) {
		t.Errorf("a/v1's folder is still there: %v", err)
	}

	// Asked again at once, the evicted view is rebuilt, and the removal
	// of its old folder never takes the new one with it.
	for range 50 {
		dir := get(a, "v1")
		get(b, "x")
		get(a, "y") // evicts a/v1 again
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Fatalf("evicted folder %s: %v", dir, err)
		}
		dir = get(a, "v1")
		if _, err := os.Stat(dir); err != nil {
			t.Fatalf("rebuilt view's folder is gone: %v", err)
		}
	}
}
