package bundle

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/skillvault/skillvault/internal/bundle/bundletest"
	"github.com/skillvault/skillvault/internal/testcorpus"
)

// TestRoundTrip reads every fixture and real bundle from disk, validates it,
// and checks that both archive formats give back the same bytes and digest.
func TestRoundTrip(t *testing.T) {
	t.Run("fixtures", func(t *testing.T) { roundTrip(t, testcorpus.Fixtures(t)) })
	t.Run("corpus", func(t *testing.T) { roundTrip(t, testcorpus.Skills(t)) })
}

func roundTrip(t *testing.T, dirs []string) {
	for _, dir := range dirs {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			files, err := ReadDir(dir, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			b, err := New(files, Limits{}, name)
			if err != nil {
				t.Fatal(err)
			}
			if b.Frontmatter.Description == "" || b.Title == "" {
				t.Errorf("empty description or title: %+v", b.Frontmatter)
			}

			var zbuf, zbuf2, tbuf, tbuf2 bytes.Buffer
			if err := WriteZip(&zbuf, b.Files); err != nil {
				t.Fatal(err)
			}
			if err := WriteTarGz(&tbuf, b.Files); err != nil {
				t.Fatal(err)
			}
			zfiles, root, err := ReadZip(zbuf.Bytes(), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			sameBundle(t, "zip", b, zfiles, root, "")
			tfiles, root, err := ReadTarGz(bytes.NewReader(tbuf.Bytes()), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			sameBundle(t, "tar.gz", b, tfiles, root, "")

			// Writing is deterministic, whatever the input order.
			rev := reversed(b.Files)
			if err := WriteZip(&zbuf2, rev); err != nil {
				t.Fatal(err)
			}
			if err := WriteTarGz(&tbuf2, rev); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(zbuf.Bytes(), zbuf2.Bytes()) || !bytes.Equal(tbuf.Bytes(), tbuf2.Bytes()) {
				t.Error("archives differ between two writes of the same files")
			}

			// An archive of the folder itself ("zip -r name.zip name")
			// unpacks to the same files and reports the folder.
			prefixed := prefix(name+"/", b.Files)
			zfiles, root, err = ReadArchive(bundletest.Zip(t, prefixed...), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			sameBundle(t, "zip with folder", b, zfiles, root, name)
			tfiles, root, err = ReadArchive(bundletest.TarGz(t, prefixed...), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			sameBundle(t, "tar.gz with folder", b, tfiles, root, name)
		})
	}
}

func sameBundle(t *testing.T, what string, b *Bundle, files []File, root, wantRoot string) {
	t.Helper()
	if root != wantRoot {
		t.Errorf("%s: root = %q, want %q", what, root, wantRoot)
	}
	if !reflect.DeepEqual(files, b.Files) {
		t.Errorf("%s: files differ after the round trip: %q vs %q", what, paths(files), paths(b.Files))
	}
	if d := Digest(files); d != b.Digest {
		t.Errorf("%s: digest %s, want %s", what, d, b.Digest)
	}
}

func TestWriteModes(t *testing.T) {
	files := []File{{Path: "SKILL.md", Data: []byte("x")}, {Path: "run.sh", Data: []byte("#!/bin/sh\n")}}
	var buf bytes.Buffer
	if err := WriteZip(&buf, files); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if m0, m1 := zr.File[0].Mode(), zr.File[1].Mode(); m0 != 0o644 || m1 != 0o755 {
		t.Errorf("zip modes %v %v, want 0644 and 0755", m0, m1)
	}
	if !zr.File[0].Modified.Equal(archiveTime) {
		t.Errorf("zip time %v, want %v", zr.File[0].Modified, archiveTime)
	}
}

func TestWriteRefusesBadPaths(t *testing.T) {
	for _, files := range [][]File{
		{{Path: "../evil"}},
		{{Path: "a"}, {Path: "a"}},
	} {
		wantError(t, WriteZip(io.Discard, files))
		wantError(t, WriteTarGz(io.Discard, files))
	}
}

func TestReadZipJunkAndFolders(t *testing.T) {
	data := bundletest.Zip(t,
		entry{Name: "demo/", Mode: fs.ModeDir | 0o755},
		entry{Name: "demo/SKILL.md", Data: skillMD("demo")},
		entry{Name: "demo/scripts/", Mode: fs.ModeDir | 0o755},
		entry{Name: "demo/scripts/a.py", Data: []byte("print(1)\n")},
		entry{Name: "demo/.DS_Store", Data: []byte("junk")},
		entry{Name: "__MACOSX/demo/._SKILL.md", Data: []byte("junk")},
	)
	files, root, err := ReadZip(data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if root != "demo" || !reflect.DeepEqual(paths(files), []string{"SKILL.md", "scripts/a.py"}) {
		t.Errorf("root %q, paths %q", root, paths(files))
	}
}

func TestReadTarDotSlash(t *testing.T) {
	// "tar czf x.tgz ." writes "./" and "./SKILL.md".
	data := bundletest.TarGz(t,
		entry{Name: "./", Mode: fs.ModeDir | 0o755},
		entry{Name: "./SKILL.md", Data: skillMD("demo")},
		entry{Name: "./refs/", Mode: fs.ModeDir | 0o755},
		entry{Name: "./refs/a.md", Data: []byte("a")},
	)
	files, root, err := ReadTarGz(bytes.NewReader(data), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if root != "" || !reflect.DeepEqual(paths(files), []string{"SKILL.md", "refs/a.md"}) {
		t.Errorf("root %q, paths %q", root, paths(files))
	}
}

func TestReadPlainTar(t *testing.T) {
	var buf bytes.Buffer
	bundletest.WriteTar(t, &buf, entry{Name: "SKILL.md", Data: skillMD("demo")})
	files, _, err := ReadArchive(buf.Bytes(), Limits{})
	if err != nil || len(files) != 1 {
		t.Fatalf("got %v, %v", files, err)
	}
}

func TestReadArchiveRejects(t *testing.T) {
	skill := entry{Name: "SKILL.md", Data: skillMD("demo")}
	small := Limits{MaxFileSize: 100, MaxTotalSize: 150, MaxFiles: 3}
	tests := []struct {
		name    string
		entries []entry
		lim     Limits
		want    string
	}{
		{"symlink", []entry{skill, {Name: "passwd", Data: []byte("/etc/passwd"), Mode: fs.ModeSymlink | 0o777}}, Limits{}, `"passwd" is a symbolic link`},
		{"traversal", []entry{skill, {Name: "../x", Data: []byte("x")}}, Limits{}, `path "../x" contains a ".." segment`},
		{"traversal after dot-slash", []entry{skill, {Name: "./../x", Data: []byte("x")}}, Limits{}, `path "../x" contains a ".." segment`},
		{"absolute", []entry{skill, {Name: "/abs", Data: []byte("x")}}, Limits{}, `path "/abs" is absolute`},
		{"backslash", []entry{skill, {Name: `a\b`, Data: []byte("x")}}, Limits{}, `path "a\\b" contains a backslash`},
		{"dot segment", []entry{skill, {Name: "a/./b", Data: []byte("x")}}, Limits{}, `path "a/./b" contains a "." segment`},
		{"bad folder", []entry{skill, {Name: "../d/", Mode: fs.ModeDir | 0o755}}, Limits{}, `folder "../d" contains a ".." segment`},
		{"deep", []entry{skill, {Name: "a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r", Data: []byte("x")}}, Limits{}, "nested 18 levels deep"},
		{"deep after folder", []entry{{Name: "demo/SKILL.md", Data: skillMD("demo")}, {Name: "demo/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q", Data: []byte("x")}}, Limits{}, "nested 18 levels deep; the limit is 16"},
		{"deep without folder", []entry{skill, {Name: "a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q", Data: []byte("x")}}, Limits{}, "nested 17 levels deep; the limit is 16"},
		{"duplicate", []entry{skill, {Name: "a", Data: []byte("1")}, {Name: "a", Data: []byte("2")}}, Limits{}, "a: appears more than once"},
		{"duplicate after folder", []entry{{Name: "d/SKILL.md", Data: skillMD("d")}, {Name: "d/a", Data: []byte("1")}, {Name: "d/./a", Data: []byte("2")}}, Limits{}, `path "d/./a" contains a "." segment`},
		{"oversize", []entry{skill, {Name: "big", Data: make([]byte, 101)}}, small, "big: is 101 bytes; the limit is 100 bytes"},
		{"total", []entry{skill, {Name: "a", Data: make([]byte, 90)}, {Name: "b", Data: make([]byte, 90)}}, small, "files total"},
		{"too many", []entry{skill, {Name: "a"}, {Name: "b"}, {Name: "c"}}, small, "the limit is 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for format, data := range map[string][]byte{"zip": bundletest.Zip(t, tt.entries...), "tar.gz": bundletest.TarGz(t, tt.entries...)} {
				files, _, err := ReadArchive(data, tt.lim)
				be := wantError(t, err)
				if files != nil {
					t.Errorf("%s: got files along with the error", format)
				}
				if !hasMessage(be, tt.want) {
					t.Errorf("%s: problems %q\ndo not include %q", format, be.Error(), tt.want)
				}
			}
		})
	}
}

func TestReadTarRejectsSpecialEntries(t *testing.T) {
	tests := []struct {
		typ  byte
		want string
	}{
		{tar.TypeSymlink, `"x" is a symbolic link`},
		{tar.TypeLink, `"x" is a hard link`},
		{tar.TypeChar, `"x" is a device or pipe`},
		{tar.TypeBlock, `"x" is a device or pipe`},
		{tar.TypeFifo, `"x" is a device or pipe`},
		{tar.TypeGNUSparse, `"x" has unsupported tar entry type`},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		hdr := &tar.Header{Name: "x", Typeflag: tt.typ, Linkname: "/etc/passwd", Mode: 0o644, Format: tar.FormatGNU}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		tw.Close()
		_, _, err := ReadTarGz(&buf, Limits{})
		if be := wantError(t, err); !hasMessage(be, tt.want) {
			t.Errorf("type %q: %v", tt.typ, be)
		}
	}
}

func TestReadArchiveGarbage(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty":        nil,
		"text":         []byte("hello, this is not an archive"),
		"zip header":   []byte("PK\x03\x04 truncated"),
		"gzip header":  {0x1f, 0x8b, 8, 0, 0},
		"gzip of text": gzipOf(t, []byte("not a tar")),
	} {
		_, _, err := ReadArchive(data, Limits{})
		wantError(t, err)
		if name != "text" && name != "empty" {
			_, _, err = ReadTarGz(bytes.NewReader(data), Limits{})
			wantError(t, err)
			_, _, err = ReadZip(data, Limits{})
			wantError(t, err)
		}
	}
}

func TestReadTarGzDamaged(t *testing.T) {
	data := bundletest.TarGz(t, entry{Name: "SKILL.md", Data: skillMD("demo")}, entry{Name: "a", Data: bytes.Repeat([]byte("abc"), 1000)})
	// Cut inside the second entry, then inside the gzip trailer.
	for _, n := range []int{len(data) / 2, len(data) - 4} {
		_, _, err := ReadTarGz(bytes.NewReader(data[:n]), Limits{})
		if be := wantError(t, err); !hasMessage(be, "damaged") {
			t.Errorf("cut at %d: %v", n, be)
		}
	}
	// A flipped byte in the compressed data fails the checksum (or the
	// stream); it must never give different file contents silently.
	bad := bytes.Clone(data)
	bad[len(bad)-12] ^= 0xff
	if _, _, err := ReadTarGz(bytes.NewReader(bad), Limits{}); err == nil {
		t.Error("corrupted archive accepted")
	}
}

func TestReadZipEncrypted(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "SKILL.md", Method: zip.Store, Flags: 0x1}
	w, err := zw.CreateHeader(h)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("x"))
	zw.Close()
	_, _, err = ReadZip(buf.Bytes(), Limits{})
	if be := wantError(t, err); !hasMessage(be, "is encrypted") {
		t.Error(be)
	}
}

