package service

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/store"
)

// Collected is what one garbage collection freed.
type Collected struct {
	Blobs int64 `json:"blobs"`
	Bytes int64 `json:"bytes"`
}

// collectGarbage deletes the tenant's blobs that no version references,
// among shas (all of them when shas is nil), and audits what it freed. It
// takes the quota lock first, so no concurrent upload of the tenant can
// find a blob stored and then lose it to the collection; other tenants'
// blobs, even with the same digest, are out of reach of the scope.
func (s *Service) collectGarbage(ctx context.Context, q database.Q, a Actor, shas []string, reason string) (Collected, error) {
	if shas != nil && len(shas) == 0 {
		return Collected{}, nil
	}
	if err := store.LockQuota(ctx, q); err != nil {
		return Collected{}, fmt.Errorf("lock quotas: %w", err)
	}
	var c Collected
	var err error
	if c.Blobs, c.Bytes, err = store.CollectBlobs(ctx, q, shas); err != nil {
		return Collected{}, fmt.Errorf("collect blobs: %w", err)
	}
	if c.Blobs == 0 {
		return c, nil
	}
	return c, s.audit(ctx, q, a, "blob.collect", "success", "tenant", a.TenantID.String(),
		map[string]any{"blobs": c.Blobs, "bytes": c.Bytes, "reason": reason})
}

// CollectGarbage sweeps the actor's tenant for blobs no version references:
// what a skill deletion leaves is freed at once, so this finds only
// leftovers (such as files stored before collection existed).
func (s *Service) CollectGarbage(ctx context.Context, a Actor) (Collected, error) {
	if err := a.need("admin"); err != nil {
		return Collected{}, err
	}
	var c Collected
	err := s.writeCounted(ctx, a, func(q database.Q) error {
		var err error
		c, err = s.collectGarbage(ctx, q, a, nil, "sweep")
		return err
	})
	return c, err
}

// RunCollector sweeps every tenant that tenants names, each interval, until
// ctx ends. The server runs it when it has the owner's URL to list tenants
// with; each sweep runs in its tenant's own scope.
func (s *Service) RunCollector(ctx context.Context, every time.Duration, tenants func(context.Context) ([]uuid.UUID, error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		ids, err := tenants(ctx)
		if err != nil {
			s.log.Warn("garbage collection: list tenants", "err", err)
		}
		for _, id := range ids {
			a := System(id)
			a.Source = "gc"
			if c, err := s.CollectGarbage(ctx, a); err != nil {
				s.log.Warn("garbage collection", "tenant", id, "err", err)
			} else if c.Blobs > 0 {
				s.log.Info("garbage collection", "tenant", id, "blobs", c.Blobs, "bytes", c.Bytes)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
