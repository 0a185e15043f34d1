package service

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// gates are job bodies that report their start and run until their own
// gate is opened (or their context ends).
type gates struct {
	started chan string
	mu      sync.Mutex
	open    map[string]chan struct{}
}

func newGates() *gates {
	return &gates{started: make(chan string, 100), open: map[string]chan struct{}{}}
}

func (g *gates) gate(name string) chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open[name] == nil {
		g.open[name] = make(chan struct{})
	}
	return g.open[name]
}

func (g *gates) job(name string) func(context.Context) int {
	open := g.gate(name)
	return func(ctx context.Context) int {
		g.started <- name
		select {
		case <-open:
			return 1
		case <-ctx.Done():
			return 0
		}
	}
}

// finish lets a job return.
func (g *gates) finish(name string) { close(g.gate(name)) }

// next returns the names of the next n jobs to start, sorted (their
// goroutines report in any order), "" for each that does not start soon.
func (g *gates) next(n int) []string {
	var out []string
	for range n {
		select {
		case s := <-g.started:
			out = append(out, s)
		case <-time.After(200 * time.Millisecond):
			out = append(out, "")
		}
	}
	slices.Sort(out)
	return out
}

func submitAll(q *queue, g *gates, tenant uuid.UUID, names ...string) []*job {
	var jobs []*job
	for _, n := range names {
		jobs = append(jobs, q.submit(context.Background(), tenant, n, g.job(n)))
	}
	return jobs
}

// TestQueueLimits: a tenant runs at most perTenant jobs at once, so
// another tenant's job starts beside them; the queue runs at most total.
func TestQueueLimits(t *testing.T) {
	q := newQueue(2, 3, time.Minute)
	g := newGates()
	submitAll(q, g, uuid.New(), "slow-1", "slow-2", "slow-3")
	if got := g.next(3); !slices.Equal(got, []string{"", "slow-1", "slow-2"}) {
		t.Fatalf("the slow tenant started %q, want its first two jobs", got)
	}
	submitAll(q, g, uuid.New(), "fast")
	if got := g.next(1); got[0] != "fast" {
		t.Fatal("another tenant's job waited for the slow tenant's")
	}
	submitAll(q, g, uuid.New(), "other")
	if got := g.next(1); got[0] != "" {
		t.Fatalf("%s started beyond the global limit", got[0])
	}
	if n := q.backlog(); n != 5 {
		t.Errorf("backlog %d, want 5", n)
	}
	g.finish("fast")
	if got := g.next(1); got[0] != "other" {
		t.Fatalf("the free slot went to %q, want the waiting tenant", got[0])
	}
	for _, n := range []string{"slow-1", "slow-2", "slow-3", "other"} {
		g.finish(n)
	}
	if err := q.wait(context.Background()); err != nil || q.backlog() != 0 {
		t.Fatalf("wait: %v, backlog %d", err, q.backlog())
	}
}

// TestQueueTurns: when every slot is taken by one tenant, the next free
// slot goes to a tenant with nothing running, not to that tenant's next
// job, though it was queued first.
func TestQueueTurns(t *testing.T) {
	q := newQueue(3, 3, time.Minute)
	g := newGates()
	submitAll(q, g, uuid.New(), "busy-1", "busy-2", "busy-3", "busy-4")
	g.next(3)
	submitAll(q, g, uuid.New(), "quiet")
	g.finish("busy-1")
	if got := g.next(1); got[0] != "quiet" {
		t.Fatalf("the free slot went to %q, want the tenant with nothing running", got[0])
	}
	for _, n := range []string{"busy-2", "busy-3", "busy-4", "quiet"} {
		g.finish(n)
	}
	q.wait(context.Background())
}

// TestQueueCoalesces: a job of the same key that has not started covers a
// new submission; a running one does not (the work may have changed).
func TestQueueCoalesces(t *testing.T) {
	q := newQueue(1, 4, time.Minute)
	tn := uuid.New()
	g := newGates()
	first := q.submit(context.Background(), tn, "embed", g.job("first"))
	g.next(1)
	second := q.submit(context.Background(), tn, "embed", g.job("second"))
	third := q.submit(context.Background(), tn, "embed", g.job("third"))
	if second == first || third != second {
		t.Fatal("a pending job of the same key was not reused, or a running one was")
	}
	if q.find(tn, "embed") != second || q.find(uuid.New(), "embed") != nil {
		t.Fatal("find does not return the newest job of the key for that tenant only")
	}
	g.finish("first")
	g.finish("second")
	if n, err := third.wait(context.Background()); n != 1 || err != nil {
		t.Fatalf("wait: %d %v", n, err)
	}
	if got := g.next(2); !slices.Equal(got, []string{"", "second"}) {
		t.Fatalf("after the first job ran %q, want the coalesced job once", got)
	}
}

// TestQueueDeadlineAndShutdown: a job ends at its deadline; a waiter gives
// up with its own context; shutdown waits within its bound, then cancels
// what runs, and nothing runs after it.
func TestQueueDeadlineAndShutdown(t *testing.T) {
	q := newQueue(1, 4, 50*time.Millisecond)
	g := newGates() // no gate is opened: jobs end only by their context
	start := time.Now()
	if n, _ := q.submit(context.Background(), uuid.New(), "a", g.job("a")).wait(context.Background()); n != 0 || time.Since(start) > 5*time.Second {
		t.Fatalf("a job past its deadline: %d after %v", n, time.Since(start))
	}
	g.next(1)

	q = newQueue(1, 4, time.Hour)
	j := q.submit(context.Background(), uuid.New(), "b", g.job("b"))
	g.next(1)
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
	if _, err := late.wait(context.Background()); err != nil || g.next(1)[0] != "" {
		t.Fatal("a job submitted after shutdown ran")
	}
}
