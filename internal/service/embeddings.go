package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/egress"
	"github.com/skillvault/skillvault/internal/embed"
	"github.com/skillvault/skillvault/internal/secrets"
	"github.com/skillvault/skillvault/internal/store"
)

// EmbedConfig is the operator's embedding provider (SKILLVAULT_EMBEDDING_URL
// and _API_KEY).
type EmbedConfig = ProviderConfig

// EmbedCounters are visible in metrics.
type EmbedCounters struct {
	Embedded, Failed atomic.Int64
}

// embedText is what a skill's vector is computed from.
func embedText(name, title, description, body string) string {
	body = CutText(body, 8000)
	return name + "\n" + title + "\n" + description + "\n" + body
}

func inputHash(model, text string) string {
	h := sha256.Sum256([]byte(model + "\x00" + text))
	return hex.EncodeToString(h[:])
}

// embedders caches one Embedder per provider configuration and key.
type embedders struct {
	mu      sync.Mutex
	cfg     EmbedConfig
	client  *egress.Client
	secrets *secrets.Box
	log     *slog.Logger
	m       map[string]embed.Embedder
}

// get returns the tenant's embedder. Its errors, stored per skill and
// shown in search, are categories only (tenantEmbedder).
func (e *embedders) get(st store.Settings) (embed.Embedder, error) {
	c := embed.Config{Provider: st.EmbeddingProvider, URL: st.EmbeddingURL, Model: st.EmbeddingModel}
	if c.Provider == "ollama" || c.Provider == "openai" {
		endpointOf := func(u string) (string, error) { return embed.Endpoint(c.Provider, u) }
		var err error
		if c.APIKey, err = providerKey(e.secrets, st.TenantID, "embedding_api_key", st.EmbeddingKeySealed, c.URL, e.cfg, endpointOf); err != nil {
			return nil, err
		}
	}
	key := c.Provider + "\x00" + c.URL + "\x00" + c.Model + "\x00" + c.APIKey
	e.mu.Lock()
	defer e.mu.Unlock()
	em, ok := e.m[key]
	if !ok {
		var err error
		if em, err = embed.New(c, e.client); err != nil {
			return nil, err
		}
		if e.m == nil {
			e.m = map[string]embed.Embedder{}
		}
		e.m[key] = em
	}
	return tenantEmbedder{Embedder: em, tenant: st.TenantID, log: e.log}, nil
}

// tenantEmbedder lets a tenant see only the category of a provider's
// failure ("provider answered 401"): the detail, which may quote what a
// server inside the operator's network said, goes to the server log.
type tenantEmbedder struct {
	embed.Embedder
	tenant uuid.UUID
	log    *slog.Logger
}

func (t tenantEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	v, err := t.Embedder.Embed(ctx, texts)
	if err != nil {
		t.log.Warn("embedding provider failed", "tenant", t.tenant, "err", err)
		return nil, egress.Public(err)
	}
	return v, nil
}

// modelName is what the settings select, known before any remote call.
func modelName(st store.Settings) string {
	if st.EmbeddingProvider == "" || st.EmbeddingProvider == "builtin" {
		return embed.BuiltinModel
	}
	return st.EmbeddingProvider + ":" + st.EmbeddingModel
}

// enqueueEmbedding marks a skill for embedding in the transaction that
// changed it, so a crash after commit loses nothing: the worker finds it.
func (s *Service) enqueueEmbedding(ctx context.Context, q database.Q, id uuid.UUID, name, title, description, body string) error {
	return s.enqueue(ctx, q, id, name, title, description, body, false)
}

func (s *Service) enqueue(ctx context.Context, q database.Q, id uuid.UUID, name, title, description, body string, force bool) error {
	st, err := s.settingsIn(ctx, q)
	if err != nil {
		return err
	}
	m := modelName(st)
	if err := store.EnqueueEmbedding(ctx, q, id, m, inputHash(m, embedText(name, title, description, body)), force); err != nil {
		return err
	}
	s.poke()
	return nil
}

func (s *Service) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// RunEmbedder queues the due skills of every tenant for embedding until
// ctx ends: on a poke after a publish, and every interval to pick up
// retries and other processes' work. It does not wait for the jobs: each
// tenant is embedded by its own job (see queue), so one tenant's slow
// provider never delays another tenant's skills.
func (s *Service) RunEmbedder(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.queueDueEmbeddings(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
	}
}

// EmbedDue embeds the due skills of every tenant that has some, tenants
// concurrently, and returns how many vectors it stored.
func (s *Service) EmbedDue(ctx context.Context) int {
	n := 0
	for _, j := range s.queueDueEmbeddings(ctx) {
		k, _ := j.wait(ctx)
		n += k
	}
	return n
}

// maxDueTenants bounds one look-up of tenants with due embeddings.
const maxDueTenants = 1000

