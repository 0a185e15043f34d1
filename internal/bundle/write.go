package bundle

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
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
	// A zero gzip header (no name, no time) keeps the output reproducible.
	gw := gzip.NewWriter(w)
	tw := tar.NewWriter(gw)
	for _, f := range sorted {
		h := &tar.Header{
			Typeflag: tar.TypeReg,
			Name:     f.Path,
			Size:     int64(len(f.Data)),
			Mode:     int64(fileMode(f.Data)),
			ModTime:  archiveTime,
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
