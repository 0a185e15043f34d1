package bundle

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"time"
)

// archiveTime is the modification time of every written entry, so that the
// same files always give the same archive bytes. It is the earliest time a
// zip header can hold.
var archiveTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// fileMode marks scripts executable: the bundle does not record modes, and
// an installed "scripts/run.sh" that cannot run is useless. Deciding by
// content keeps archives deterministic.
func fileMode(data []byte) fs.FileMode {
	if bytes.HasPrefix(data, []byte("#!")) {
		return 0o755
	}
	return 0o644
}

// prepareWrite returns the files sorted, after checking their paths, so
// that no archive we produce could be refused by our own readers or write
// outside the folder it is unpacked in.
func prepareWrite(files []File) ([]File, error) {
	var e Error
	checkFiles(&e, files, Limits{MaxFileSize: 1 << 62, MaxTotalSize: 1 << 62, MaxFiles: 1 << 30})
	if err := e.err(); err != nil {
		return nil, err
	}
	sorted := slices.Clone(files)
	sortFiles(sorted)
	return sorted, nil
}

// WriteZip writes files as a zip archive with paths at its root. The
// output depends only on the files: entries are sorted and carry a fixed
// time.
func WriteZip(w io.Writer, files []File) error {
	sorted, err := prepareWrite(files)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	for _, f := range sorted {
		h := &zip.FileHeader{Name: f.Path, Method: zip.Deflate, Modified: archiveTime}
		h.SetMode(fileMode(f.Data))
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return fmt.Errorf("write zip entry %s: %w", f.Path, err)
		}
		if _, err := fw.Write(f.Data); err != nil {
			return fmt.Errorf("write zip entry %s: %w", f.Path, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("write zip: %w", err)
	}
	return nil
}

// WriteTarGz writes files as a gzip-compressed tar archive with paths at
// its root, deterministically like WriteZip.
func WriteTarGz(w io.Writer, files []File) error {
	sorted, err := prepareWrite(files)
	if err != nil {
		return err
	}
	// A zero gzip header (no name, no time) and a fixed level keep the
	// output reproducible.
	gw, err := gzip.NewWriterLevel(w, gzip.DefaultCompression)
	if err != nil {
		return fmt.Errorf("write gzip: %w", err)
	}
	tw := tar.NewWriter(gw)
	for _, f := range sorted {
		h := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     f.Path,
			Size:     int64(len(f.Data)),
			Mode:     int64(fileMode(f.Data)),
			ModTime:  archiveTime,
			Format:   tarFormat(sorted),
		}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("write tar entry %s: %w", f.Path, err)
		}
		if _, err := tw.Write(f.Data); err != nil {
			return fmt.Errorf("write tar entry %s: %w", f.Path, err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("write tar: %w", err)
	}
	if err := gw.Close(); err != nil {
		return fmt.Errorf("write gzip: %w", err)
	}
	return nil
}

// Archive formats a skill is distributed in (Agent Skills Discovery RFC
// §Archive Distribution), by file-name extension.
const (
	TarGz = "tar.gz"
	Zip   = "zip"
)

// ArchiveFormat is the format the discovery index offers for files:
// tar.gz, unless a path is too long for a plain USTAR header. Longer paths
// need PAX records, which simple tar readers (the `skills` CLI's among
// them) take for the file's name; zip has no such limit.
func ArchiveFormat(files []File) string {
	if tarFormat(files) == tar.FormatUSTAR {
		return TarGz
	}
	return Zip
}

// WriteArchive writes files in format (TarGz or Zip).
func WriteArchive(w io.Writer, format string, files []File) error {
	switch format {
	case TarGz:
		return WriteTarGz(w, files)
	case Zip:
		return WriteZip(w, files)
	}
	return fmt.Errorf("unknown archive format %q", format)
}

// ArchiveDigest returns the format ArchiveFormat chooses and the digest of
// the archive's bytes, "sha256:<hex>", as the discovery index lists it.
func ArchiveDigest(files []File) (format, digest string, err error) {
	format = ArchiveFormat(files)
	h := sha256.New()
	if err := WriteArchive(h, format, files); err != nil {
		return "", "", err
	}
	return format, "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// tarFormat is USTAR when every path fits its header (a name of up to 100
// bytes, after an optional prefix of up to 155 split at a slash), else PAX.
// Naming it keeps Go's tar writer from choosing per entry.
func tarFormat(files []File) tar.Format {
	for _, f := range files {
		if !fitsUSTAR(f.Path) {
			return tar.FormatPAX
		}
	}
	return tar.FormatUSTAR
}

func fitsUSTAR(p string) bool {
	if len(p) <= 100 {
		return true
	}
	for i := len(p) - 1; i > 0; i-- {
		if p[i] == '/' && i <= 155 && len(p)-i-1 <= 100 {
			return true
		}
	}
	return false
}
