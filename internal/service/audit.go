package service

import (
	"context"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/store"
)

// Audit lists audit entries, newest first (admins only).
func (s *Service) Audit(ctx context.Context, a Actor, f store.AuditFilter) ([]store.AuditEntry, error) {
	if err := a.need("admin"); err != nil {
		return nil, err
	}
	var out []store.AuditEntry
	err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
		var err error
		out, err = store.ListAudit(ctx, q, f)
		return err
	})
	return out, err
}