// zeros is an endless stream of zero bytes, so bombs can be built without
// holding them in memory.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

const bombSize = 100 << 20

func TestZipBomb(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("SKILL.md")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(w, zeros{}, bombSize); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	bomb := buf.Bytes()
	t.Logf("%d MiB compress to %d KiB", bombSize>>20, len(bomb)>>10)

	huge := Limits{MaxFileSize: 1 << 30, MaxTotalSize: 1 << 30}
	for _, tt := range []struct {
		lim  Limits
		want string
	}{
		{Limits{}, "SKILL.md: is 100 MiB; the limit is 5 MiB"},
		{huge, "SKILL.md: is compressed more than 100:1"},
	} {
		allocated := allocs(func() {
			_, _, err := ReadZip(bomb, tt.lim)
			if be := wantError(t, err); !hasMessage(be, tt.want) {
				t.Error(be)
			}
		})
		if allocated > 10<<20 {
			t.Errorf("refusing the bomb allocated %d MiB", allocated>>20)
		}
	}
}

// TestZipLyingHeader stores a stream of 100 MB of zeros under a header that
// claims 1000 bytes.
func TestZipLyingHeader(t *testing.T) {
	var comp bytes.Buffer
	zw := zip.NewWriter(&comp)
	w, _ := zw.Create("x")
	io.CopyN(w, zeros{}, bombSize)
	zw.Close()
	zr, err := zip.NewReader(bytes.NewReader(comp.Bytes()), int64(comp.Len()))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := zr.File[0].OpenRaw()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw = zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "SKILL.md", Method: zip.Deflate, CRC32: 0, CompressedSize64: zr.File[0].CompressedSize64, UncompressedSize64: 1000}
	rw, err := zw.CreateRaw(h)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(rw, raw)
	zw.Close()

	allocated := allocs(func() {
		_, _, err := ReadZip(buf.Bytes(), Limits{})
		if be := wantError(t, err); !hasMessage(be, "SKILL.md: does not match its header") {
			t.Error(be)
		}
	})
	if allocated > 10<<20 {
		t.Errorf("refusing the bomb allocated %d MiB", allocated>>20)
	}
}

