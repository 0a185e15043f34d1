package bundle

import (
	"fmt"
	"strings"
)

const (
	// MaxPathLen is the longest path allowed inside a bundle, in bytes.
	MaxPathLen = 512
	// MaxDepth is the most segments a path may have ("a/b/c" has 3).
	MaxDepth = 16
)

// CleanPath checks that p is a safe path inside a bundle and returns it.
// A path is relative, '/'-separated, printable ASCII (space allowed, control
// characters and backslashes not), has no empty, "." or ".." segment, no
// trailing slash, at most MaxDepth segments and MaxPathLen bytes.
//
// CleanPath never rewrites a path into another one: a path that is not
// already clean is rejected. Rewriting would let two different archive
// names land on the same file, and would make the stored path differ from
// what the author wrote.
func CleanPath(p string) (string, error) {
	if why := pathProblem(p, MaxPathLen, MaxDepth); why != "" {
		return "", pathError(p, why)
	}
	return p, nil
}

func pathError(p, why string) *Error {
	return problemf("", 0, "path %q %s", p, why)
}

// pathProblem says what is wrong with p, or "" if nothing is. The limits are
// parameters because archive readers check names before removing a
// top-level folder, which adds one segment.
func pathProblem(p string, maxLen, maxDepth int) string {
	if p == "" {
		return "is empty"
	}
	if len(p) > maxLen {
		return fmt.Sprintf("is %d bytes long; the limit is %d", len(p), maxLen)
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '\\' {
			return "contains a backslash; separate folders with /"
		}
		if c < 0x20 || c > 0x7e {
			return "contains a control or non-ASCII character; only printable ASCII is allowed"
		}
	}
	if p[0] == '/' {
		return "is absolute; paths must be relative to the skill folder"
	}
	if p[len(p)-1] == '/' {
		return "ends with a slash"
	}
	segs := strings.Split(p, "/")
	if len(segs) > maxDepth {
		return fmt.Sprintf("is nested %d levels deep; the limit is %d", len(segs), maxDepth)
	}
	// "C:" would be a drive on Windows, where some agents install skills.
	if s := segs[0]; len(s) == 2 && s[1] == ':' && isLetter(s[0]) {
		return "starts with a drive letter; paths must be relative to the skill folder"
	}
	for _, s := range segs {
		switch s {
		case "":
			return "contains an empty segment (//)"
		case ".":
			return `contains a "." segment`
		case "..":
			return `contains a ".." segment`
		}
	}
	return ""
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// isJunk reports files that operating systems and tools leave behind and
// that are never part of a skill: Git metadata, Finder's .DS_Store and the
// __MACOSX resource forks that macOS adds to zip files.
func isJunk(p string) bool {
	for _, s := range strings.Split(p, "/") {
		if s == ".git" || s == "__MACOSX" || s == ".DS_Store" {
			return true
		}
	}
	return false
}
