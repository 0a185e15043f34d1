package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/skillvault/skillvault/internal/database"
)

// UsageEvent is one recorded use of a skill.
type UsageEvent struct {
	SkillID  uuid.UUID
	Version  int
	Event    string
	Source   string
	Metadata json.RawMessage
}

var (
	qActivityDaily       = query("ActivityDaily")
	qActivityTopSkills   = query("ActivityTopSkills")
	qActivityTopUsers    = query("ActivityTopUsers")
	qActivityActiveUsers = query("ActivityActiveUsers")
	qUsageInsert         = query("UsageInsert")
	qUsageStats          = query("UsageStats")
	qUsageDaily          = query("UsageDaily")
)

// InsertUsage stores a batch of events with one statement.
func InsertUsage(ctx context.Context, q database.Q, user *uuid.UUID, events []UsageEvent) error {
	ids, versions := make([]uuid.UUID, len(events)), make([]int32, len(events))
	kinds, sources, metas := make([]string, len(events)), make([]string, len(events)), make([]string, len(events))
	for i, e := range events {
		ids[i], versions[i], kinds[i], sources[i] = e.SkillID, int32(e.Version), e.Event, e.Source
		metas[i] = "{}"
		if len(e.Metadata) > 0 {
			metas[i] = string(e.Metadata)
		}
	}
	_, err := q.Exec(ctx, qUsageInsert, ids, versions, kinds, sources, metas, user)
	return err
}

// DayCount is the number of events of one kind on one day.
type DayCount struct {
	Day   string `json:"day"`
	Event string `json:"event"`
	Count int64  `json:"count"`
}

// UsageStats counts a skill's events in [from, to).
func UsageStats(ctx context.Context, q database.Q, skill uuid.UUID, from, to time.Time) (total, users int64, days []DayCount, err error) {
	if err = q.QueryRow(ctx, qUsageStats, skill, from, to).Scan(&total, &users); err != nil {
		return
	}
	rows, err := q.Query(ctx, qUsageDaily, skill, from, to)
	if err != nil {
		return
	}
	defer rows.Close()
	for rows.Next() {
		var d DayCount
		var day time.Time
		if err = rows.Scan(&day, &d.Event, &d.Count); err != nil {
			return
		}
		d.Day = day.Format("2006-01-02")
		days = append(days, d)
	}
	err = rows.Err()
	return
}

// Activity is a tenant's usage in a time range.
type Activity struct {
	Daily       []DayCount
	TopSkills   []NameCount
	TopUsers    []NameCount
	ActiveUsers int64
}

// TenantActivity aggregates the scope's usage events in [from, to).
func TenantActivity(ctx context.Context, q database.Q, from, to time.Time, top int) (Activity, error) {
	var a Activity
	rows, err := q.Query(ctx, qActivityDaily, from, to)
	if a.Daily, err = collect(rows, err, func(r pgx.Row) (DayCount, error) {
		var d DayCount
		var day time.Time
		err := r.Scan(&day, &d.Event, &d.Count)
		d.Day = day.Format("2006-01-02")
		return d, err
	}); err != nil {
		return a, err
	}
	rows, err = q.Query(ctx, qActivityTopSkills, from, to, top)
	if a.TopSkills, err = collect(rows, err, func(r pgx.Row) (NameCount, error) {
		var n NameCount
		return n, r.Scan(&n.Name, &n.Count, &n.Users)
	}); err != nil {
		return a, err
	}
	rows, err = q.Query(ctx, qActivityTopUsers, from, to, top)
	if a.TopUsers, err = collect(rows, err, func(r pgx.Row) (NameCount, error) {
		var n NameCount
		return n, r.Scan(&n.Name, &n.Count, &n.Last)
	}); err != nil {
		return a, err
	}
	err = q.QueryRow(ctx, qActivityActiveUsers, from, to).Scan(&a.ActiveUsers)
	return a, err
}
