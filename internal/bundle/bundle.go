// Package bundle reads, validates and writes Agent Skills bundles: a folder
// with a SKILL.md (YAML frontmatter + Markdown) and optional files. It knows
// nothing of the database or of tenants.
//
// Every failure caused by the input itself (a bad name, path, archive or
// size) is returned as an *Error listing located problems; other errors are
// I/O failures.
package bundle

import (
	"slices"
	"strings"
)

// File is one file of a bundle. Path is relative, '/'-separated.
type File struct {
	Path string
	Data []byte
}

// Frontmatter is the parsed YAML header of SKILL.md, per the Agent Skills
// specification. Keys the specification does not name are kept in Extra.
type Frontmatter struct {
	Name          string            `json:"name"`
	Description   string            `json:"description"`
	License       string            `json:"license,omitempty"`
	Compatibility string            `json:"compatibility,omitempty"`
	Metadata      map[string]string `json:"metadata,omitempty"`
	AllowedTools  []string          `json:"allowed-tools,omitempty"`
	Extra         map[string]any    `json:"extra,omitempty"`
}

// Bundle is a validated skill bundle.
type Bundle struct {
	Frontmatter Frontmatter
	Title       string // first Markdown heading of the body, or the name
	Body        string // SKILL.md without its frontmatter
	Files       []File // sorted by path (bytewise), SKILL.md included
	Digest      string // "sha256:<hex>", Agent Skills Discovery RFC v0.2.0
}

// Limits bound what a bundle may hold. A zero (or negative) field means the
// value of DefaultLimits, so that a forgotten field never means "unlimited".
type Limits struct {
	MaxFileSize  int64 // bytes in one file
	MaxTotalSize int64 // bytes in all files together
	MaxFiles     int   // number of files
	MaxRatio     int64 // largest compression ratio accepted in archives, as N:1
}

// DefaultLimits fit real skills (the largest public ones are well under a
// megabyte) with ample room, while keeping a bundle in memory cheap.
var DefaultLimits = Limits{
	MaxFileSize:  5 << 20,
	MaxTotalSize: 25 << 20,
	MaxFiles:     1000,
	MaxRatio:     100,
}

func (l Limits) withDefaults() Limits {
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = DefaultLimits.MaxFileSize
	}
	if l.MaxTotalSize <= 0 {
		l.MaxTotalSize = DefaultLimits.MaxTotalSize
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = DefaultLimits.MaxFiles
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = DefaultLimits.MaxRatio
	}
	return l
}

// New validates files as a bundle: safe and unique paths, the limits, a
// SKILL.md at the root with valid frontmatter and, when dir is not empty, a
// name equal to dir (the folder the skill came in). The files are not
// modified; the Bundle holds a sorted copy of the slice sharing their data.
func New(files []File, lim Limits, dir string) (*Bundle, error) {
	lim = lim.withDefaults()
	var e Error
	checkFiles(&e, files, lim)
	sorted := slices.Clone(files)
	sortFiles(sorted)

	var p parsed
	i, found := slices.BinarySearchFunc(sorted, SkillFile, func(f File, p string) int { return strings.Compare(f.Path, p) })
	if !found {
		e.addf("", 0, "%s", missingSkillMD(sorted))
	} else {
		p = parseSkillMD(sorted[i].Data, &e)
		if name := p.fm.Name; dir != "" && name != "" && name != dir {
			e.addf(SkillFile, p.nameLine, "name %q must match the folder name %q", name, dir)
		}
	}
	if err := e.err(); err != nil {
		return nil, err
	}
	return &Bundle{
		Frontmatter: p.fm,
		Title:       title(p.body, p.fm.Name),
		Body:        p.body,
		Files:       sorted,
		Digest:      Digest(sorted),
	}, nil
}

