package service

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/store"
)

// DefaultTenantSlug names the tenant served where the host names none.
const DefaultTenantSlug = "default"

// DefaultTenant returns the tenant served on a host that names no tenant
// (the bare base domain, localhost, an IP address): the active tenant with
// the slug "default". It reports false when there is none.
func (s *Service) DefaultTenant(ctx context.Context) (uuid.UUID, bool, error) {
	t, err := s.TenantByHost(ctx, DefaultTenantSlug)
	if errors.Is(err, database.ErrNotFound) {
		return uuid.Nil, false, nil
	}
	if err != nil {
		return uuid.Nil, false, err
	}
	return t.ID, t.Active, nil
}

// Artifact types of the discovery index (Agent Skills Discovery RFC
// v0.2.0): a skill that is only a SKILL.md is served as that file, any
// other as an archive of its folder.
const (
	TypeSkillMD = "skill-md"
	TypeArchive = "archive"
)

// DiscoveryEntry is a skill as the well-known discovery index lists it:
// its published version, and the one artifact an agent downloads for it.
type DiscoveryEntry struct {
	Name        string
	Description string // from the published version's SKILL.md
	Version     int
	Type        string // TypeSkillMD or TypeArchive
	Format      string // for TypeArchive: bundle.TarGz or bundle.Zip
	Digest      string // SHA-256 of the artifact's bytes, "sha256:<hex>"
}

// DiscoveryStamp returns a value that changes whenever what DiscoveryIndex
// returns for the actor's tenant may change (a publication, a visibility
// or status change, a deletion, a settings change), read with one cheap
// statement; "" when there is none to trust, so nothing may be cached.
func (s *Service) DiscoveryStamp(ctx context.Context, a Actor) (string, error) {
	if err := a.needRead(); err != nil {
		return "", err
	}
	var stamp string
	err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
		var err error
		stamp, err = store.DiscoveryStamp(ctx, q)
		if errors.Is(err, store.ErrNotFound) {
			stamp, err = "", nil
		}
		return err
	})
	return stamp, err
}

// DiscoveryIndex lists the skills the actor may discover in its tenant,
// by name, with the stamp (DiscoveryStamp) read before them, so a cache of
// the result under the stamp is never newer than the stamp says. Only
// published skills appear, at their published version: drafts, skills
// waiting for or refused by review, and archived skills never do.
// Anonymous actors (Actor{TenantID: t}) see public skills, and only when
// the tenant has public_discovery on; a key sees what it may read.
func (s *Service) DiscoveryIndex(ctx context.Context, a Actor) ([]DiscoveryEntry, string, error) {
	stamp, err := s.DiscoveryStamp(ctx, a)
	if err != nil {
		return nil, "", err
	}
	var rows []store.DiscoveryEntry
	err = s.db.Read(ctx, a.scope(), func(q database.Q) error {
		if ok, err := discoveryOpen(ctx, q, a); err != nil || !ok {
			return err
		}
		var err error
		rows, err = store.DiscoveryEntries(ctx, q)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	out := make([]DiscoveryEntry, 0, len(rows))
	for _, r := range rows {
		if a.Role == "" && r.Visibility != "public" {
			continue // skill_visible says so too; never rely on one check for the world
		}
		e := DiscoveryEntry{Name: r.Name, Description: r.Description, Version: r.Version, Type: TypeArchive,
			Format: r.ArchiveFormat, Digest: r.ArchiveDigest}
		switch {
		case r.FileCount == 1 && r.SkillMDSHA256 != "":
			e.Type, e.Format, e.Digest = TypeSkillMD, "", "sha256:"+r.SkillMDSHA256
		case r.ArchiveDigest == "":
			if e.Format, e.Digest, err = s.fillArchiveDigest(ctx, a, r.VersionID); err != nil {
				return nil, "", err
			}
		}
		out = append(out, e)
	}
	return out, stamp, nil
}

// fillArchiveDigest computes and stores the archive digest of a version
// stored before digests were computed at publish; it runs once per such
// version.
func (s *Service) fillArchiveDigest(ctx context.Context, a Actor, version uuid.UUID) (format, digest string, err error) {
	err = s.db.Write(ctx, a.scope(), func(q database.Q) error {
		data, err := store.VersionFileData(ctx, q, version)
		if err != nil {
			return err
		}
		files := make([]bundle.File, len(data))
		for i, f := range data {
			files[i] = bundle.File{Path: f.Path, Data: f.Data}
		}
		if format, digest, err = bundle.ArchiveDigest(files); err != nil {
			return err
		}
		return store.SetVersionArchive(ctx, q, version, format, digest)
	})
	return format, digest, err
}

// DiscoveryFile returns one file of the version of a skill the index lists.
// It is the read agents make most, so it is one statement (one round trip
// with the scope); the rules are the ones discoverableVersion applies.
func (s *Service) DiscoveryFile(ctx context.Context, a Actor, name, path string) (store.FileData, error) {
	if err := a.needRead(); err != nil {
		return store.FileData{}, err
	}
	var d store.DiscoveryRead
	err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
		var err error
		d, err = store.ReadDiscoveryFile(ctx, q, name, path)
		return err
	})
	if err != nil {
		return store.FileData{}, err
	}
	missing := notFoundf("no skill named %s", name)
	ok, err := discoveryAllowed(d.Settings, a)
	if err != nil {
		return store.FileData{}, err
	}
	if !ok || d.Skill == nil {
		return store.FileData{}, missing
	}
	if _, ok := discoveryVersion(a, *d.Skill); !ok || !d.Version {
		return store.FileData{}, missing
	}
	if d.File == nil {
		return store.FileData{}, notFoundf("%s has no file %s", name, path)
	}
	return *d.File, nil
}

