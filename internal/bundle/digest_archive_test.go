package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"
)

// TestArchiveDigestIsPinned pins the archive bytes of a known bundle. The
// digests are stored at publish and listed by the discovery index, and the
// archive is written again on every download, so the writer must give the
// same bytes forever: a change here (a new Go compressor, a new header
// field) breaks every client's verification of every stored version.
func TestArchiveDigestIsPinned(t *testing.T) {
	files := []File{
		{Path: "scripts/run.sh", Data: []byte("#!/bin/sh\necho hi\n")},
		{Path: "SKILL.md", Data: []byte("---\nname: pinned\ndescription: Pinned.\n---\n# Pinned\n")},
		{Path: "assets/blob.bin", Data: bytes.Repeat([]byte{0, 1, 2, 3, 250}, 300)},
	}
	for _, c := range []struct{ format, want string }{
		{TarGz, "sha256:aa8e1526d3dfe31a0f02df30b30e897f01c29f6423f1a9156e344e72d1afc142"},
		{Zip, "sha256:edb991d011faa9abe10dd9df46f5e414757010babbfcbce70dc2cd443c20ecdf"},
	} {
		var a, b bytes.Buffer
		if err := WriteArchive(&a, c.format, files); err != nil {
			t.Fatal(err)
		}
		reversed := []File{files[2], files[1], files[0]}
		if err := WriteArchive(&b, c.format, reversed); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("%s: the order of the files changed the archive", c.format)
		}
		if got := FileDigest(a.Bytes()); got != c.want {
			t.Errorf("%s digest %s, pinned %s", c.format, got, c.want)
		}
	}
	format, digest, err := ArchiveDigest(files)
	if err != nil || format != TarGz || digest != "sha256:aa8e1526d3dfe31a0f02df30b30e897f01c29f6423f1a9156e344e72d1afc142" {
		t.Errorf("ArchiveDigest = %s %s %v", format, digest, err)
	}
}

// TestArchiveFormatFallsBackToZip: a path too long for a USTAR header would
// need PAX records, which simple tar readers misread; such skills get zip.
func TestArchiveFormatFallsBackToZip(t *testing.T) {
	short := []File{{Path: "SKILL.md", Data: []byte("x")}, {Path: strings.Repeat("dir"+strings.Repeat("x", 35)+"/", 4) + strings.Repeat("n", 99), Data: []byte("y")}}
	if f := ArchiveFormat(short); f != TarGz {
		t.Fatalf("a path with a USTAR split: %s", f)
	}
	var buf bytes.Buffer
	if err := WriteTarGz(&buf, short); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag != tar.TypeReg || h.Format != tar.FormatUSTAR {
			t.Errorf("%s: type %c format %v, want plain USTAR", h.Name, h.Typeflag, h.Format)
		}
	}
	long := append(short, File{Path: "x/" + strings.Repeat("n", 101), Data: []byte("z")})
	if f := ArchiveFormat(long); f != Zip {
		t.Errorf("a name of 101 bytes: %s, want zip", f)
	}
	if _, d, err := ArchiveDigest(long); err != nil || !strings.HasPrefix(d, "sha256:") {
		t.Errorf("ArchiveDigest: %s %v", d, err)
	}
}
