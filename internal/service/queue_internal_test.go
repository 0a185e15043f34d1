package service

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
)

// gate is a job body that reports its start and runs until opened (or its
// context ends).
type gate struct {
	started chan string
	open    chan struct{}
}

func newGate() *gate { return &gate{started: make(chan string, 100), open: make(chan struct{})} }

func (g *gate) job(name string) func(context.Context) int {
	return func(ctx context.Context) int {
		g.started <- name
		select {
		case <-g.open:
			return 1
		case <-ctx.Done():
			return 0
		}
	}
}

// next returns the name of the next job to start, or "" if none starts soon.
func (g *gate) next(t *testing.T) string {
	t.Helper()
	select {
	case n := <-g.started:
		return n
	case <-time.After(200 * time.Millisecond):
		return ""
	}
}

// TestQueueLimits: a tenant runs at most perTenant jobs at once, the queue
// at most total; when a slot frees, a waiting tenant goes before the
// tenant that already has jobs running.
func TestQueueLimits(t *testing.T) {
	q := newQueue(2, 3, time.Minute)
	slow, fast, other := uuid.New(), uuid.New(), uuid.New()
	gs := newGate()
	for _, n := range []string{"slow-1", "slow-2", "slow-3", "slow-4"} {
		q.submit(context.Background(), slow, n, gs.job(n))
	}
	if a, b, c := gs.next(t), gs.next(t), gs.next(t); a != "slow-1" || b != "slow-2" || c != "" {
		t.Fatalf("the slow tenant started %q %q %q, want two jobs", a, b, c)
	}
	gf := newGate()
	jf := q.submit(context.Background(), fast, "f", gf.job("fast"))
	if n := gf.next(t); n != "fast" {
		t.Fatal("another tenant's job waited for the slow tenant's")
	}
	// All three slots are taken: the other tenant waits, and gets the
	// next free slot before the slow tenant's third job.
	gsOther := newGate()
	q.submit(context.Background(), other, "o", gsOther.job("other"))
	if n := gsOther.next(t); n != "" {
		t.Fatalf("%s started beyond the global limit", n)
	}
	close(gf.open)
	if _, err := jf.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := gsOther.next(t); n != "other" {
		t.Fatal("the waiting tenant did not get the free slot")
	}
	if n := gs.next(t); n != "" {
		t.Fatalf("%s started beyond its tenant's limit", n)
	}
	if got := q.backlog(); got != 5 {
		t.Errorf("backlog %d, want 5 (4 slow + other)", got)
	}
	close(gs.open)
	close(gsOther.open)
	if err := q.wait(context.Background()); err != nil || q.backlog() != 0 {
		t.Fatalf("wait: %v, backlog %d", err, q.backlog())
	}
}

// TestQueueCoalesces: a job of the same key that has not started covers a
// new submission; a running one does not (the work may have changed).
func TestQueueCoalesces(t *testing.T) {
	q := newQueue(1, 4, time.Minute)
	tn := uuid.New()
	g := newGate()
	first := q.submit(context.Background(), tn, "embed", g.job("first"))
	g.next(t)
	second := q.submit(context.Background(), tn, "embed", g.job("second"))
	third := q.submit(context.Background(), tn, "embed", g.job("third"))
	if second == first || third != second {
		t.Fatal("a pending job of the same key was not reused, or a running one was")
	}
	if q.find(tn, "embed") != second || q.find(uuid.New(), "embed") != nil {
		t.Fatal("find does not return the newest job of the key for that tenant only")
	}
	close(g.open)
	if n, err := third.wait(context.Background()); n != 1 || err != nil {
		t.Fatalf("wait: %d %v", n, err)
	}
	if g.next(t) != "second" || g.next(t) != "" {
		t.Fatal("the coalesced jobs did not run exactly once")
	}
}

// TestQueueDeadlineAndShutdown: a job ends at its deadline; a waiter gives
// up with its own context; shutdown waits within its bound, then cancels
// what runs, and nothing runs after it.
func TestQueueDeadlineAndShutdown(t *testing.T) {
	q := newQueue(1, 4, 50*time.Millisecond)
	g := newGate() // never opened: jobs end only by their context
	start := time.Now()
	if n, _ := q.submit(context.Background(), uuid.New(), "a", g.job("a")).wait(context.Background()); n != 0 || time.Since(start) > 5*time.Second {
		t.Fatalf("a job past its deadline: %d after %v", n, time.Since(start))
	}
	g.next(t)

	q = newQueue(1, 4, time.Hour)
	j := q.submit(context.Background(), uuid.New(), "b", g.job("b"))
	g.next(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := j.wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting with an ended context: %v", err)
	}
	sctx, scancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer scancel()
	if err := q.shutdown(sctx); err == nil {
		t.Error("shutdown reported success with a job cut short")
	}
	select {
	case <-j.done:
	default:
		t.Fatal("shutdown returned while a job still ran")
	}
	late := q.submit(context.Background(), uuid.New(), "c", g.job("c"))
	if _, err := late.wait(context.Background()); err != nil || g.next(t) != "" {
		t.Fatal("a job submitted after shutdown ran")
	}
}
