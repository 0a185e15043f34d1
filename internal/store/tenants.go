package store

import (
	"context"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/database"
)

// TenantInfo is the scope's own tenant row.
type TenantInfo struct {
	ID                      uuid.UUID
	Slug, Name, EmailDomain string
	Active                  bool
}

var qTenantSelf = query("TenantSelf")

// TenantSelf returns the scope's tenant.
func TenantSelf(ctx context.Context, q database.Q) (TenantInfo, error) {
	var t TenantInfo
	err := q.QueryRow(ctx, qTenantSelf).Scan(&t.ID, &t.Slug, &t.Name, &t.EmailDomain, &t.Active)
	return t, notFound(err)
}
