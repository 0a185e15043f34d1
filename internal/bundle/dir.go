package bundle

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ReadDir reads a skill folder from disk with the same rules as the archive
// readers: symbolic links and special files are refused, .git/ and
// .DS_Store are skipped, and limits hold while reading. Problems with the
// contents are an *Error; failing to read is an ordinary error.
func ReadDir(dir string, lim Limits) ([]File, error) {
	files, e, err := readDir(dir, lim.withDefaults())
	if err != nil {
		return nil, err
	}
	if err := e.err(); err != nil {
		return nil, err
	}
	sortFiles(files)
	return files, nil
}

// readDir returns what it could read along with the problems, so that Lint
// can still check SKILL.md when, say, a symlink sits next to it.
func readDir(dir string, lim Limits) ([]File, *Error, error) {
	// os.Root keeps every open inside dir, even if the tree changes while
	// we walk it.
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("open skill folder: %w", err)
	}
	defer root.Close()

	e := &Error{}
	var files []File
	var total int64
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("read skill folder %s: %w", dir, err)
		}
		if p == "." {
			return nil
		}
		if e.full() {
			return fs.SkipAll
		}
		switch {
		case d.IsDir() && d.Name() == ".git", d.Name() == ".DS_Store":
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		case d.Type()&fs.ModeSymlink != 0:
			e.addf(p, 0, "is a symbolic link; a skill may only contain regular files")
			return nil
		}
		if why := pathProblem(p, MaxPathLen, MaxDepth); why != "" {
			e.addf("", 0, "path %q %s", p, why)
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			e.addf(p, 0, "is not a regular file")
			return nil
		}
		if len(files) >= lim.MaxFiles {
			e.addf("", 0, "the skill has more than %d files; the limit is %d", lim.MaxFiles, lim.MaxFiles)
			return fs.SkipAll
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("read skill folder %s: %w", dir, err)
		}
		if info.Size() > lim.MaxFileSize {
			e.addf(p, 0, "%s", tooBig(info.Size(), lim.MaxFileSize))
			return nil
		}
		data, err := readFile(root, p, lim.MaxFileSize)
		if err != nil {
			return err
		}
		if int64(len(data)) > lim.MaxFileSize {
			e.addf(p, 0, "%s", tooBig(int64(len(data)), lim.MaxFileSize))
			return nil
		}
		total += int64(len(data))
		if total > lim.MaxTotalSize {
			e.addf("", 0, "the skill's files total more than %s", humanSize(lim.MaxTotalSize))
			return fs.SkipAll
		}
		files = append(files, File{Path: p, Data: data})
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return files, e, nil
}

// readFile reads at most max+1 bytes, so a file that grows after it was
// measured is still caught.
func readFile(root *os.Root, p string, max int64) ([]byte, error) {
	f, err := root.Open(p)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	return data, nil
}

// Lint checks a skill folder on disk as a publish would, without a server:
// everything ReadDir and New check, with the folder's name as the expected
// skill name, and the relative links of its Markdown files. It returns nil
// when the skill is valid.
func Lint(dir string) []Problem {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return Problems(err)
	}
	files, e, err := readDir(abs, DefaultLimits)
	if err != nil {
		return Problems(err)
	}
	_, err = New(files, DefaultLimits, filepath.Base(abs))
	var be *Error
	if errors.As(err, &be) {
		for _, p := range be.Problems {
			if !hasProblem(e, p) {
				e.Problems = append(e.Problems, p)
			}
		}
	} else if err != nil {
		e.Problems = append(e.Problems, Problems(err)...)
	}
	// Links are checked offline only: a dead link is worth fixing, not a
	// reason for the server to refuse a publication.
	e.Problems = append(e.Problems, LinkProblems(files)...)
	return e.Problems
}

func hasProblem(e *Error, p Problem) bool {
	for _, q := range e.Problems {
		if q == p {
			return true
		}
	}
	return false
}
