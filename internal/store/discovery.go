package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/skillvault/skillvault/internal/database"
)

var (
	qDiscoveryStamp   = query("DiscoveryStamp")
	qDiscoveryEntries = query("DiscoveryEntries")
	qVersionArchive   = query("VersionArchive")
	qVersionSetArch   = query("VersionSetArchive")
	qDiscoveryFile    = query("DiscoveryFile")
)

// DiscoveryRead is what a discovery file read decides on, read in one
// statement: the settings, the skill if the principal may see it, and the
// file of its published version if both exist.
type DiscoveryRead struct {
	Settings Settings // only PublicDiscovery and AllowSkillDownload
	Skill    *Skill   // only ID, Status, Visibility and PublishedVersion
	Version  bool     // whether the skill's published version exists
	File     *FileData
}

// ReadDiscoveryFile reads a skill's file for discovery in one round trip.
func ReadDiscoveryFile(ctx context.Context, q database.Q, name, path string) (DiscoveryRead, error) {
	var (
		d                  DiscoveryRead
		skillID, versionID *uuid.UUID
		status, visibility *string
		published          *int
		filePath, sha      *string
		size               *int64
		data               []byte
	)
	err := q.QueryRow(ctx, qDiscoveryFile, name, path).Scan(&d.Settings.PublicDiscovery, &d.Settings.AllowSkillDownload,
		&skillID, &status, &visibility, &published, &versionID, &filePath, &sha, &size, &data)
	if err != nil {
		return d, err
	}
	if skillID != nil {
		d.Skill = &Skill{ID: *skillID, Status: *status, Visibility: *visibility, PublishedVersion: published}
	}
	d.Version = versionID != nil
	if filePath != nil {
		d.File = &FileData{FileEntry: FileEntry{Path: *filePath, SHA256: *sha, Size: *size}, Data: data}
	}
	return d, nil
}

// DiscoveryStamp returns a value that changes whenever the tenant's
// discovery index may change, or ErrNotFound when the tenant has no
// settings row (and so no stamp to trust).
func DiscoveryStamp(ctx context.Context, q database.Q) (string, error) {
	var (
		n             int64
		public, allow bool
		changed       time.Time
	)
	if err := q.QueryRow(ctx, qDiscoveryStamp).Scan(&n, &public, &allow, &changed); err != nil {
		return "", notFound(err)
	}
	return fmt.Sprintf("%d/%t/%t/%d", n, public, allow, changed.UnixMicro()), nil
}

// DiscoveryEntry is a published skill's published version, as the
// discovery index lists it.
type DiscoveryEntry struct {
	Name, Visibility, Description string
	VersionID                     uuid.UUID
	Version, FileCount            int
	SkillMDSHA256                 string // hex, "" when the version has no SKILL.md
	ArchiveFormat, ArchiveDigest  string // "" for versions stored before migration 00008, until filled in
}

// DiscoveryEntries lists, by name (bytewise), the published skills the
// scope's principal may see, with their published versions.
func DiscoveryEntries(ctx context.Context, q database.Q) ([]DiscoveryEntry, error) {
	rows, err := q.Query(ctx, qDiscoveryEntries)
	return collect(rows, err, func(r pgx.Row) (DiscoveryEntry, error) {
		var e DiscoveryEntry
		var md, format, digest *string
		err := r.Scan(&e.Name, &e.Visibility, &e.Description, &e.VersionID, &e.Version, &e.FileCount, &md, &format, &digest)
		e.SkillMDSHA256, e.ArchiveFormat, e.ArchiveDigest = deref(md), deref(format), deref(digest)
		return e, err
	})
}

// VersionArchive returns a version's archive format and digest ("" before
// they are filled in).
func VersionArchive(ctx context.Context, q database.Q, version uuid.UUID) (format, digest string, err error) {
	var f, d *string
	err = q.QueryRow(ctx, qVersionArchive, version).Scan(&f, &d)
	return deref(f), deref(d), notFound(err)
}

// SetVersionArchive fills in the archive digest of an older version.
func SetVersionArchive(ctx context.Context, q database.Q, version uuid.UUID, format, digest string) error {
	_, err := q.Exec(ctx, qVersionSetArch, version, format, digest)
	return err
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
