// Package bundletest builds zip and tar.gz archives for tests, including
// the odd ones a careful client would never send (directories, symlinks,
// hostile names), so that archive handling can be tested from the bytes up.
package bundletest

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"testing"
)

// Entry is one archive member. A Mode with fs.ModeDir makes a directory;
// with fs.ModeSymlink, a symbolic link to the path in Data.
type Entry struct {
	Name string
	Data []byte
	Mode fs.FileMode
}

// Zip returns a zip archive of entries, in order.
func Zip(t testing.TB, entries ...Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.Name, Method: zip.Deflate}
		if e.Mode.IsDir() {
			h.Method = zip.Store
		}
		h.SetMode(e.Mode | 0o644)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TarGz returns a gzip-compressed tar archive of entries, in order.
func TarGz(t testing.TB, entries ...Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gw := gzip.NewWriter(&buf)
	WriteTar(t, gw, entries...)
	if err := gw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// WriteTar writes a tar archive of entries to w.
func WriteTar(t testing.TB, w io.Writer, entries ...Entry) {
	t.Helper()
	tw := tar.NewWriter(w)
	for _, e := range entries {
		h := &tar.Header{Name: e.Name, Typeflag: tar.TypeReg, Size: int64(len(e.Data)), Mode: 0o644}
		switch {
		case e.Mode.IsDir():
			h.Typeflag, h.Size = tar.TypeDir, 0
		case e.Mode&fs.ModeSymlink != 0:
			h.Typeflag, h.Size, h.Linkname = tar.TypeSymlink, 0, string(e.Data)
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			if _, err := tw.Write(e.Data); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}
