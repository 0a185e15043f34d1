package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/skillvault/skillvault/internal/bundle"
)

// ErrIntegrity marks a download whose bytes do not match the digests the
// server published for them: a corrupted transfer or a tampered proxy.
var ErrIntegrity = errors.New("download does not match its digest")

// downloadLimits bound a downloaded bundle. They are looser than the
// server's defaults, which an operator may raise, but still finite.
var downloadLimits = bundle.Limits{MaxFileSize: maxFileBytes, MaxTotalSize: 1 << 30, MaxFiles: 20000}

// Download fetches a version's manifest and every file, and returns the
// files only when each one matches its size and sha256 in the manifest,
// the files together match the skill digest, and they form a valid bundle
// named name (safe relative paths, a SKILL.md naming it). Nothing is
// returned otherwise, so callers never write unverified bytes.
func (c *Client) Download(ctx context.Context, name, ref string) (Version, []bundle.File, error) {
	v, err := c.Version(ctx, name, ref)
	if err != nil {
		return Version{}, nil, err
	}
	files := make([]bundle.File, 0, len(v.Files))
	for _, f := range v.Files {
		data, err := c.File(ctx, name, fmt.Sprint(v.Number), f.Path)
		if err != nil {
			return Version{}, nil, fmt.Errorf("download %s: %w", f.Path, err)
		}
		if err := checkFile(f, data); err != nil {
			return Version{}, nil, fmt.Errorf("%w: %s version %d: %v", ErrIntegrity, name, v.Number, err)
		}
		files = append(files, bundle.File{Path: f.Path, Data: data})
	}
	if d := bundle.Digest(files); d != v.Digest {
		return Version{}, nil, fmt.Errorf("%w: %s version %d: the files give digest %s, not the published %s",
			ErrIntegrity, name, v.Number, d, v.Digest)
	}
	if _, err := bundle.New(files, downloadLimits, name); err != nil {
		return Version{}, nil, fmt.Errorf("%s version %d is not a valid skill bundle: %w", name, v.Number, err)
	}
	return v, files, nil
}

func checkFile(f FileEntry, data []byte) error {
	if int64(len(data)) != f.Size {
		return fmt.Errorf("file %s has %d bytes, the manifest says %d", f.Path, len(data), f.Size)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != f.SHA256 {
		return fmt.Errorf("file %s has sha256 %s, the manifest says %s", f.Path, got, f.SHA256)
	}
	return nil
}