// missingSkillMD explains a missing SKILL.md, pointing at a likely cause.
func missingSkillMD(files []File) string {
	for _, f := range files {
		if strings.EqualFold(f.Path, SkillFile) {
			return "no SKILL.md at the root of the skill; found " + f.Path + ", which must be named exactly SKILL.md"
		}
	}
	for _, f := range files {
		if strings.HasSuffix(f.Path, "/"+SkillFile) {
			return "no SKILL.md at the root of the skill; found " + f.Path + " instead: upload the folder that holds SKILL.md"
		}
	}
	return "no SKILL.md at the root of the skill"
}

// checkFiles checks a file set without looking inside the files: paths,
// duplicates, clashes and limits. Readers and New share it so that every way
// in enforces the same rules.
func checkFiles(e *Error, files []File, lim Limits) {
	if len(files) > lim.MaxFiles {
		e.addf("", 0, "the skill has %d files; the limit is %d", len(files), lim.MaxFiles)
	}
	var total int64
	// Keys are lowercased: paths differing only in case are one file on
	// macOS and Windows, where agents install skills.
	seen := make(map[string]string, len(files))
	var valid []string
	for _, f := range files {
		if e.full() {
			return
		}
		if why := pathProblem(f.Path, MaxPathLen, MaxDepth); why != "" {
			e.addf("", 0, "path %q %s", f.Path, why)
			continue
		}
		if size := int64(len(f.Data)); size > lim.MaxFileSize {
			e.addf(f.Path, 0, "%s", tooBig(size, lim.MaxFileSize))
		}
		total += int64(len(f.Data))
		key := strings.ToLower(f.Path)
		switch prev, dup := seen[key]; {
		case dup && prev == f.Path:
			e.addf(f.Path, 0, "appears more than once")
		case dup:
			e.addf(f.Path, 0, "differs from %s only in letter case; the two would be one file on macOS and Windows", prev)
		default:
			seen[key] = f.Path
			valid = append(valid, f.Path)
		}
	}
	if total > lim.MaxTotalSize {
		e.addf("", 0, "the skill's files total %s", tooBig(total, lim.MaxTotalSize))
	}
	// A file "a" and a file "a/b" cannot both be written to disk.
	for _, p := range valid {
		key := strings.ToLower(p)
		for i := range len(key) {
			if key[i] != '/' {
				continue
			}
			if other, ok := seen[key[:i]]; ok {
				e.addf(other, 0, "is a file, but %s uses it as a folder", p)
			}
		}
	}
}

// title returns the text of the first level-1 ATX heading ("# Title") of a
// Markdown body, outside fenced code blocks (where "# " is a shell comment),
// or fallback when there is none.
func title(body, fallback string) string {
	var fence string
	for line := range strings.Lines(body) {
		line = strings.TrimRight(line, "\r\n")
		trimmed := strings.TrimLeft(line, " ")
		if len(line)-len(trimmed) > 3 {
			continue // indented code
		}
		if fence != "" {
			if strings.HasPrefix(trimmed, fence) {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
			fence = trimmed[:3]
			continue
		}
		if t, ok := strings.CutPrefix(trimmed, "# "); ok {
			// A closing sequence of #s is not part of the heading.
			t = strings.TrimSpace(t)
			if s := strings.TrimRight(t, "#"); s == "" || strings.HasSuffix(s, " ") {
				t = strings.TrimSpace(s)
			}
			if t != "" {
				return t
			}
		}
	}
	return fallback
}

// ManifestEntry describes one file of a version, as stored and as listed by
// the discovery index.
type ManifestEntry struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	Digest string `json:"digest"` // FileDigest of the file
}

// Manifest lists the bundle's files in path order.
func (b *Bundle) Manifest() []ManifestEntry {
	m := make([]ManifestEntry, len(b.Files))
	for i, f := range b.Files {
		m[i] = ManifestEntry{Path: f.Path, Size: int64(len(f.Data)), Digest: FileDigest(f.Data)}
	}
	return m
}
