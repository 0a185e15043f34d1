package mcpserver

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"

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

// searchScan bounds how many visible skills the keyword fallback looks at.
const searchScan = 2000

// SearchSkills matches every word of the query, case-insensitively, in a
// skill's name, title, description, category or tags.
//
// TODO(search): switch to svc.Search (full-text, semantic, hybrid) once the
// service has it; this scan is the stop-gap the MCP tool uses until then.
func (b ServiceBackend) SearchSkills(ctx context.Context, q SearchQuery) ([]store.Skill, error) {
	f := store.SkillFilter{Category: q.Category, Sort: "uses", Limit: searchScan}
	if len(q.Tags) > 0 {
		f.Tag = strings.ToLower(strings.TrimSpace(q.Tags[0]))
	}
	all, err := b.Svc.Skills(ctx, b.Actor, f)
	if err != nil {
		return nil, err
	}
	return matchSkills(all, q), nil
}

// matchSkills filters and ranks skills for a keyword query: skills whose
// name matches come first, then by uses (the input order).
func matchSkills(all []store.Skill, q SearchQuery) []store.Skill {
	words := strings.Fields(strings.ToLower(q.Query))
	type hit struct {
		sk    store.Skill
		score int
	}
	var hits []hit
	for _, sk := range all {
		if !hasTags(sk.Tags, q.Tags) {
			continue
		}
		name := strings.ToLower(sk.Name)
		text := strings.ToLower(strings.Join([]string{sk.Name, strings.ReplaceAll(sk.Name, "-", " "), sk.Title,
			sk.Description, sk.Category, strings.Join(sk.Tags, " ")}, "\n"))
		score, ok := 0, true
		for _, w := range words {
			if !strings.Contains(text, w) {
				ok = false
				break
			}
			if strings.Contains(name, w) {
				score++
			}
		}
		if ok {
			hits = append(hits, hit{sk, score})
		}
	}
	slices.SortStableFunc(hits, func(a, b hit) int { return cmp.Compare(b.score, a.score) })
	out := make([]store.Skill, 0, min(len(hits), q.Limit))
	for _, h := range hits {
		if len(out) == q.Limit {
			break
		}
		out = append(out, h.sk)
	}
	return out
}

func hasTags(have, want []string) bool {
	for _, t := range want {
		if !slices.Contains(have, strings.ToLower(strings.TrimSpace(t))) {
			return false
		}
	}
	return true
}

// ListSkills pages through the visible skills by name; the cursor is the
// offset of the next page.
func (b ServiceBackend) ListSkills(ctx context.Context, q ListQuery) ([]store.Skill, string, error) {
	offset, err := decodeOffset(q.Cursor)
	if err != nil {
		return nil, "", err
	}
	skills, err := b.Svc.Skills(ctx, b.Actor, store.SkillFilter{Category: q.Category, Sort: "name", Offset: offset, Limit: q.Limit + 1})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(skills) > q.Limit {
		skills = skills[:q.Limit]
		next = encodeOffset(offset + q.Limit)
	}
	return skills, next, nil
}

func encodeOffset(n int) string {
	data, _ := json.Marshal(n)
	return base64.RawURLEncoding.EncodeToString(data)
}

func decodeOffset(c string) (int, error) {
	if c == "" {
		return 0, nil
	}
	var n int
	data, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || json.Unmarshal(data, &n) != nil || n < 0 {
		return 0, &service.Error{Kind: service.Invalid, Msg: "cursor is not one list_skills returned; omit it to start from the first page"}
	}
	return n, nil
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
