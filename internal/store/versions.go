package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/database"
)

// Version is an immutable version of a skill.
type Version struct {
	ID          uuid.UUID       `json:"-"`
	Number      int             `json:"number"`
	Frontmatter json.RawMessage `json:"frontmatter"`
	Digest      string          `json:"digest"`
	FileCount   int             `json:"file_count"`
	TotalSize   int64           `json:"total_size"`
	AuthorID    uuid.UUID       `json:"author_id"`
	Changelog   string          `json:"changelog"`
	CreatedAt   time.Time       `json:"created_at"`
}

// FileEntry is one line of a version's manifest.
type FileEntry struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// FileData is a file with its bytes.
type FileData struct {
	FileEntry
	Data []byte
}

func scanVersion(r pgx.Row) (Version, error) {
	var v Version
	err := r.Scan(&v.ID, &v.Number, &v.Frontmatter, &v.Digest, &v.FileCount, &v.TotalSize, &v.AuthorID, &v.Changelog, &v.CreatedAt)
	return v, notFound(err)
}

var (
	qVersionInsert      = query("VersionInsert")
	qBlobsInsert        = query("BlobsInsert")
	qVersionFilesInsert = query("VersionFilesInsert")
	qVersionList        = query("VersionList")
	qVersionByNumber    = query("VersionByNumber")
	qVersionFiles       = query("VersionFiles")
	qVersionFile        = query("VersionFile")
	qVersionFileData    = query("VersionFileData")
)

// NewVersion is what InsertVersion stores.
type NewVersion struct {
	SkillID     uuid.UUID
	Number      int
	Frontmatter []byte
	Digest      string
	Files       []FileData // SHA256 is the hex digest without prefix
	AuthorID    uuid.UUID
	Changelog   string
}

// InsertVersion stores a version, its manifest and any blobs the tenant
// does not have yet, with three statements whatever the file count. It
// also stores the digest of the version's discovery archive, computed here
// so that no version is stored without it.
func InsertVersion(ctx context.Context, q database.Q, n NewVersion) (Version, error) {
	var total int64
	shas, sizes, datas, paths := make([]string, len(n.Files)), make([]int64, len(n.Files)), make([][]byte, len(n.Files)), make([]string, len(n.Files))
	files := make([]bundle.File, len(n.Files))
	for i, f := range n.Files {
		shas[i], sizes[i], datas[i], paths[i] = f.SHA256, f.Size, f.Data, f.Path
		files[i] = bundle.File{Path: f.Path, Data: f.Data}
		total += f.Size
	}
	format, digest, err := bundle.ArchiveDigest(files)
	if err != nil {
		return Version{}, fmt.Errorf("archive digest: %w", err)
	}
	v, err := scanVersion(q.QueryRow(ctx, qVersionInsert, n.SkillID, n.Number, n.Frontmatter, n.Digest, len(n.Files), total, n.AuthorID, n.Changelog,
		format, digest))
	if err != nil {
		return v, err
	}
	if _, err := q.Exec(ctx, qBlobsInsert, shas, sizes, datas); err != nil {
		return v, err
	}
	_, err = q.Exec(ctx, qVersionFilesInsert, v.ID, paths, shas, sizes)
	return v, err
}

// ListVersions lists versions newest first, before the version `before` (0: from the newest).
func ListVersions(ctx context.Context, q database.Q, skill uuid.UUID, before, limit int) ([]Version, error) {
	rows, err := q.Query(ctx, qVersionList, skill, before, limit)
	return collect(rows, err, scanVersion)
}

func VersionByNumber(ctx context.Context, q database.Q, skill uuid.UUID, n int) (Version, error) {
	return scanVersion(q.QueryRow(ctx, qVersionByNumber, skill, n))
}

func VersionFiles(ctx context.Context, q database.Q, version uuid.UUID) ([]FileEntry, error) {
	rows, err := q.Query(ctx, qVersionFiles, version)
	return collect(rows, err, func(r pgx.Row) (FileEntry, error) {
		var f FileEntry
		return f, r.Scan(&f.Path, &f.SHA256, &f.Size)
	})
}

func scanFileData(r pgx.Row) (FileData, error) {
	var f FileData
	err := r.Scan(&f.Path, &f.SHA256, &f.Size, &f.Data)
	return f, notFound(err)
}

func VersionFile(ctx context.Context, q database.Q, version uuid.UUID, path string) (FileData, error) {
	return scanFileData(q.QueryRow(ctx, qVersionFile, version, path))
}

func VersionFileData(ctx context.Context, q database.Q, version uuid.UUID) ([]FileData, error) {
	rows, err := q.Query(ctx, qVersionFileData, version)
	return collect(rows, err, scanFileData)
}

var (
	qPublishedVersions         = query("PublishedVersions")
	qPublishedVersionsFileData = query("PublishedVersionsFileData")
)

// PublishedVersion is one version of a published skill, with the skill's
// fields the git repository shows.
type PublishedVersion struct {
	Skill       string
	Category    string
	Published   int // the skill's published version
	PublishedAt time.Time
	Version
}

// PublishedVersions lists every version up to the published one of each
// published skill the scope may see, by skill name then number; onlyPublic
// keeps public skills only.
func PublishedVersions(ctx context.Context, q database.Q, onlyPublic bool) ([]PublishedVersion, error) {
	rows, err := q.Query(ctx, qPublishedVersions, onlyPublic)
	return collect(rows, err, func(r pgx.Row) (PublishedVersion, error) {
		var p PublishedVersion
		err := r.Scan(&p.Skill, &p.Category, &p.Published, &p.PublishedAt,
			&p.ID, &p.Number, &p.Frontmatter, &p.Digest, &p.CreatedAt)
		return p, err
	})
}

// PublishedVersionsFileData reads the files of the given versions, keyed
// by version id, reading only versions PublishedVersions would list.
func PublishedVersionsFileData(ctx context.Context, q database.Q, ids []uuid.UUID, onlyPublic bool) (map[uuid.UUID][]FileData, error) {
	rows, err := q.Query(ctx, qPublishedVersionsFileData, ids, onlyPublic)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[uuid.UUID][]FileData{}
	for rows.Next() {
		var id uuid.UUID
		var f FileData
		if err := rows.Scan(&id, &f.Path, &f.SHA256, &f.Size, &f.Data); err != nil {
			return nil, err
		}
		out[id] = append(out[id], f)
	}
	return out, rows.Err()
}
