package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/skillvault/skillvault/internal/database"
)

// AuditEntry is one row of the security trail.
type AuditEntry struct {
	ID           int64           `json:"id"`
	OccurredAt   time.Time       `json:"occurred_at"`
	ActorType    string          `json:"actor_type"`
	ActorUserID  *uuid.UUID      `json:"actor_user_id"`
	ActorEmail   string          `json:"actor,omitempty"`
	ActorKeyID   *uuid.UUID      `json:"actor_key_id"`
	Action       string          `json:"action"`
	Outcome      string          `json:"outcome"`
	ResourceType string          `json:"resource_type"`
	ResourceID   string          `json:"resource_id"`
	Details      json.RawMessage `json:"details"`
	RequestID    string          `json:"request_id"`
	RemoteAddr   string          `json:"remote_addr"`
	UserAgent    string          `json:"user_agent"`
}

var (
	qAuditInsert = query("AuditInsert")
	qAuditList   = query("AuditList")
)

func InsertAudit(ctx context.Context, q database.Q, e AuditEntry) error {
	if len(e.Details) == 0 {
		e.Details = json.RawMessage("{}")
	}
	_, err := q.Exec(ctx, qAuditInsert, e.ActorType, e.ActorUserID, e.ActorKeyID, e.Action, e.Outcome,
		e.ResourceType, e.ResourceID, e.Details, e.RequestID, e.RemoteAddr, e.UserAgent)
	return err
}

// AuditFilter selects audit entries; BeforeID is the cursor.
type AuditFilter struct {
	BeforeID                              int64
	Actor, Action, ResourceType, Resource string
	From, To                              *time.Time
	Limit                                 int
}

func ListAudit(ctx context.Context, q database.Q, f AuditFilter) ([]AuditEntry, error) {
	rows, err := q.Query(ctx, qAuditList, f.BeforeID, f.Actor, f.Action, f.ResourceType, f.Resource, f.From, f.To, f.Limit)
	return collect(rows, err, func(r pgx.Row) (AuditEntry, error) {
		var e AuditEntry
		return e, r.Scan(&e.ID, &e.OccurredAt, &e.ActorType, &e.ActorUserID, &e.ActorEmail, &e.ActorKeyID, &e.Action, &e.Outcome,
			&e.ResourceType, &e.ResourceID, &e.Details, &e.RequestID, &e.RemoteAddr, &e.UserAgent)
	})
}
