package service

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/review"
)

// Limits of the background queues. A tenant's provider can be slow or
// hostile (a tarpit that holds every connection): it then holds at most
// its own few slots, until the job's deadline, and the other tenants keep
// theirs.
const (
	reviewsPerTenant = 2
	reviewsTotal     = 16
	// An LLM review is bounded by review.DefaultLLMTimeout; the rest of the
	// deadline is for storing its result.
	reviewJobTimeout = review.DefaultLLMTimeout + 30*time.Second

	// One job embeds a tenant's due skills batch by batch (each remote call
	// bounded by the provider timeout); a second waits behind it, so a
	// publish during a run is not missed.
	embedsPerTenant = 1
	embedsTotal     = 8
	embedJobTimeout = 2 * time.Minute
)

// background is the work that runs after requests, per tenant. Its queues
// are made on first use: the zero value is ready, as Service's other fields.
type background struct {
	once          sync.Once
	review, embed *queue
}

func (b *background) init() {
	b.once.Do(func() {
		b.review = newQueue(reviewsPerTenant, reviewsTotal, reviewJobTimeout)
		b.embed = newQueue(embedsPerTenant, embedsTotal, embedJobTimeout)
	})
}

func (b *background) reviews() *queue { b.init(); return b.review }
func (b *background) embeds() *queue  { b.init(); return b.embed }

// queue runs jobs for tenants: at most perTenant jobs of one tenant at a
// time, at most total overall, tenants taking turns for free slots, and
// each job within its deadline. Nothing ever waits for all of it except
// tests and shutdown.
type queue struct {
	perTenant, total int
	timeout          time.Duration
	base             context.Context // ends at shutdown
	cancel           context.CancelFunc

	mu         sync.Mutex
	tenants    map[uuid.UUID]*tenantJobs
	turn       []uuid.UUID // tenants with pending jobs, whose turn is next first
	running    int
	unfinished int
	idle       chan struct{} // closed when unfinished drops to zero
	stopped    bool
}

// tenantJobs is one tenant's part of a queue.
type tenantJobs struct {
	running int
	pending []*job
	latest  map[string]*job // by key: the newest job not finished
}

// job is one unit of background work.
type job struct {
	ctx     context.Context
	tenant  uuid.UUID
	key     string
	run     func(context.Context) int
	started bool
	done    chan struct{}
	n       int // what run returned; read after done is closed
}

func newQueue(perTenant, total int, timeout time.Duration) *queue {
	base, cancel := context.WithCancel(context.Background())
	return &queue{perTenant: perTenant, total: total, timeout: timeout, base: base, cancel: cancel,
		tenants: map[uuid.UUID]*tenantJobs{}}
}

// submit queues run for tenant and returns its job. When a job with the
// same key is still waiting to start, it already covers the work and is
// returned instead. The job ends with ctx, its deadline or shutdown; run
// returns how many items it completed. After shutdown nothing runs.
func (q *queue) submit(ctx context.Context, tenant uuid.UUID, key string, run func(context.Context) int) *job {
	q.mu.Lock()
	defer q.mu.Unlock()
	j := &job{ctx: ctx, tenant: tenant, key: key, run: run, done: make(chan struct{})}
	if q.stopped {
		close(j.done)
		return j
	}
	tj := q.tenants[tenant]
	if tj == nil {
		tj = &tenantJobs{latest: map[string]*job{}}
		q.tenants[tenant] = tj
	}
	if prev := tj.latest[key]; prev != nil && !prev.started {
		return prev
	}
	tj.latest[key] = j
	if len(tj.pending) == 0 {
		q.turn = append(q.turn, tenant)
	}
	tj.pending = append(tj.pending, j)
	if q.unfinished == 0 {
		q.idle = make(chan struct{})
	}
	q.unfinished++
	q.dispatchLocked()
	return j
}

// dispatchLocked starts pending jobs while slots are free. A free slot goes
// to the waiting tenant with the fewest jobs running (first in turn among
// equals), and the tenant served goes to the back of the turn: a tenant
// with many jobs does not take the free slots from the others.
func (q *queue) dispatchLocked() {
	for q.running < q.total {
		i := -1
		for k, t := range q.turn {
			n := q.tenants[t].running
			if n < q.perTenant && (i < 0 || n < q.tenants[q.turn[i]].running) {
				i = k
			}
		}
		if i < 0 {
			return
		}
		t := q.turn[i]
		tj := q.tenants[t]
		j := tj.pending[0]
		tj.pending = tj.pending[1:]
		q.turn = slices.Delete(q.turn, i, i+1)
		if len(tj.pending) > 0 {
			q.turn = append(q.turn, t)
		}
		j.started = true
		tj.running++
		q.running++
		go q.exec(j)
	}
}

func (q *queue) exec(j *job) {
	ctx, cancel := context.WithTimeout(j.ctx, q.timeout)
	stop := context.AfterFunc(q.base, cancel)
	n := j.run(ctx)
	stop()
	cancel()

	q.mu.Lock()
	defer q.mu.Unlock()
	j.n = n
	close(j.done)
	tj := q.tenants[j.tenant]
	tj.running--
	q.running--
	if tj.latest[j.key] == j {
		delete(tj.latest, j.key)
	}
	if tj.running == 0 && len(tj.pending) == 0 {
		delete(q.tenants, j.tenant)
	}
	q.unfinished--
	if q.unfinished == 0 {
		close(q.idle)
	}
	q.dispatchLocked()
}

// find returns the newest unfinished job of key for tenant, or nil.
func (q *queue) find(tenant uuid.UUID, key string) *job {
	q.mu.Lock()
	defer q.mu.Unlock()
	if tj := q.tenants[tenant]; tj != nil {
		return tj.latest[key]
	}
	return nil
}

// wait waits until the job has finished or ctx ends, and returns what the
// job returned.
func (j *job) wait(ctx context.Context) (int, error) {
	select {
	case <-j.done:
		return j.n, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// wait waits until no job is queued or running, or ctx ends.
func (q *queue) wait(ctx context.Context) error {
	q.mu.Lock()
	if q.unfinished == 0 {
		q.mu.Unlock()
		return nil
	}
	idle := q.idle
	q.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// backlog is how many jobs are queued or running.
func (q *queue) backlog() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.unfinished
}

// shutdown refuses new jobs and waits for the queued ones until ctx ends;
// then it cancels the rest and waits for them to return (every job's I/O
// is bound to its context, so that is quick).
func (q *queue) shutdown(ctx context.Context) error {
	q.mu.Lock()
	q.stopped = true
	q.mu.Unlock()
	err := q.wait(ctx)
	if err == nil {
		return nil
	}
	left := q.backlog()
	q.cancel()
	q.wait(context.Background())
	return fmt.Errorf("%d background jobs cut short: %w", left, err)
}
