package bundle

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
)

// Archive names are checked before a top-level folder is removed, so they
// may be one segment (a skill name) longer than bundle paths.
const (
	archivePathLen  = MaxPathLen + 1 + MaxNameLen
	archivePathSegs = MaxDepth + 1
)

// ratioFloor is the size below which a high compression ratio is accepted:
// small files of repeated text compress very well and cannot hurt.
const ratioFloor = 1 << 20

// maxArchiveSize bounds the archive itself: its files plus generous room for
// headers and folder entries.
func maxArchiveSize(lim Limits) int64 {
	return lim.MaxTotalSize + int64(lim.MaxFiles)*8<<10 + 64<<10
}

// ReadArchive reads a zip or a (gzipped) tar archive, telling them apart by
// their first bytes. Anything else is an *Error.
func ReadArchive(data []byte, lim Limits) (files []File, root string, err error) {
	switch {
	case len(data) == 0:
		// Most often a file name that did not exist (curl sends nothing).
		return nil, "", problemf("", 0, "the request body is empty: send the bundle's zip or tar.gz bytes (curl: --data-binary @file, and check that the file exists)")
	case bytes.HasPrefix(data, []byte("PK\x03\x04")) || bytes.HasPrefix(data, []byte("PK\x05\x06")):
		return ReadZip(data, lim)
	case bytes.HasPrefix(data, []byte{0x1f, 0x8b}) || isTar(data):
		return ReadTarGz(bytes.NewReader(data), lim)
	}
	return nil, "", problemf("", 0, "not a zip or tar.gz archive")
}

func isTar(data []byte) bool {
	return len(data) >= 263 && string(data[257:262]) == "ustar"
}

// ReadZip unpacks a zip archive. Entries must be regular files or folders
// with clean paths (see CleanPath); links, devices and encrypted entries are
// refused, and sizes are enforced on the bytes actually inflated, not on
// what the headers claim. If every file sits under one top-level folder that
// holds SKILL.md (what "zip -r name.zip name" makes), the folder is removed
// from the paths and returned as root. Junk such as __MACOSX/ and .DS_Store
// is skipped. Files come back sorted by path.
func ReadZip(data []byte, lim Limits) (files []File, root string, err error) {
	lim = lim.withDefaults()
	if n := int64(len(data)); n > maxArchiveSize(lim) {
		return nil, "", problemf("", 0, "the archive %s", tooBig(n, maxArchiveSize(lim)))
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, "", problemf("", 0, "not a valid zip archive: %v", err)
	}
	if n := len(zr.File); n > 2*lim.MaxFiles {
		return nil, "", problemf("", 0, "the archive has %d entries; the limit is %d files", n, lim.MaxFiles)
	}

	// First look at every header, so that a bad archive is refused before
	// anything is inflated.
	var e Error
	var todo []*zip.File
	var names []string
	var declared, packed uint64
	for _, f := range zr.File {
		name := strings.TrimPrefix(f.Name, "./")
		mode := f.Mode()
		if isDirName(name) || mode.IsDir() {
			checkDirName(&e, name)
			continue
		}
		if why := entryTypeProblem(mode); why != "" {
			e.addf("", 0, "%q %s", name, why)
			continue
		}
		if why := archivePathProblem(name); why != "" {
			e.addf("", 0, "path %q %s", name, why)
			continue
		}
		if isJunk(name) {
			continue
		}
		size := f.UncompressedSize64
		switch {
		case f.Flags&0x1 != 0:
			e.addf(name, 0, "is encrypted; upload an archive without a password")
		case size > uint64(lim.MaxFileSize):
			e.addf(name, 0, "%s", tooBig(int64(min(size, 1<<62)), lim.MaxFileSize))
		case size > ratioFloor && size/max(f.CompressedSize64, 1) > uint64(lim.MaxRatio):
			e.addf(name, 0, "is compressed more than %d:1; refusing a possible zip bomb", lim.MaxRatio)
		default:
			declared += size
			packed += f.CompressedSize64
			todo = append(todo, f)
			names = append(names, name)
		}
		if e.full() {
			break
		}
	}
	if len(todo) > lim.MaxFiles {
		e.addf("", 0, "the archive has %d files; the limit is %d", len(todo), lim.MaxFiles)
	}
	if declared > uint64(lim.MaxTotalSize) {
		e.addf("", 0, "the archive's files total %s", tooBig(int64(min(declared, 1<<62)), lim.MaxTotalSize))
	}
	// Entries whose compressed data add up to more than the archive share
	// bytes: the trick of non-recursive zip bombs.
	if packed > uint64(len(data)) {
		e.addf("", 0, "the archive's entries overlap; refusing a possible zip bomb")
	}
	if err := e.err(); err != nil {
		return nil, "", err
	}

	files = make([]File, 0, len(todo))
	for i, f := range todo {
		b, err := readZipEntry(f)
		if err != nil {
			e.addf(names[i], 0, "%v", err)
			continue
		}
		files = append(files, File{Path: names[i], Data: b})
	}
	if err := e.err(); err != nil {
		return nil, "", err
	}
	return finish(files, lim)
}

