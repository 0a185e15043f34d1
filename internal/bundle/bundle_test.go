package bundle

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/testcorpus"
)

const rfcDigest = "sha256:34f7a8c484e9991f3e71a309f31332d6335efc01f544105c4185a7c4ab12eb1e"

func skillMD(name string) []byte {
	return []byte("---\nname: " + name + "\ndescription: Says hello.\n---\n# Hello\n")
}

func TestDigestRFCExample(t *testing.T) {
	files := []File{
		{Path: "scripts/run.sh", Data: []byte("#!/bin/sh\n")},
		{Path: "SKILL.md", Data: []byte("# Hello\n")},
	}
	if got := Digest(files); got != rfcDigest {
		t.Errorf("Digest = %s, want %s", got, rfcDigest)
	}
	if files[0].Path != "scripts/run.sh" {
		t.Error("Digest reordered its argument")
	}
	if got, want := FileDigest([]byte("")), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"; got != want {
		t.Errorf("FileDigest(empty) = %s, want %s", got, want)
	}
}

func TestNew(t *testing.T) {
	files := []File{
		{Path: "scripts/run.sh", Data: []byte("#!/bin/sh\n")},
		{Path: "SKILL.md", Data: skillMD("hello")},
		{Path: "Z.md", Data: []byte("z")},
	}
	b, err := New(files, Limits{}, "hello")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range b.Files {
		paths = append(paths, f.Path)
	}
	if want := []string{"SKILL.md", "Z.md", "scripts/run.sh"}; !reflect.DeepEqual(paths, want) {
		t.Errorf("paths = %q, want bytewise order %q", paths, want)
	}
	if files[0].Path != "scripts/run.sh" {
		t.Error("New reordered its argument")
	}
	if b.Title != "Hello" || b.Frontmatter.Name != "hello" || b.Body != "# Hello\n" {
		t.Errorf("got title %q, name %q, body %q", b.Title, b.Frontmatter.Name, b.Body)
	}
	if b.Digest != Digest(files) {
		t.Errorf("Digest = %s, want %s", b.Digest, Digest(files))
	}
	m := b.Manifest()
	if len(m) != 3 || m[2] != (ManifestEntry{Path: "scripts/run.sh", Size: 10, Digest: FileDigest([]byte("#!/bin/sh\n"))}) {
		t.Errorf("Manifest = %+v", m)
	}
	// Without a folder name there is nothing to match.
	if _, err := New(files, Limits{}, ""); err != nil {
		t.Error(err)
	}
}

