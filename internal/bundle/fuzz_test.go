package bundle

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/skillvault/skillvault/internal/bundle/bundletest"
	"github.com/skillvault/skillvault/internal/testcorpus"
)

// seedBundles returns the fixtures and, when present, the real corpus as
// file sets. Fuzz targets must not skip when the corpus is absent, so this
// uses testcorpus.Dir rather than testcorpus.Skills.
func seedBundles(f *testing.F) [][]File {
	f.Helper()
	dirs := testcorpus.Fixtures(f)
	if corpus, ok := testcorpus.Dir(); ok {
		entries, err := os.ReadDir(corpus)
		if err != nil {
			f.Fatal(err)
		}
		for _, e := range entries {
			if e.IsDir() {
				dirs = append(dirs, filepath.Join(corpus, e.Name()))
			}
		}
	}
	var sets [][]File
	for _, dir := range dirs {
		files, err := ReadDir(dir, Limits{})
		if err != nil {
			f.Fatal(err)
		}
		sets = append(sets, files)
	}
	return sets
}

func FuzzParseSkillMD(f *testing.F) {
	for _, files := range seedBundles(f) {
		for _, file := range files {
			if file.Path == SkillFile {
				f.Add(file.Data)
			}
		}
	}
	for _, s := range []string{
		"", "---", "---\n---", "---\nname: a\ndescription: b\n---\n# T\n",
		"---\nname: a\ndescription: b\nmetadata: {a: 1}\nallowed-tools: [x, {y: z}]\nx: &a [*a]\n---\n",
		"---\r\nname: a\r\ndescription: \"b\"\r\n---",
		"---\nname: a\ndescription: Use when: x\n---\n",
		"---\nx: .nan\ny: .inf\nz: 0x_1\nname: a\ndescription: b\n---\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fm, body, err := ParseSkillMD(data)
		if err != nil {
			wantError(t, err)
			return
		}
		if err := ValidateName(fm.Name); err != nil {
			t.Errorf("accepted invalid name: %v", err)
		}
		if n := utf8.RuneCountInString(fm.Description); n == 0 || n > MaxDescriptionLen {
			t.Errorf("accepted description of %d characters", n)
		}
		if utf8.RuneCountInString(fm.Compatibility) > MaxCompatibilityLen {
			t.Error("accepted long compatibility")
		}
		if !strings.HasSuffix(string(data), body) {
			t.Error("body is not the end of the file")
		}
		// Frontmatter is stored as JSON; whatever was accepted must encode.
		if _, err := json.Marshal(fm); err != nil {
			t.Errorf("accepted frontmatter does not encode as JSON: %v", err)
		}
	})
}

func FuzzCleanPath(f *testing.F) {
	for _, files := range seedBundles(f) {
		for _, file := range files {
			f.Add(file.Path)
		}
	}
	for _, p := range []string{"", ".", "..", "../x", "/a", "a/", "a//b", `a\b`, "a/./b", "C:/x", "a\x00", "é", "./a", "a/.."} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got, err := CleanPath(p)
		if err != nil {
			wantError(t, err)
			if got != "" {
				t.Errorf("CleanPath(%q) returned %q with an error", p, got)
			}
			return
		}
		if got != p {
			t.Fatalf("CleanPath(%q) = %q; it must not rewrite", p, got)
		}
		if why := independentPathCheck(p); why != "" {
			t.Errorf("CleanPath accepted %q, which %s", p, why)
		}
	})
}

// independentPathCheck restates the path rules without sharing code with
// CleanPath, so the fuzzer compares two implementations.
func independentPathCheck(p string) string {
	switch {
	case p == "" || len(p) > MaxPathLen:
		return "has a bad length"
	case strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/"):
		return "starts or ends with a slash"
	case strings.ContainsRune(p, '\\'):
		return "has a backslash"
	case strings.Count(p, "/") >= MaxDepth:
		return "is too deep"
	}
	for _, r := range p {
		if r < ' ' || r > '~' {
			return "is not printable ASCII"
		}
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "has an empty, . or .. segment"
		}
	}
	return ""
}