// readZipEntry inflates one entry, reading at most one byte more than its
// header declares: archive/zip then reports a size or checksum mismatch
// instead of letting a lying header make us inflate without bound.
func readZipEntry(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("cannot be read: %w", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, int64(f.UncompressedSize64)+1))
	switch {
	case errors.Is(err, zip.ErrFormat) || errors.Is(err, zip.ErrChecksum) || errors.Is(err, io.ErrUnexpectedEOF):
		return nil, errLying
	case err != nil:
		return nil, fmt.Errorf("cannot be read: %w", err)
	case uint64(len(b)) != f.UncompressedSize64:
		return nil, errLying
	}
	return b, nil
}

var errLying = errors.New("does not match its header (size or checksum); the archive is damaged or forged")

// ReadTarGz unpacks a gzip-compressed tar archive (a plain tar is accepted
// too), with the same rules as ReadZip. The stream is read once; limits and
// the compression ratio are enforced while inflating, and the gzip checksum
// is verified.
func ReadTarGz(r io.Reader, lim Limits) (files []File, root string, err error) {
	lim = lim.withDefaults()
	in := &countingReader{r: r, max: maxArchiveSize(lim)}
	br := bufio.NewReader(in)
	var src io.Reader = br
	var gz *gzip.Reader
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		gz, err = gzip.NewReader(br)
		if err != nil {
			return nil, "", archiveError(err)
		}
		// Stop at the end of the first member: some tools pad the file
		// after it, which is not ours to judge.
		gz.Multistream(false)
		src = gz
	}
	out := &inflateGuard{r: src, in: in, lim: lim}
	tr := tar.NewReader(out)

	var e Error
	var total int64
	for entries := 0; ; entries++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil && !(errors.Is(err, tar.ErrInsecurePath) && hdr != nil) {
			return nil, "", archiveError(err)
		}
		if e.full() {
			return nil, "", &e
		}
		if entries >= 2*lim.MaxFiles {
			return nil, "", problemf("", 0, "the archive has more than %d entries; the limit is %d files", entries, lim.MaxFiles)
		}
		name := strings.TrimPrefix(hdr.Name, "./")
		switch hdr.Typeflag {
		case tar.TypeReg:
		case tar.TypeDir:
			checkDirName(&e, name)
			continue
		case tar.TypeXGlobalHeader:
			continue
		case tar.TypeSymlink:
			e.addf("", 0, "%q is a symbolic link; a skill may only contain regular files", name)
			continue
		case tar.TypeLink:
			e.addf("", 0, "%q is a hard link; a skill may only contain regular files", name)
			continue
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			e.addf("", 0, "%q is a device or pipe; a skill may only contain regular files", name)
			continue
		default:
			e.addf("", 0, "%q has unsupported tar entry type %q; a skill may only contain regular files", name, hdr.Typeflag)
			continue
		}
		if why := archivePathProblem(name); why != "" {
			e.addf("", 0, "path %q %s", name, why)
			continue
		}
		if isJunk(name) {
			continue
		}
		// The header's size is only believed for refusing: the data read
		// below is bounded by it, and a short stream is an error.
		// Sizes and counts only get worse, so the first excess ends reading.
		switch {
		case hdr.Size < 0:
			return nil, "", archiveError(fmt.Errorf("entry %q has a negative size", name))
		case hdr.Size > lim.MaxFileSize:
			e.addf(name, 0, "%s", tooBig(hdr.Size, lim.MaxFileSize))
			return nil, "", &e
		case total+hdr.Size > lim.MaxTotalSize:
			e.addf("", 0, "the archive's files total more than %s", humanSize(lim.MaxTotalSize))
			return nil, "", &e
		case len(files) >= lim.MaxFiles:
			e.addf("", 0, "the archive has more than %d files; the limit is %d", lim.MaxFiles, lim.MaxFiles)
			return nil, "", &e
		}
		// Grow the buffer with the bytes that actually arrive rather than
		// allocating what the header announces up front.
		data, err := io.ReadAll(io.LimitReader(tr, hdr.Size))
		if err != nil {
			return nil, "", archiveError(err)
		}
		if int64(len(data)) != hdr.Size {
			return nil, "", archiveError(io.ErrUnexpectedEOF)
		}
		total += hdr.Size
		files = append(files, File{Path: name, Data: data})
	}
	if err := e.err(); err != nil {
		return nil, "", err
	}
	if gz != nil {
		// Read to the end of the gzip member so its checksum is verified.
		if _, err := io.Copy(io.Discard, out); err != nil {
			return nil, "", archiveError(err)
		}
	}
	return finish(files, lim)
}