// DiscoveryArchive is the listed version of a skill with its files, for
// its archive.
type DiscoveryArchive struct {
	Name    string
	Version int
	Digest  string // the version's manifest digest
	// Format and ArchiveDigest are what the index lists for the archive
	// ("" for an older version whose digest is not filled in yet).
	Format, ArchiveDigest string
	Files                 []bundle.File
}

// DiscoveryBundle returns the listed version of a skill with every file,
// for the archive. With withFiles false only the digests are read, enough
// to answer a conditional request.
func (s *Service) DiscoveryBundle(ctx context.Context, a Actor, name string, withFiles bool) (DiscoveryArchive, error) {
	if err := a.needRead(); err != nil {
		return DiscoveryArchive{}, err
	}
	var d DiscoveryArchive
	err := s.db.Read(ctx, a.scope(), func(q database.Q) error {
		v, err := discoverableVersion(ctx, q, a, name)
		if err != nil {
			return err
		}
		d.Name, d.Version, d.Digest = name, v.Number, v.Digest
		if d.Format, d.ArchiveDigest, err = store.VersionArchive(ctx, q, v.ID); err != nil || !withFiles {
			return err
		}
		data, err := store.VersionFileData(ctx, q, v.ID)
		if err != nil {
			return err
		}
		for _, f := range data {
			d.Files = append(d.Files, bundle.File{Path: f.Path, Data: f.Data})
		}
		return nil
	})
	return d, err
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
	return discoveryAllowed(st, a)
}

// discoveryAllowed is discoveryOpen's rule on settings already read.
func discoveryAllowed(st store.Settings, a Actor) (bool, error) {
	if a.Role == "" {
		return st.PublicDiscovery && st.AllowSkillDownload, nil
	}
	if !st.AllowSkillDownload && !a.isAdmin() {
		return false, forbiddenf("downloads are turned off for this tenant (allow_skill_download)")
	}
	return true, nil
}

// discoveryVersion picks the version discovery serves: the published
// version of a published skill, for every caller (drafts and versions
// waiting for review are for the web UI and the API, not for agents).
// skill_visible has already hidden what the actor may not read; the
// anonymous rule is checked again here so that a change there cannot
// publish a private skill to the world.
func discoveryVersion(a Actor, sk store.Skill) (int, bool) {
	if a.Role == "" && sk.Visibility != "public" {
		return 0, false
	}
	if sk.Status != "published" || sk.PublishedVersion == nil {
		return 0, false // drafts, in review, archived
	}
	return *sk.PublishedVersion, true
}
