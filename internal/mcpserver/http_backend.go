package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/client"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/store"
)

// HTTPBackend runs the tools against a Skillvault server's REST API with
// the client's API key: what `skillvault mcp` uses on a laptop, which never
// holds database credentials.
type HTTPBackend struct {
	C *client.Client
}

var _ Backend = HTTPBackend{}

// SearchSkills calls the server's search; category and extra tags are
// applied here on a longer list, since the REST search filters less.
func (b HTTPBackend) SearchSkills(ctx context.Context, q SearchQuery) ([]service.SearchHit, error) {
	tags := cleanTags(q.Tags)
	if strings.TrimSpace(q.Query) == "" {
		o := client.ListOptions{Category: q.Category, Sort: "uses", Limit: q.Limit}
		if len(tags) > 0 {
			o.Tag, o.Limit = tags[0], 200
		}
		p, err := b.C.ListSkills(ctx, o, "")
		if err != nil {
			return nil, remoteError(err)
		}
		return filterHits(hitsOf(storeSkills(p.Items)), tags, q.Limit), nil
	}
	p, err := b.search(ctx, q, tags)
	if err != nil {
		return nil, err
	}
	return b.hits(ctx, p.Items, q, tags)
}

// ClosestSkills lists the skills the server found nearest to a query that
// matches none.
func (b HTTPBackend) ClosestSkills(ctx context.Context, q SearchQuery) ([]service.SearchHit, error) {
	tags := cleanTags(q.Tags)
	p, err := b.search(ctx, q, tags)
	if err != nil {
		return nil, err
	}
	return b.hits(ctx, p.Closest, q, tags)
}

func (b HTTPBackend) search(ctx context.Context, q SearchQuery, tags []string) (client.SearchPage, error) {
	limit := q.Limit
	if q.Category != "" || len(tags) > 0 {
		limit = maxSearch
	}
	p, err := b.C.SearchWithClosest(ctx, q.Query, "", limit)
	if err != nil {
		return p, remoteError(err)
	}
	return p, nil
}

// hits reads the server's results and applies the category and tags.
func (b HTTPBackend) hits(ctx context.Context, results []client.SearchResult, q SearchQuery, tags []string) ([]service.SearchHit, error) {
	var hits []service.SearchHit
	for _, r := range results {
		h, err := b.hit(ctx, r)
		if err != nil {
			return nil, err
		}
		if q.Category == "" || h.Category == q.Category {
			hits = append(hits, h)
		}
	}
	return filterHits(hits, tags, q.Limit), nil
}

// hit reads a search result as the server sent it; a server whose search
// answer lacks the skill's figures (the client's listing fallback) is
// asked for the skill.
func (b HTTPBackend) hit(ctx context.Context, r client.SearchResult) (service.SearchHit, error) {
	var h service.SearchHit
	if len(r.Raw) > 0 && json.Unmarshal(r.Raw, &h) == nil && h.Status != "" {
		return h, nil
	}
	sk, err := b.Skill(ctx, r.Name)
	if err != nil {
		return h, err
	}
	return hitsOf([]store.Skill{sk})[0], nil
}

func (b HTTPBackend) ListSkills(ctx context.Context, q ListQuery) ([]store.Skill, string, error) {
	p, err := b.C.ListSkills(ctx, client.ListOptions{Category: q.Category, Sort: "name", Limit: q.Limit}, q.Cursor)
	if err != nil {
		return nil, "", remoteError(err)
	}
	return storeSkills(p.Items), p.NextCursor, nil
}

func (b HTTPBackend) Skill(ctx context.Context, name string) (store.Skill, error) {
	s, err := b.C.Skill(ctx, name)
	if err != nil {
		return store.Skill{}, remoteError(err)
	}
	return storeSkill(s), nil
}

func (b HTTPBackend) Version(ctx context.Context, name, ref string) (service.VersionDetail, error) {
	v, err := b.C.Version(ctx, name, ref)
	if err != nil {
		return service.VersionDetail{}, remoteError(err)
	}
	out := service.VersionDetail{Skill: v.Skill, Files: make([]store.FileEntry, len(v.Files)),
		Version: store.Version{Number: v.Number, Frontmatter: v.Frontmatter, Digest: v.Digest, FileCount: v.FileCount,
			TotalSize: v.TotalSize, Changelog: v.Changelog, CreatedAt: v.CreatedAt}}
	for i, f := range v.Files {
		out.Files[i] = store.FileEntry{Path: f.Path, SHA256: f.SHA256, Size: f.Size}
	}
	return out, nil
}

func (b HTTPBackend) File(ctx context.Context, name, ref, path string) ([]byte, error) {
	data, err := b.C.File(ctx, name, ref, path)
	if err != nil {
		return nil, remoteError(err)
	}
	return data, nil
}