// archiveError turns a read failure into an *Error, keeping one raised by
// our own guards as is.
func archiveError(err error) error {
	var be *Error
	if errors.As(err, &be) {
		return be
	}
	return problemf("", 0, "the archive is damaged or not a tar.gz archive: %v", err)
}

// countingReader counts the bytes read from an upload and refuses to read
// more than max: a gzip stream can be made of empty blocks that inflate to
// nothing, forever.
type countingReader struct {
	r   io.Reader
	n   int64
	max int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.n > c.max {
		return 0, problemf("", 0, "the archive is larger than %s", humanSize(c.max))
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// inflateGuard counts inflated bytes and fails once they exceed what a valid
// archive could need, or the compression ratio gets suspicious.
type inflateGuard struct {
	r   io.Reader
	in  *countingReader
	n   int64
	lim Limits
}

func (g *inflateGuard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	g.n += int64(n)
	if g.n > maxArchiveSize(g.lim) {
		return n, problemf("", 0, "the archive unpacks to more than %s", humanSize(maxArchiveSize(g.lim)))
	}
	if g.n > ratioFloor && g.n/max(g.in.n, 1) > g.lim.MaxRatio {
		return n, problemf("", 0, "the archive is compressed more than %d:1; refusing a possible zip bomb", g.lim.MaxRatio)
	}
	return n, err
}

func isDirName(name string) bool { return name == "" || strings.HasSuffix(name, "/") }

// checkDirName checks a folder entry: nothing is created for it, but a bad
// name still means a bad archive.
func checkDirName(e *Error, name string) {
	name = strings.TrimSuffix(name, "/")
	if name == "" || name == "." {
		return
	}
	if why := archivePathProblem(name); why != "" {
		e.addf("", 0, "folder %q %s", name, why)
	}
}

// archivePathProblem checks an archive name with room for a top-level
// folder, but words any problem with the limits users know.
func archivePathProblem(name string) string {
	if pathProblem(name, archivePathLen, archivePathSegs) == "" {
		return ""
	}
	return pathProblem(name, MaxPathLen, MaxDepth)
}

func entryTypeProblem(mode fs.FileMode) string {
	switch {
	case mode&fs.ModeSymlink != 0:
		return "is a symbolic link; a skill may only contain regular files"
	case mode&(fs.ModeDevice|fs.ModeCharDevice|fs.ModeNamedPipe|fs.ModeSocket) != 0:
		return "is a device, pipe or socket; a skill may only contain regular files"
	case !mode.IsRegular():
		return "is not a regular file"
	}
	return ""
}

// finish removes a single top-level folder holding SKILL.md, then checks the
// file set as New would (paths, duplicates, limits) and sorts it.
func finish(files []File, lim Limits) ([]File, string, error) {
	root := topFolder(files)
	if root != "" {
		for i := range files {
			files[i].Path = files[i].Path[len(root)+1:]
		}
	}
	var e Error
	checkFiles(&e, files, lim)
	if err := e.err(); err != nil {
		return nil, "", err
	}
	sortFiles(files)
	return files, root, nil
}

// topFolder returns the folder all files share as their first segment, if
// that folder contains SKILL.md; otherwise "".
func topFolder(files []File) string {
	if len(files) == 0 {
		return ""
	}
	root, _, ok := strings.Cut(files[0].Path, "/")
	if !ok {
		return ""
	}
	hasSkill := false
	for _, f := range files {
		rest, ok := strings.CutPrefix(f.Path, root+"/")
		if !ok {
			return ""
		}
		hasSkill = hasSkill || rest == SkillFile
	}
	if !hasSkill {
		return ""
	}
	return root
}