func FuzzReadZip(f *testing.F) {
	for _, files := range seedBundles(f) {
		var buf bytes.Buffer
		if err := WriteZip(&buf, files); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Add(bundletest.Zip(f, entry{Name: "d/SKILL.md", Data: skillMD("d")}, entry{Name: "d/../x", Data: []byte("x")}))
	f.Add(bundletest.Zip(f, entry{Name: "SKILL.md", Data: skillMD("d")}, entry{Name: "l", Data: []byte("x"), Mode: 1 << 27}))
	f.Fuzz(func(t *testing.T, data []byte) {
		files, root, err := ReadZip(data, fuzzLimits)
		checkRead(t, files, root, err)
	})
}

func FuzzReadTarGz(f *testing.F) {
	for _, files := range seedBundles(f) {
		var buf bytes.Buffer
		if err := WriteTarGz(&buf, files); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Add(bundletest.TarGz(f, entry{Name: "./d/SKILL.md", Data: skillMD("d")}, entry{Name: "d/x/", Mode: 1 << 31}))
	var plain bytes.Buffer
	bundletest.WriteTar(f, &plain, entry{Name: "SKILL.md", Data: skillMD("d")}, entry{Name: "l", Data: []byte("/etc"), Mode: 1 << 27})
	f.Add(plain.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		files, root, err := ReadTarGz(bytes.NewReader(data), fuzzLimits)
		checkRead(t, files, root, err)
	})
}

// fuzzLimits are small so that the fuzzer reaches the limits quickly, yet
// large enough for every seed bundle.
var fuzzLimits = Limits{MaxFileSize: 1 << 20, MaxTotalSize: 2 << 20, MaxFiles: 64, MaxRatio: 100}

// checkRead holds what every reader promises: input errors are *Error, and
// accepted files are clean, unique, sorted, within limits, and survive a
// write and a read unchanged.
func checkRead(t *testing.T, files []File, root string, err error) {
	t.Helper()
	if err != nil {
		var be *Error
		if !errors.As(err, &be) || len(be.Problems) == 0 {
			t.Fatalf("error is not an *Error with problems: %v (%T)", err, err)
		}
		if files != nil || root != "" {
			t.Fatal("files or root returned with an error")
		}
		return
	}
	if root != "" {
		if _, err := CleanPath(root); err != nil || strings.Contains(root, "/") {
			t.Errorf("root %q is not a single clean segment", root)
		}
	}
	if len(files) > fuzzLimits.MaxFiles {
		t.Errorf("accepted %d files", len(files))
	}
	var total int64
	for i, f := range files {
		if got, err := CleanPath(f.Path); err != nil || got != f.Path {
			t.Errorf("accepted path %q that CleanPath refuses: %v", f.Path, err)
		}
		if i > 0 && files[i-1].Path >= f.Path {
			t.Errorf("paths not sorted and unique: %q, %q", files[i-1].Path, f.Path)
		}
		if int64(len(f.Data)) > fuzzLimits.MaxFileSize {
			t.Errorf("accepted %s of %d bytes", f.Path, len(f.Data))
		}
		total += int64(len(f.Data))
	}
	if total > fuzzLimits.MaxTotalSize {
		t.Errorf("accepted %d bytes in total", total)
	}
	var buf bytes.Buffer
	if err := WriteZip(&buf, files); err != nil {
		t.Fatalf("accepted files cannot be written: %v", err)
	}
	again, _, err := ReadZip(buf.Bytes(), fuzzLimits)
	if err != nil {
		t.Fatalf("accepted files do not read back: %v", err)
	}
	if len(files) > 0 && !reflect.DeepEqual(again, files) {
		t.Errorf("accepted files read back as %q, want %q", paths(again), paths(files))
	}
}