func (b HTTPBackend) Rate(ctx context.Context, name string, stars int, comment string) (service.RatingResult, error) {
	r, err := b.C.Rate(ctx, name, stars, comment)
	if err != nil {
		return service.RatingResult{}, remoteError(err)
	}
	return service.RatingResult{Rating: store.Rating{Stars: r.Rating.Stars, Comment: r.Rating.Comment},
		RatingCount: r.RatingCount, RatingAverage: r.RatingAverage}, nil
}

func (b HTTPBackend) RecordUsage(ctx context.Context, e service.UsageInput) (service.UsageResult, error) {
	r, err := b.C.RecordUsage(ctx, []client.UsageEvent{{Skill: e.Skill, Version: e.Version, Event: e.Event, Source: e.Source, Metadata: e.Metadata}})
	if err != nil {
		return service.UsageResult{}, remoteError(err)
	}
	out := service.UsageResult{Accepted: r.Accepted, Rejected: []service.Rejected{}}
	for _, x := range r.Rejected {
		out.Rejected = append(out.Rejected, service.Rejected{Index: x.Index, Skill: x.Skill, Reason: x.Reason})
	}
	return out, nil
}

// Publish uploads the bundle as a zip: a new version when the key can see
// a skill of that name, a new skill otherwise.
func (b HTTPBackend) Publish(ctx context.Context, files []bundle.File, dir string, publish bool) (service.Published, error) {
	name, err := bundleName(files)
	if err != nil {
		return service.Published{}, err
	}
	if dir != "" {
		// The server checks an archive's top folder against the name.
		files = slices.Clone(files)
		for i := range files {
			files[i].Path = dir + "/" + files[i].Path
		}
	}
	var buf bytes.Buffer
	if err := bundle.WriteZip(&buf, files); err != nil {
		return service.Published{}, &service.Error{Kind: service.Invalid, Msg: "cannot pack the bundle: " + err.Error()}
	}
	var p client.Published
	_, err = b.C.Skill(ctx, name)
	switch {
	case err == nil:
		p, err = b.C.AddVersion(ctx, name, buf.Bytes(), publish)
	case client.IsNotFound(err):
		p, err = b.C.CreateSkill(ctx, buf.Bytes(), publish, "")
	}
	if err != nil {
		return service.Published{}, remoteError(err)
	}
	out := service.Published{Skill: storeSkill(p.Skill), Created: p.Created, Unchanged: p.Unchanged, Message: p.Message,
		Version: store.Version{Number: p.Version.Number, Digest: p.Version.Digest, FileCount: p.Version.FileCount, TotalSize: p.Version.TotalSize},
		Files:   make([]store.FileEntry, len(p.Files))}
	for i, f := range p.Files {
		out.Files[i] = store.FileEntry{Path: f.Path, SHA256: f.SHA256, Size: f.Size}
	}
	return out, nil
}

func storeSkill(s client.Skill) store.Skill {
	return store.Skill{Name: s.Name, Title: s.Title, Description: s.Description, Category: s.Category, Tags: s.Tags,
		Status: s.Status, Visibility: s.Visibility, AuthorEmail: s.Author, LatestVersion: s.LatestVersion,
		PublishedVersion: s.PublishedVersion, ForkOf: s.ForkOf, RatingCount: s.RatingCount, RatingAverage: s.RatingAverage,
		Installs: s.Installs, Downloads: s.Downloads, Views: s.Views, Invocations: s.Invocations,
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt, PublishedAt: s.PublishedAt}
}

func storeSkills(in []client.Skill) []store.Skill {
	out := make([]store.Skill, len(in))
	for i, s := range in {
		out[i] = storeSkill(s)
	}
	return out
}

// remoteError gives a server's answer the kind the tools report, with the
// server's own message and per-file problems.
func remoteError(err error) error {
	var e *client.Error
	if !errors.As(err, &e) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		// Network failures: say which server could not be reached.
		return &service.Error{Kind: service.Unavailable, Msg: err.Error()}
	}
	msg := e.Detail
	if msg == "" {
		msg = e.Title
	}
	kind := service.Internal
	switch {
	case e.Status == http.StatusBadRequest || e.Status == http.StatusUnprocessableEntity || e.Status == http.StatusUnsupportedMediaType:
		kind = service.Invalid
	case e.Status == http.StatusUnauthorized:
		kind, msg = service.Unauthenticated, msg+" (check SKILLVAULT_API_KEY or run skillvault login)"
	case e.Status == http.StatusForbidden:
		kind = service.Forbidden
	case e.Status == http.StatusNotFound:
		kind = service.NotFound
	case e.Status == http.StatusConflict:
		kind = service.Conflict
	case e.Status == http.StatusRequestEntityTooLarge:
		kind = service.TooLarge
	case e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable ||
		e.Status == http.StatusBadGateway || e.Status == http.StatusGatewayTimeout:
		kind = service.Unavailable
	default:
		msg = fmt.Sprintf("the server answered %s %s with HTTP %d: %s (request id %s)", e.Method, e.Path, e.Status, msg, e.Instance)
	}
	return &service.Error{Kind: kind, Msg: msg, Problems: e.Problems}
}