func TestNewTitleFallsBackToName(t *testing.T) {
	b, err := New([]File{{Path: "SKILL.md", Data: []byte("---\nname: plain\ndescription: d\n---\nNo heading.\n")}}, Limits{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if b.Title != "plain" {
		t.Errorf("Title = %q, want the name", b.Title)
	}
}

func TestNewErrors(t *testing.T) {
	skill := File{Path: "SKILL.md", Data: skillMD("hello")}
	many := []File{skill}
	for i := range 5 {
		many = append(many, File{Path: "f" + string(rune('a'+i)), Data: nil})
	}
	small := Limits{MaxFileSize: 100, MaxTotalSize: 150, MaxFiles: 4}
	tests := []struct {
		name  string
		files []File
		lim   Limits
		dir   string
		want  string
	}{
		{"name differs from folder", []File{skill}, Limits{}, "other", `SKILL.md:2: name "hello" must match the folder name "other"`},
		{"no SKILL.md", []File{{Path: "README.md", Data: []byte("x")}}, Limits{}, "", "no SKILL.md at the root of the skill"},
		{"lowercase skill.md", []File{{Path: "skill.md", Data: skillMD("hello")}}, Limits{}, "", "found skill.md, which must be named exactly SKILL.md"},
		{"nested SKILL.md", []File{{Path: "hello/SKILL.md", Data: skillMD("hello")}}, Limits{}, "", "found hello/SKILL.md instead"},
		{"empty", nil, Limits{}, "", "no SKILL.md"},
		{"traversal", []File{skill, {Path: "../x", Data: nil}}, Limits{}, "", `path "../x" contains a ".." segment`},
		{"absolute", []File{skill, {Path: "/abs", Data: nil}}, Limits{}, "", `path "/abs" is absolute`},
		{"backslash", []File{skill, {Path: `a\b`, Data: nil}}, Limits{}, "", `path "a\\b" contains a backslash`},
		{"dot segment", []File{skill, {Path: "a/./b", Data: nil}}, Limits{}, "", `path "a/./b" contains a "." segment`},
		{"duplicate", []File{skill, {Path: "a", Data: nil}, {Path: "a", Data: nil}}, Limits{}, "", "a: appears more than once"},
		{"case clash", []File{skill, {Path: "Notes.md"}, {Path: "notes.md"}}, Limits{}, "", "notes.md: differs from Notes.md only in letter case"},
		{"file used as folder", []File{skill, {Path: "a"}, {Path: "a/b"}}, Limits{}, "", "a: is a file, but a/b uses it as a folder"},
		{"oversize file", []File{skill, {Path: "big", Data: make([]byte, 101)}}, small, "", "big: is 101 bytes; the limit is 100 bytes"},
		{"total size", []File{skill, {Path: "a", Data: make([]byte, 90)}, {Path: "b", Data: make([]byte, 90)}}, small, "", "the skill's files total"},
		{"too many files", many, small, "", "the skill has 6 files; the limit is 4"},
		{"bad frontmatter", []File{{Path: "SKILL.md", Data: []byte("hi")}}, Limits{}, "", "SKILL.md:1: must start with YAML frontmatter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := New(tt.files, tt.lim, tt.dir)
			be := wantError(t, err)
			if b != nil {
				t.Error("got a bundle along with the error")
			}
			if !hasMessage(be, tt.want) {
				t.Errorf("problems %q\ndo not include %q", be.Error(), tt.want)
			}
		})
	}
}

func TestReadDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hello")
	write(t, dir, "SKILL.md", string(skillMD("hello")))
	write(t, dir, "scripts/run.sh", "#!/bin/sh\n")
	write(t, dir, ".git/config", "[core]\n")
	write(t, dir, ".DS_Store", "junk")
	write(t, dir, "assets/.DS_Store", "junk")
	files, err := ReadDir(dir, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := paths(files); !reflect.DeepEqual(got, []string{"SKILL.md", "scripts/run.sh"}) {
		t.Errorf("paths = %q", got)
	}
	if p := Lint(dir); p != nil {
		t.Errorf("Lint = %v, want no problems", p)
	}
}

func TestReadDirRejects(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "hello")
	write(t, dir, "SKILL.md", string(skillMD("hello")))
	write(t, dir, "big.bin", strings.Repeat("x", 200))
	write(t, dir, "café.md", "x")
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "passwd")); err != nil {
		t.Skip("symlinks not supported:", err)
	}
	_, err := ReadDir(dir, Limits{MaxFileSize: 100})
	be := wantError(t, err)
	for _, want := range []string{
		"passwd: is a symbolic link",
		"big.bin: is 200 bytes; the limit is 100 bytes",
		`path "café.md" contains a control or non-ASCII character`,
	} {
		if !hasMessage(be, want) {
			t.Errorf("problems %q\ndo not include %q", be.Error(), want)
		}
	}
}

func TestReadDirTooMany(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a", "b", "c", "d"} {
		write(t, dir, n, "x")
	}
	_, err := ReadDir(dir, Limits{MaxFiles: 3})
	if be := wantError(t, err); !hasMessage(be, "more than 3 files") {
		t.Error(be)
	}
	_, err = ReadDir(dir, Limits{MaxTotalSize: 3})
	if be := wantError(t, err); !hasMessage(be, "the skill's files total more than 3 bytes") {
		t.Error(be)
	}
}

func TestLint(t *testing.T) {
	for _, dir := range testcorpus.Fixtures(t) {
		if p := Lint(dir); p != nil {
			t.Errorf("Lint(%s) = %v", dir, p)
		}
	}
	dir := filepath.Join(t.TempDir(), "wrong-folder")
	write(t, dir, "SKILL.md", "---\nname: Hello\ndescription: d\n---\n")
	if err := os.Symlink("SKILL.md", filepath.Join(dir, "link")); err != nil {
		t.Skip("symlinks not supported:", err)
	}
	got := Lint(dir)
	want := []Problem{
		{File: "link", Msg: "is a symbolic link; a skill may only contain regular files"},
		{File: "SKILL.md", Line: 2, Msg: `name "Hello" must be lowercase letters, digits and hyphens`},
		{File: "SKILL.md", Line: 2, Msg: `name "Hello" must match the folder name "wrong-folder"`},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Lint =\n%v\nwant\n%v", got, want)
	}
	if p := Lint(filepath.Join(t.TempDir(), "missing")); len(p) != 1 || !strings.Contains(p[0].Msg, "open skill folder") {
		t.Errorf("Lint(missing folder) = %v", p)
	}
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func paths(files []File) []string {
	var ps []string
	for _, f := range files {
		ps = append(ps, f.Path)
	}
	return ps
}
