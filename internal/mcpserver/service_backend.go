package mcpserver

import (
	"context"
	"slices"
	"strings"

	"github.com/skillvault/skillvault/internal/api"
	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/store"
)

// ServiceBackend runs the tools in-process, as Actor, inside the actor's
// tenant scope. `skillvault serve` makes one per MCP request from the
// request's API key.
type ServiceBackend struct {
	Svc   *service.Service
	Actor service.Actor
}

var _ Backend = ServiceBackend{}

// SearchSkills runs the service's hybrid search; an empty query lists the
// most used skills instead (the search needs words).
func (b ServiceBackend) SearchSkills(ctx context.Context, q SearchQuery) ([]service.SearchHit, error) {
	tags := cleanTags(q.Tags)
	if strings.TrimSpace(q.Query) == "" {
		f := store.SkillFilter{Category: q.Category, Sort: "uses", Limit: q.Limit}
		if len(tags) > 0 {
			f.Tag, f.Limit = tags[0], searchScan
		}
		skills, err := b.Svc.Skills(ctx, b.Actor, f)
		if err != nil {
			return nil, err
		}
		return filterHits(hitsOf(skills), tags, q.Limit), nil
	}
	res, err := b.search(ctx, q, tags)
	if err != nil {
		return nil, err
	}
	return filterHits(res.Hits, tags, q.Limit), nil
}

// ClosestSkills lists the skills nearest in meaning to a query that
// matches none (none when it matches some).
func (b ServiceBackend) ClosestSkills(ctx context.Context, q SearchQuery) ([]service.SearchHit, error) {
	tags := cleanTags(q.Tags)
	res, err := b.search(ctx, q, tags)
	if err != nil {
		return nil, err
	}
	return filterHits(res.Closest, tags, q.Limit), nil
}

func (b ServiceBackend) search(ctx context.Context, q SearchQuery, tags []string) (service.SearchResult, error) {
	sq := service.SearchQuery{Text: q.Query, Limit: q.Limit, Filter: store.SearchFilter{Category: q.Category}}
	if len(tags) > 0 {
		// The service filters on one tag; the others are checked here,
		// on a longer list.
		sq.Filter.Tag, sq.Limit = tags[0], maxSearch
	}
	return b.Svc.SearchWithClosest(ctx, b.Actor, sq)
}

// searchScan bounds the listing an empty query with tags looks through;
// maxSearch is the most results the service's search returns.
const (
	searchScan = 1000
	maxSearch  = 100
)

func cleanTags(tags []string) []string {
	var out []string
	for _, t := range tags {
		if t = strings.ToLower(strings.TrimSpace(t)); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// hitsOf turns listed skills into search hits without a digest.
func hitsOf(skills []store.Skill) []service.SearchHit {
	out := make([]service.SearchHit, len(skills))
	for i, sk := range skills {
		out[i] = service.SearchHit{Name: sk.Name, Title: sk.Title, Description: sk.Description, Category: sk.Category, Tags: sk.Tags,
			Status: sk.Status, Visibility: sk.Visibility, Version: currentVersion(sk), RatingAverage: sk.RatingAverage,
			RatingCount: sk.RatingCount, Uses: sk.Uses()}
	}
	return out
}

// filterHits keeps the hits carrying every tag, at most limit of them.
func filterHits(hits []service.SearchHit, tags []string, limit int) []service.SearchHit {
	out := make([]service.SearchHit, 0, min(len(hits), limit))
	for _, h := range hits {
		if len(out) == limit {
			break
		}
		if hasTags(h.Tags, tags) {
			out = append(out, h)
		}
	}
	return out
}

func hasTags(have, want []string) bool {
	for _, t := range want {
		if !slices.Contains(have, t) {
			return false
		}
	}
	return true
}

// ListSkills pages through the visible skills by name; the cursor is the
// offset of the next page.
func (b ServiceBackend) ListSkills(ctx context.Context, q ListQuery) ([]store.Skill, string, error) {
	var offset int
	if q.Cursor != "" {
		if err := api.DecodeCursor(q.Cursor, &offset); err != nil {
			return nil, "", err
		}
	}
	skills, err := b.Svc.Skills(ctx, b.Actor, store.SkillFilter{Category: q.Category, Sort: "name", Offset: offset, Limit: q.Limit + 1})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(skills) > q.Limit {
		skills = skills[:q.Limit]
		next = api.EncodeCursor(offset + q.Limit)
	}
	return skills, next, nil
}

func (b ServiceBackend) Skill(ctx context.Context, name string) (store.Skill, error) {
	return b.Svc.Skill(ctx, b.Actor, name)
}

func (b ServiceBackend) Version(ctx context.Context, name, ref string) (service.VersionDetail, error) {
	return b.Svc.Version(ctx, b.Actor, name, ref)
}

func (b ServiceBackend) File(ctx context.Context, name, ref, path string) ([]byte, error) {
	f, _, err := b.Svc.File(ctx, b.Actor, name, ref, path)
	return f.Data, err
}

func (b ServiceBackend) Rate(ctx context.Context, name string, stars int, comment string) (service.RatingResult, error) {
	return b.Svc.Rate(ctx, b.Actor, name, stars, comment)
}

func (b ServiceBackend) RecordUsage(ctx context.Context, e service.UsageInput) (service.UsageResult, error) {
	return b.Svc.RecordUsage(ctx, b.Actor, []service.UsageInput{e})
}

// Publish adds a version when the caller can see a skill of the bundle's
// name, and creates the skill otherwise.
func (b ServiceBackend) Publish(ctx context.Context, files []bundle.File, dir string, publish bool) (service.Published, error) {
	name, err := bundleName(files)
	if err != nil {
		return service.Published{}, err
	}
	o := service.PublishOptions{Publish: publish, Dir: dir}
	if _, err := b.Svc.Skill(ctx, b.Actor, name); err == nil {
		return b.Svc.AddVersion(ctx, b.Actor, name, files, o)
	} else if service.KindOf(err) != service.NotFound {
		return service.Published{}, err
	}
	return b.Svc.CreateSkill(ctx, b.Actor, files, o)
}

// bundleName reads the skill's name from SKILL.md; a bundle without a
// readable one is reported with all its problems by the service, so only
// the name is taken here.
func bundleName(files []bundle.File) (string, error) {
	for _, f := range files {
		if f.Path == "SKILL.md" {
			fm, _, err := bundle.ParseSkillMD(f.Data)
			if err == nil && fm.Name != "" {
				return fm.Name, nil
			}
			if e, ok := service.AsError(err); ok {
				return "", e
			}
			break
		}
	}
	// Let full validation explain what is wrong.
	if _, err := bundle.New(files, bundle.Limits{}, ""); err != nil {
		if e, ok := service.AsError(err); ok {
			return "", e
		}
		return "", err
	}
	return "", &service.Error{Kind: service.Invalid, Msg: "the bundle has no SKILL.md with a name"}
}
