package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/store"
)

// MaxUsageBatch is the largest batch RecordUsage accepts.
const MaxUsageBatch = 1000

// UsageInput is one event as a client reports it.
type UsageInput struct {
	Skill    string          `json:"skill"`
	Version  int             `json:"version,omitempty"`
	Event    string          `json:"event"`
	Source   string          `json:"source"`
	Metadata json.RawMessage `json:"metadata,omitempty"`
}

// Rejected is an event that was not recorded, and why.
type Rejected struct {
	Index  int    `json:"index"`
	Skill  string `json:"skill"`
	Reason string `json:"reason"`
}

// UsageResult says what a batch did.
type UsageResult struct {
	Accepted int        `json:"accepted"`
	Rejected []Rejected `json:"rejected"`
}

var (
	usageEvents  = map[string]bool{"install": true, "download": true, "view": true, "invoke": true}
	usageSources = map[string]bool{"web": true, "api": true, "cli": true, "mcp": true, "hook": true}
)

// RecordUsage stores the valid events of a batch and rejects the others
// one by one; the skills' counters change in the same transaction, so
// they always equal the events stored.
func (s *Service) RecordUsage(ctx context.Context, a Actor, in []UsageInput) (UsageResult, error) {
	if err := a.need("write"); err != nil {
		return UsageResult{}, err
	}
	if len(in) == 0 || len(in) > MaxUsageBatch {
		return UsageResult{}, invalidf("send between 1 and %d events", MaxUsageBatch)
	}
	out := UsageResult{Rejected: []Rejected{}}
	err := s.db.Write(ctx, a.scope(), func(q database.Q) error {
		out = UsageResult{Rejected: []Rejected{}}
		names := map[string]bool{}
		for _, e := range in {
			names[e.Skill] = true
		}
		list := make([]string, 0, len(names))
		for n := range names {
			list = append(list, n)
		}
		ids, err := store.LockSkillsByName(ctx, q, list)
		if err != nil {
			return err
		}
		var events []store.UsageEvent
		counts := map[uuid.UUID]*store.Counts{}
		for i, e := range in {
			reject := func(format string, args ...any) {
				out.Rejected = append(out.Rejected, Rejected{Index: i, Skill: e.Skill, Reason: fmt.Sprintf(format, args...)})
			}
			ref, ok := ids[e.Skill]
			id := ref.ID
			switch {
			case !usageEvents[e.Event]:
				reject("event must be install, download, view or invoke, not %q", e.Event)
				continue
			case e.Source == "":
				e.Source = a.Source
			}
			switch {
			case !usageSources[e.Source]:
				reject("source must be web, api, cli, mcp or hook, not %q", e.Source)
				continue
			case !ok:
				reject("no skill named %q", e.Skill)
				continue
			case e.Version < 0:
				reject("version must be positive")
				continue
			case e.Version > ref.LatestVersion:
				reject("%s has no version %d", e.Skill, e.Version)
				continue
			case len(e.Metadata) > 4096 || (len(e.Metadata) > 0 && !json.Valid(e.Metadata)):
				reject("metadata must be a JSON value of at most 4 KiB")
				continue
			}
			if len(e.Metadata) > 0 && e.Metadata[0] != '{' {
				reject("metadata must be a JSON object")
				continue
			}
			if err := storableJSON(e.Metadata); err != nil {
				reject("metadata %v", err)
				continue
			}
			events = append(events, store.UsageEvent{SkillID: id, Version: e.Version, Event: e.Event, Source: e.Source, Metadata: e.Metadata})
			c := counts[id]
			if c == nil {
				c = &store.Counts{}
				counts[id] = c
			}
			switch e.Event {
			case "install":
				c.Installs++
			case "download":
				c.Downloads++
			case "view":
				c.Views++
			case "invoke":
				c.Invokes++
			}
		}
		if len(events) == 0 {
			return nil
		}
		var user *uuid.UUID
		if a.UserID != uuid.Nil {
			user = &a.UserID
		}
		if err := store.InsertUsage(ctx, q, user, events); err != nil {
			return err
		}
		out.Accepted = len(events)
		return store.AddCounts(ctx, q, counts)
	})
	return out, err
}

// storableJSON checks what json.Valid lets through but PostgreSQL's jsonb
// refuses, which would fail the whole batch: NUL characters in strings or
// keys, and numbers beyond any float.
func storableJSON(raw json.RawMessage) error {
	if len(raw) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("is not valid JSON: %w", err)
	}
	return storableValue(v, 0)
}

func storableValue(v any, depth int) error {
	if depth > 32 {
		return errors.New("is nested too deeply")
	}
	switch x := v.(type) {
	case string:
		if strings.ContainsRune(x, 0) {
			return errors.New("must not contain NUL characters")
		}
	case json.Number:
		if f, err := x.Float64(); err != nil || math.IsInf(f, 0) {
			return fmt.Errorf("has a number out of range: %s", x)
		}
	case []any:
		for _, e := range x {
			if err := storableValue(e, depth+1); err != nil {
				return err
			}
		}
	case map[string]any:
		for k, e := range x {
			if strings.ContainsRune(k, 0) {
				return errors.New("must not contain NUL characters")
			}
			if err := storableValue(e, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// Stats are a skill's usage figures.
type Stats struct {
	Skill       string           `json:"skill"`
	Installs    int64            `json:"installs"`
	Downloads   int64            `json:"downloads"`
	Views       int64            `json:"views"`
	Invocations int64            `json:"invocations"`
	Total       int64            `json:"total"`
	From        string           `json:"from"`
	To          string           `json:"to"`
	InRange     int64            `json:"events_in_range"`
	UniqueUsers int64            `json:"unique_users_in_range"`
	Daily       []store.DayCount `json:"daily"`
	RatingCount int              `json:"rating_count"`
	RatingAvg   float64          `json:"rating_average"`
}

// SkillStats returns a skill's totals and its per-day series in [from, to).
func (s *Service) SkillStats(ctx context.Context, a Actor, name string, from, to time.Time) (Stats, error) {
	if err := a.needRead(); err != nil {
		return Stats{}, err
	}
	if !to.After(from) || to.Sub(from) > 366*24*time.Hour {
		return Stats{}, invalidf("the range must be positive and at most 366 days")
	}
	var st Stats
	err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
		sk, err := visible(ctx, q, name)
		if err != nil {
			return err
		}
		st = Stats{Skill: name, Installs: sk.Installs, Downloads: sk.Downloads, Views: sk.Views, Invocations: sk.Invocations,
			Total: sk.Uses(), From: from.Format(time.RFC3339), To: to.Format(time.RFC3339), RatingCount: sk.RatingCount, RatingAvg: sk.RatingAverage}
		st.InRange, st.UniqueUsers, st.Daily, err = store.UsageStats(ctx, q, sk.ID, from, to)
		if st.Daily == nil {
			st.Daily = []store.DayCount{}
		}
		return err
	})
	return st, err
}

// TenantActivity is the tenant's usage in [from, to) (admins only).
func (s *Service) TenantActivity(ctx context.Context, a Actor, from, to time.Time) (store.Activity, error) {
	if err := a.need("admin"); err != nil {
		return store.Activity{}, err
	}
	if !to.After(from) || to.Sub(from) > 366*24*time.Hour {
		return store.Activity{}, invalidf("the range must be positive and at most 366 days")
	}
	var out store.Activity
	err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
		var err error
		out, err = store.TenantActivity(ctx, q, from, to, 10)
		return err
	})
	return out, err
}
