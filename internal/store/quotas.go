package store

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/skillvault/skillvault/internal/database"
)

var (
	qQuotaLock         = query("QuotaLock")
	qQuotaOverrides    = query("QuotaOverrides")
	qQuotaBytesUsed    = query("QuotaBytesUsed")
	qQuotaNewBytes     = query("QuotaNewBytes")
	qQuotaSkillCount   = query("QuotaSkillCount")
	qQuotaVersionCount = query("QuotaVersionCount")
	qQuotaKeyCount     = query("QuotaKeyCount")
	qSkillBlobs        = query("SkillBlobs")
	qBlobsCollectAmong = query("BlobsCollectAmong")
	qBlobsCollectAll   = query("BlobsCollectAll")
)

// QuotaOverrides are the operator's limits for the scope's tenant; nil
// means the server's default, 0 unlimited.
type QuotaOverrides struct {
	Bytes, Skills, Versions, KeysPerUser *int64
}

// LockQuota takes the tenant's quota lock until the transaction ends.
func LockQuota(ctx context.Context, q database.Q) error {
	_, err := q.Exec(ctx, qQuotaLock)
	return err
}

// TenantQuotaOverrides reads the scope's tenant's overrides.
func TenantQuotaOverrides(ctx context.Context, q database.Q) (QuotaOverrides, error) {
	var o QuotaOverrides
	err := q.QueryRow(ctx, qQuotaOverrides).Scan(&o.Bytes, &o.Skills, &o.Versions, &o.KeysPerUser)
	return o, notFound(err)
}

// BytesUsed is the sum of the sizes of the tenant's blobs.
func BytesUsed(ctx context.Context, q database.Q) (int64, error) {
	return scalar(ctx, q, qQuotaBytesUsed)
}

// NewBytes is what storing files would add to BytesUsed.
func NewBytes(ctx context.Context, q database.Q, files []FileData) (int64, error) {
	shas, sizes := make([]string, len(files)), make([]int64, len(files))
	for i, f := range files {
		shas[i], sizes[i] = f.SHA256, f.Size
	}
	return scalar(ctx, q, qQuotaNewBytes, shas, sizes)
}

// SkillCount counts the tenant's skills, whoever may see them.
func SkillCount(ctx context.Context, q database.Q) (int64, error) {
	return scalar(ctx, q, qQuotaSkillCount)
}

// VersionCount counts a skill's versions.
func VersionCount(ctx context.Context, q database.Q, skill uuid.UUID) (int64, error) {
	return scalar(ctx, q, qQuotaVersionCount, skill)
}

// ActiveKeyCount counts a user's keys that are neither revoked nor expired.
func ActiveKeyCount(ctx context.Context, q database.Q, user uuid.UUID) (int64, error) {
	return scalar(ctx, q, qQuotaKeyCount, user)
}

func scalar(ctx context.Context, q database.Q, sql string, args ...any) (int64, error) {
	var n int64
	err := q.QueryRow(ctx, sql, args...).Scan(&n)
	return n, err
}

// SkillBlobs lists the digests of every file of a skill's versions.
func SkillBlobs(ctx context.Context, q database.Q, skill uuid.UUID) ([]string, error) {
	rows, err := q.Query(ctx, qSkillBlobs, skill)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// CollectBlobs deletes the tenant's unreferenced blobs among shas (every
// unreferenced blob when shas is nil) and reports how many and how many
// bytes it freed.
func CollectBlobs(ctx context.Context, q database.Q, shas []string) (count, bytes int64, err error) {
	var rows pgx.Rows
	if shas == nil {
		rows, err = q.Query(ctx, qBlobsCollectAll)
	} else {
		rows, err = q.Query(ctx, qBlobsCollectAmong, shas)
	}
	if err != nil {
		return 0, 0, err
	}
	sizes, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	for _, s := range sizes {
		bytes += s
	}
	return int64(len(sizes)), bytes, err
}