func TestTarGzBomb(t *testing.T) {
	var buf bytes.Buffer
	gw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gw)
	tw.WriteHeader(&tar.Header{Name: "SKILL.md", Typeflag: tar.TypeReg, Size: bombSize, Mode: 0o644})
	io.CopyN(tw, zeros{}, bombSize)
	tw.Close()
	gw.Close()
	bomb := buf.Bytes()

	huge := Limits{MaxFileSize: 1 << 30, MaxTotalSize: 1 << 30}
	for _, tt := range []struct {
		lim  Limits
		want string
	}{
		{Limits{}, "SKILL.md: is 100 MiB; the limit is 5 MiB"},
		{huge, "the archive is compressed more than 100:1"},
	} {
		allocated := allocs(func() {
			_, _, err := ReadTarGz(bytes.NewReader(bomb), tt.lim)
			if be := wantError(t, err); !hasMessage(be, tt.want) {
				t.Error(be)
			}
		})
		if allocated > 10<<20 {
			t.Errorf("refusing the bomb allocated %d MiB", allocated>>20)
		}
	}
}

// TestTarGzEmptyBlocks feeds a gzip stream that inflates to nothing,
// forever; the reader must stop on the size of its input.
func TestTarGzEmptyBlocks(t *testing.T) {
	// An empty stored deflate block: BFINAL=0, BTYPE=00, LEN=0, NLEN=0xffff.
	empty := []byte{0x00, 0x00, 0x00, 0xff, 0xff}
	header := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}
	r := io.MultiReader(bytes.NewReader(header), &repeat{b: empty})
	done := make(chan error, 1)
	go func() { _, _, err := ReadTarGz(r, Limits{}); done <- err }()
	select {
	case err := <-done:
		if be := wantError(t, err); !hasMessage(be, "the archive is larger than") {
			t.Error(be)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ReadTarGz did not stop on an endless stream")
	}
}

