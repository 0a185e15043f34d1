package service

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/store"
)

// GitView is what a caller's git repository of the tenant's skills shows:
// every published skill the caller may see, with the versions up to the
// published one (each becomes a tag).
type GitView struct {
	// Open is false for an anonymous caller of a tenant whose public
	// discovery is off: such a caller must authenticate.
	Open       bool
	TenantSlug string
	TenantName string
	Skills     []GitSkill // by name, bytewise
}

// GitSkill is one published skill of a view.
type GitSkill struct {
	Name        string
	Category    string
	PublishedAt time.Time
	Versions    []GitVersion // oldest first; the last is the published one
}

// GitVersion is one version of a skill of a view.
type GitVersion struct {
	ID          uuid.UUID
	Number      int
	Description string // from this version's SKILL.md
	Digest      string // skill-level digest, "sha256:<hex>"
	CreatedAt   time.Time
}

// Published is the version the skill is published at.
func (g GitSkill) Published() GitVersion { return g.Versions[len(g.Versions)-1] }

// GitView returns the published skills the actor may see in its tenant, as
// discovery would offer them: anonymous actors see public skills only when
// the tenant has public discovery on; a key sees what it may read.
func (s *Service) GitView(ctx context.Context, a Actor) (GitView, error) {
	if err := a.needRead(); err != nil {
		return GitView{}, err
	}
	var view GitView
	err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
		ok, err := discoveryOpen(ctx, q, a)
		if err != nil || !ok {
			return err
		}
		t, err := store.TenantSelf(ctx, q)
		if err != nil {
			return err
		}
		rows, err := store.PublishedVersions(ctx, q, a.Role == "")
		if err != nil {
			return err
		}
		view = GitView{Open: true, TenantSlug: t.Slug, TenantName: t.Name, Skills: gitSkills(rows)}
		return nil
	})
	return view, err
}

// gitSkills groups version rows (by skill name, then number) into skills.
func gitSkills(rows []store.PublishedVersion) []GitSkill {
	out := []GitSkill{}
	for _, r := range rows {
		if len(out) == 0 || out[len(out)-1].Name != r.Skill {
			out = append(out, GitSkill{Name: r.Skill, Category: r.Category, PublishedAt: r.PublishedAt.UTC()})
		}
		sk := &out[len(out)-1]
		sk.Versions = append(sk.Versions, GitVersion{ID: r.ID, Number: r.Number, Digest: r.Digest,
			Description: versionDescription(r.Version, ""), CreatedAt: r.CreatedAt.UTC()})
	}
	return out
}

// GitFiles returns the files of versions of a view, keyed by version id.
// It reads only versions GitView lists for the same actor, so an id that
// names anything else reads nothing.
func (s *Service) GitFiles(ctx context.Context, a Actor, ids []uuid.UUID) (map[uuid.UUID][]bundle.File, error) {
	if err := a.needRead(); err != nil {
		return nil, err
	}
	out := map[uuid.UUID][]bundle.File{}
	err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
		ok, err := discoveryOpen(ctx, q, a)
		if err != nil || !ok {
			return err
		}
		data, err := store.PublishedVersionsFileData(ctx, q, ids, a.Role == "")
		if err != nil {
			return err
		}
		for id, files := range data {
			for _, f := range files {
				out[id] = append(out[id], bundle.File{Path: f.Path, Data: f.Data})
			}
		}
		return nil
	})
	return out, err
}

// versionDescription reads the description of the version's own SKILL.md:
// the skill row carries the latest version's, which may be an unpublished
// draft.
func versionDescription(v store.Version, fallback string) string {
	var fm struct {
		Description string `json:"description"`
	}
	if json.Unmarshal(v.Frontmatter, &fm) == nil && fm.Description != "" {
		return fm.Description
	}
	return fallback
}