// queueDueEmbeddings queues a job for every tenant with due embeddings
// (one that is queued already covers it) and returns the jobs.
func (s *Service) queueDueEmbeddings(ctx context.Context) []*job {
	tenants, err := s.db.TenantsWithDueEmbeddings(ctx, maxDueTenants)
	if err != nil {
		s.log.Warn("embedding worker: list tenants", "err", err)
		return nil
	}
	jobs := make([]*job, len(tenants))
	for i, t := range tenants {
		jobs[i] = s.bg.embeds().submit(ctx, t, "embed", func(ctx context.Context) int { return s.embedTenant(ctx, t) })
	}
	return jobs
}

// embedTenant embeds one tenant's due skills, batch by batch, until none
// is left or ctx (the job's deadline) ends, and returns how many vectors
// it stored. What is left is found again by the next run.
func (s *Service) embedTenant(ctx context.Context, tenant uuid.UUID) int {
	n := 0
	for ctx.Err() == nil {
		k, err := s.embedBatch(ctx, System(tenant), 32)
		n += k
		if err != nil {
			s.log.Warn("embedding worker", "tenant", tenant, "err", err)
			break
		}
		if k == 0 {
			break
		}
	}
	return n
}

// embedBatch embeds up to limit due skills of one tenant. The remote call
// runs outside any transaction; results are stored only if the skill has
// not changed meanwhile.
func (s *Service) embedBatch(ctx context.Context, a Actor, limit int) (int, error) {
	var jobs []store.EmbedJob
	var st store.Settings
	err := s.db.Write(ctx, a.scope(), func(q database.Q) error {
		var err error
		if st, err = s.settingsIn(ctx, q); err != nil {
			return err
		}
		jobs, err = store.DueEmbeddings(ctx, q, limit)
		return err
	})
	if err != nil || len(jobs) == 0 {
		return 0, err
	}
	texts := make([]string, len(jobs))
	for i, j := range jobs {
		texts[i] = embedText(j.Name, j.Title, j.Description, j.Body)
	}
	var vecs [][]float32
	em, err := s.embedders.get(st)
	if err == nil {
		vecs, err = em.Embed(ctx, texts)
	}
	stored := 0
	werr := s.db.Write(ctx, a.scope(), func(q database.Q) error {
		for i, j := range jobs {
			if err != nil {
				if ferr := store.FailEmbedding(ctx, q, j.SkillID, err.Error(), j.InputHash); ferr != nil {
					return ferr
				}
				s.counters.Failed.Add(1)
				continue
			}
			if serr := store.StoreEmbedding(ctx, q, j.SkillID, modelName(st), vecs[i], j.InputHash); serr != nil {
				return serr
			}
			stored++
			s.counters.Embedded.Add(1)
		}
		return nil
	})
	if werr != nil {
		return 0, werr
	}
	if err != nil {
		// Failures are recorded per skill with a retry time; report none
		// stored so the caller stops until they are due.
		return 0, nil
	}
	return stored, nil
}

// Counters returns the embedding counters, for metrics.
func (s *Service) Counters() *EmbedCounters { return &s.counters }

// requeueAll marks every skill of the tenant for embedding with the
// current settings (all of them when force) and returns how many skills
// there are.
func (s *Service) requeueAll(ctx context.Context, q database.Q, force bool) (int, error) {
	jobs, err := store.AllSkillTexts(ctx, q)
	if err != nil {
		return 0, err
	}
	for _, j := range jobs {
		if err := s.enqueue(ctx, q, j.SkillID, j.Name, j.Title, j.Description, j.Body, force); err != nil {
			return 0, err
		}
	}
	return len(jobs), nil
}

// Reindex re-queues every skill of a tenant for embedding with the current
// provider and embeds them, calling progress after each batch.
func (s *Service) Reindex(ctx context.Context, a Actor, progress func(done, total int)) error {
	if err := a.need("admin"); err != nil {
		return err
	}
	sys := System(a.TenantID)
	var total int
	err := s.db.Write(ctx, sys.scope(), func(q database.Q) error {
		var err error
		total, err = s.requeueAll(ctx, q, true)
		return err
	})
	if err != nil {
		return err
	}
	done := 0
	if progress != nil {
		progress(0, total)
	}
	for {
		k, err := s.embedBatch(ctx, sys, 64)
		if err != nil {
			return err
		}
		if k == 0 {
			break
		}
		done += k
		if progress != nil {
			progress(min(done, total), total)
		}
	}
	var counts map[string]int64
	err = s.db.Read(ctx, sys.scope(), func(q database.Q) error {
		var err error
		counts, err = store.EmbeddingCounts(ctx, q)
		return err
	})
	if err != nil {
		return err
	}
	if counts["failed"] > 0 {
		return &Error{Kind: Unavailable, Msg: itoa(int(counts["failed"])) + " skills failed to embed; they will be retried (see the skill's embedding state)"}
	}
	return nil
}
