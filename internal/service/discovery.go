package service

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/store"
)

// DefaultTenantSlug names the tenant served where the host names none.
const DefaultTenantSlug = "default"

// discoveryPage is how many skills the index reads per statement.
const discoveryPage = 200

// DefaultTenant returns the tenant served on a host that names no tenant
// (the bare base domain, localhost, an IP address): the active tenant with
// the slug "default". It reports false when there is none.
func (s *Service) DefaultTenant(ctx context.Context) (uuid.UUID, bool, error) {
	t, err := s.db.TenantByHost(ctx, DefaultTenantSlug)
	if errors.Is(err, database.ErrNotFound) {
		return uuid.Nil, false, nil
	}
	if err != nil {
		return uuid.Nil, false, err
	}
	return t.ID, t.Active, nil
}

// DiscoverySkill is a skill as the well-known discovery index lists it: the
// version an agent should use and that version's manifest.
type DiscoverySkill struct {
	Name        string
	Description string // from the listed version's SKILL.md
	Version     int
	Digest      string            // skill-level digest, "sha256:<hex>"
	Files       []store.FileEntry // SKILL.md first, then by path (bytewise)
	CreatedAt   time.Time         // when the listed version was stored
}

// DiscoveryIndex lists the skills the actor may discover in its tenant.
// Anonymous actors (Actor{TenantID: t}) see public published skills, and
// only when the tenant has public_discovery on; a key sees what it may
// read. Archived skills are retired and never listed.
func (s *Service) DiscoveryIndex(ctx context.Context, a Actor) ([]DiscoverySkill, error) {
	if err := a.needRead(); err != nil {
		return nil, err
	}
	out := []DiscoverySkill{}
	err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
		if ok, err := discoveryOpen(ctx, q, a); err != nil || !ok {
			return err
		}
		for offset := 0; ; offset += discoveryPage {
			page, err := store.ListSkills(ctx, q, store.SkillFilter{Sort: "name", Offset: offset, Limit: discoveryPage})
			if err != nil {
				return err
			}
			for _, sk := range page {
				n, ok := discoveryVersion(a, sk)
				if !ok {
					continue
				}
				d, err := discoveryEntry(ctx, q, sk, n)
				if err != nil {
					return err
				}
				out = append(out, d)
			}
			if len(page) < discoveryPage {
				return nil
			}
		}
	})
	return out, err
}

// DiscoveryFile returns one file of the version of a skill the index lists.
func (s *Service) DiscoveryFile(ctx context.Context, a Actor, name, path string) (store.FileData, error) {
	if err := a.needRead(); err != nil {
		return store.FileData{}, err
	}
	var f store.FileData
	err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
		v, err := discoverableVersion(ctx, q, a, name)
		if err != nil {
			return err
		}
		f, err = store.VersionFile(ctx, q, v.ID, path)
		if errors.Is(err, store.ErrNotFound) {
			return notFoundf("%s has no file %s", name, path)
		}
		return err
	})
	return f, err
}

// DiscoveryBundle returns the listed version of a skill with every file,
// for the package archive.
func (s *Service) DiscoveryBundle(ctx context.Context, a Actor, name string) (DiscoverySkill, []bundle.File, error) {
	if err := a.needRead(); err != nil {
		return DiscoverySkill{}, nil, err
	}
	var d DiscoverySkill
	var files []bundle.File
	err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
		v, err := discoverableVersion(ctx, q, a, name)
		if err != nil {
			return err
		}
		data, err := store.VersionFileData(ctx, q, v.ID)
		if err != nil {
			return err
		}
		for _, f := range data {
			files = append(files, bundle.File{Path: f.Path, Data: f.Data})
			d.Files = append(d.Files, f.FileEntry)
		}
		sortDiscoveryFiles(d.Files)
		d.Name, d.Version, d.Digest, d.CreatedAt = name, v.Number, v.Digest, v.CreatedAt
		d.Description = versionDescription(v, "")
		return nil
	})
	return d, files, err
}

// discoverableVersion finds the version of a skill that discovery serves,
// as not-found when the actor may not discover it.
func discoverableVersion(ctx context.Context, q database.Q, a Actor, name string) (store.Version, error) {
	missing := notFoundf("no skill named %s", name)
	ok, err := discoveryOpen(ctx, q, a)
	if err != nil {
		return store.Version{}, err
	}
	if !ok {
		return store.Version{}, missing
	}
	sk, err := store.SkillByName(ctx, q, name)
	if errors.Is(err, store.ErrNotFound) {
		return store.Version{}, missing
	}
	if err != nil {
		return store.Version{}, err
	}
	n, ok := discoveryVersion(a, sk)
	if !ok {
		return store.Version{}, missing
	}
	v, err := store.VersionByNumber(ctx, q, sk.ID, n)
	if errors.Is(err, store.ErrNotFound) {
		return v, missing
	}
	return v, err
}

// discoveryOpen applies the tenant's settings: anonymous callers discover
// nothing unless public_discovery and allow_skill_download are on (the
// answer is then simply empty, revealing nothing); a key of a non-admin
// needs allow_skill_download, as for any download.
func discoveryOpen(ctx context.Context, q database.Q, a Actor) (bool, error) {
	st, err := store.GetSettings(ctx, q)
	if errors.Is(err, store.ErrNotFound) {
		// No settings row yet (or no such tenant): the column defaults.
		// Nothing is written here, so an unknown tenant stays untouched.
		st = store.Settings{AllowSkillDownload: true}
	} else if err != nil {
		return false, err
	}
	if a.Role == "" {
		return st.PublicDiscovery && st.AllowSkillDownload, nil
	}
	if !st.AllowSkillDownload && !a.isAdmin() {
		return false, forbiddenf("downloads are turned off for this tenant (allow_skill_download)")
	}
	return true, nil
}

// discoveryVersion picks the version discovery serves: the published one,
// or for a key holder who may see an unpublished skill, the latest.
// skill_visible has already hidden what the actor may not read; the
// anonymous rule is checked again here so that a change there cannot
// publish a private skill to the world.
func discoveryVersion(a Actor, sk store.Skill) (int, bool) {
	if a.Role == "" && (sk.Visibility != "public" || sk.Status != "published") {
		return 0, false
	}
	switch sk.Status {
	case "published":
		if sk.PublishedVersion == nil {
			return 0, false
		}
		return *sk.PublishedVersion, true
	case "draft", "in_review":
		return sk.LatestVersion, sk.LatestVersion > 0
	}
	return 0, false // archived: retired, not offered to agents
}

func discoveryEntry(ctx context.Context, q database.Q, sk store.Skill, n int) (DiscoverySkill, error) {
	v, err := store.VersionByNumber(ctx, q, sk.ID, n)
	if err != nil {
		return DiscoverySkill{}, err
	}
	files, err := store.VersionFiles(ctx, q, v.ID)
	if err != nil {
		return DiscoverySkill{}, err
	}
	sortDiscoveryFiles(files)
	return DiscoverySkill{Name: sk.Name, Description: versionDescription(v, sk.Description), Version: v.Number,
		Digest: v.Digest, Files: files, CreatedAt: v.CreatedAt}, nil
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

// sortDiscoveryFiles puts SKILL.md first (the RFC asks for it) and the rest
// by path, bytewise.
func sortDiscoveryFiles(files []store.FileEntry) {
	slices.SortFunc(files, func(x, y store.FileEntry) int {
		switch {
		case x.Path == y.Path:
			return 0
		case x.Path == bundle.SkillFile:
			return -1
		case y.Path == bundle.SkillFile:
			return 1
		}
		return strings.Compare(x.Path, y.Path)
	})
}