type repeat struct {
	b []byte
	i int
}

func (r *repeat) Read(p []byte) (int, error) {
	for n := range p {
		p[n] = r.b[r.i%len(r.b)]
		r.i++
	}
	return len(p), nil
}

// allocs returns the bytes allocated while f runs.
func allocs(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// entry is an archive member for tests; its mode says folder or link.
type entry = bundletest.Entry

func prefix(p string, files []File) []entry {
	var es []entry
	for _, f := range files {
		es = append(es, entry{Name: p + f.Path, Data: f.Data})
	}
	return es
}

func reversed(files []File) []File {
	r := make([]File, len(files))
	for i, f := range files {
		r[len(files)-1-i] = f
	}
	return r
}

func gzipOf(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	gw := gzip.NewWriter(&buf)
	gw.Write(data)
	gw.Close()
	return buf.Bytes()
}

func TestReadArchiveDeepestPath(t *testing.T) {
	deep := "a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p" // MaxDepth segments
	for _, data := range [][]byte{
		bundletest.Zip(t, entry{Name: "demo/SKILL.md", Data: skillMD("demo")}, entry{Name: "demo/" + deep, Data: []byte("x")}),
		bundletest.TarGz(t, entry{Name: "demo/SKILL.md", Data: skillMD("demo")}, entry{Name: "demo/" + deep, Data: []byte("x")}),
	} {
		files, root, err := ReadArchive(data, Limits{})
		if err != nil || root != "demo" || len(files) != 2 || files[1].Path != deep {
			t.Errorf("got %q, %q, %v", paths(files), root, err)
		}
	}
}
