package bundle

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseSkillMD(t *testing.T) {
	src := "\ufeff---\r\n" +
		"name: pdf-tools\r\n" +
		"description: >\r\n  Fill and merge PDF forms.\r\n  Use for PDFs.\r\n" +
		"license: MIT\r\n" +
		"compatibility: Needs qpdf\r\n" +
		"metadata:\r\n  author: ops\r\n  version: \"1.0\"\r\n" +
		"allowed-tools: Bash(git status:*) Read, Grep\r\n" +
		"x-team: docs\r\n" +
		"tags: [pdf, forms]\r\n" +
		"nested: {a: 1, b: [true, null, 2.5, 2024-01-02]}\r\n" +
		"---\r\n" +
		"# PDF tools\r\nBody.\r\n"
	fm, body, err := ParseSkillMD([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := Frontmatter{
		Name:          "pdf-tools",
		Description:   "Fill and merge PDF forms. Use for PDFs.",
		License:       "MIT",
		Compatibility: "Needs qpdf",
		Metadata:      map[string]string{"author": "ops", "version": "1.0"},
		AllowedTools:  []string{"Bash(git status:*)", "Read", "Grep"},
		Extra: map[string]any{
			"x-team": "docs",
			"tags":   []any{"pdf", "forms"},
			"nested": map[string]any{"a": int64(1), "b": []any{true, nil, 2.5, "2024-01-02"}},
		},
	}
	if !reflect.DeepEqual(fm, want) {
		t.Errorf("frontmatter:\n got %#v\nwant %#v", fm, want)
	}
	if body != "# PDF tools\r\nBody.\r\n" {
		t.Errorf("body = %q", body)
	}
}

func TestParseSkillMDAllowedToolsList(t *testing.T) {
	fm, _, err := ParseSkillMD([]byte("---\nname: a\ndescription: b\nallowed-tools:\n  - Read\n  - Bash(jq:*)\n---\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Read", "Bash(jq:*)"}; !reflect.DeepEqual(fm.AllowedTools, want) {
		t.Errorf("AllowedTools = %q, want %q", fm.AllowedTools, want)
	}
}

func TestParseSkillMDNoBody(t *testing.T) {
	fm, body, err := ParseSkillMD([]byte("---\nname: a\ndescription: b\n---"))
	if err != nil || fm.Name != "a" || body != "" {
		t.Errorf("got %+v %q %v", fm, body, err)
	}
}

func TestParseSkillMDErrors(t *testing.T) {
	const head = "---\nname: good\ndescription: Does things.\n"
	tests := []struct {
		name string
		src  string
		want string // one of the problems, as printed
	}{
		{"no frontmatter", "# Hello\n", "SKILL.md:1: must start with YAML frontmatter"},
		{"empty file", "", "SKILL.md:1: must start with YAML frontmatter"},
		{"text before fence", "\n---\nname: a\n---\n", "SKILL.md:1: must start with YAML frontmatter"},
		{"unterminated", head + "body\n", "SKILL.md:1: frontmatter is not closed"},
		{"empty", "---\n---\n", "SKILL.md:1: frontmatter is empty"},
		{"list", "---\n- a\n- b\n---\n", "SKILL.md:2: frontmatter must be a YAML mapping (key: value lines), not a list"},
		{"scalar", "---\njust text\n---\n", "SKILL.md:2: frontmatter must be a YAML mapping"},
		{"bad yaml with line", "---\nname: a\ndescription: [x,\n---\n", "SKILL.md:3: frontmatter is not valid YAML"},
		{"unquoted colon", "---\nname: a\ndescription: Use when: always\n---\n", `SKILL.md:3: frontmatter is not valid YAML: mapping values are not allowed in this context (a value containing ": " must be quoted)`},
		{"tab indent", "---\nname: a\n\tdescription: b\n---\n", "SKILL.md:3: frontmatter is not valid YAML"},
		// The YAML library names the line where the mapping began (5);
		// the mistake is on line 6.
		{"bad indent in a mapping", "---\nname: a\ndescription: b\nmetadata:\n  x: y\n z: w\n---\n", "SKILL.md:6: frontmatter is not valid YAML: did not find expected key"},
		{"unclosed list", "---\nname: a\ndescription: b\ntags: [x, y\nlicense: MIT\n---\n", "SKILL.md:4: frontmatter is not valid YAML"},
		{"uppercase", "---\nname: Foo\ndescription: d\n---\n", `SKILL.md:2: name "Foo" must be lowercase letters, digits and hyphens`},
		{"underscore", "---\nname: my_skill\ndescription: d\n---\n", `name "my_skill" must be lowercase letters, digits and hyphens`},
		{"leading hyphen", "---\nname: -foo\ndescription: d\n---\n", `SKILL.md:2: name "-foo" must not start or end with a hyphen`},
		{"trailing hyphen", "---\nname: foo-\ndescription: d\n---\n", `name "foo-" must not start or end with a hyphen`},
		{"double hyphen", "---\nname: foo--bar\ndescription: d\n---\n", `name "foo--bar" must not contain two hyphens in a row`},
		{"65 chars", "---\nname: " + strings.Repeat("a", 65) + "\ndescription: d\n---\n", "SKILL.md:2: name is 65 characters long; the limit is 64"},
		{"name not string", "---\nname: 123\ndescription: d\n---\n", `SKILL.md:2: name must be a string; put the value in quotes: "123"`},
		{"name list", "---\nname: [a]\ndescription: d\n---\n", "SKILL.md:2: name must be a string, not a list"},
		{"name empty", "---\nname:\ndescription: d\n---\n", "SKILL.md:2: name must not be empty"},
		{"no name", "---\ndescription: d\n---\n", "SKILL.md:1: frontmatter has no name"},
		{"no description", "---\nname: a\n---\n", "SKILL.md:1: frontmatter has no description"},
		{"blank description", "---\nname: a\ndescription: \"  \"\n---\n", "SKILL.md:3: description must not be empty"},
		{"long description", "---\nname: a\ndescription: " + strings.Repeat("é", 1025) + "\n---\n", "SKILL.md:3: description is 1025 characters long; the limit is 1024"},
		{"long compatibility", head + "compatibility: " + strings.Repeat("x", 501) + "\n---\n", "SKILL.md:4: compatibility is 501 characters long; the limit is 500"},
		{"metadata number", head + "metadata:\n  version: 1.0\n---\n", `SKILL.md:5: metadata.version must be a string; put the value in quotes: "1.0"`},
		{"metadata nested", head + "metadata:\n  a:\n    b: c\n---\n", "SKILL.md:6: metadata.a must be a string, not a mapping"},
		{"metadata list", head + "metadata: [a]\n---\n", "SKILL.md:4: metadata must be a mapping of names to strings, not a list"},
		{"tools mapping", head + "allowed-tools: {a: b}\n---\n", "SKILL.md:4: allowed-tools must be a space-separated string or a list of strings"},
		{"tools list of lists", head + "allowed-tools:\n  - [a]\n---\n", "SKILL.md:5: allowed-tools entry must be a string, not a list"},
		{"duplicate key", head + "name: other\n---\n", `SKILL.md:4: key "name" is repeated (first on line 2)`},
		{"alias", head + "x: &a [1]\ny: *a\n---\n", "SKILL.md:5: y uses a YAML alias"},
		{"complex key", head + "? [a]\n: b\n---\n", "SKILL.md:4: frontmatter keys must be plain words, not a list"},
		{"invalid utf-8", head + "---\nline\nbad \xff byte\n", "SKILL.md:6: is not valid UTF-8 text"},
		{"huge frontmatter", head + strings.Repeat("x: "+strings.Repeat("y", 100)+"\n", 700) + "---\n", "SKILL.md:1: frontmatter is larger than 64 KiB"},
		{"huge unterminated", "---\n" + strings.Repeat("y", 200<<10), "SKILL.md:1: frontmatter is larger than 64 KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fm, body, err := ParseSkillMD([]byte(tt.src))
			be := wantError(t, err)
			if !hasMessage(be, tt.want) {
				t.Errorf("problems %q\ndo not include %q", be.Error(), tt.want)
			}
			if !reflect.DeepEqual(fm, Frontmatter{}) || body != "" {
				t.Errorf("on error got frontmatter %+v and body %q, want zero values", fm, body)
			}
		})
	}
}

func TestParseSkillMDCollectsProblems(t *testing.T) {
	_, _, err := ParseSkillMD([]byte("---\nname: Bad--Name\ndescription: \"\"\nmetadata:\n  n: 1\n---\n"))
	be := wantError(t, err)
	if len(be.Problems) != 3 {
		t.Errorf("got %d problems, want 3: %v", len(be.Problems), be)
	}
}

func TestValidateName(t *testing.T) {
	for _, ok := range []string{"a", "pdf", "pdf-tools", "a1-b2-c3", strings.Repeat("a", 64), "0"} {
		if err := ValidateName(ok); err != nil {
			t.Errorf("ValidateName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "A", "Foo", "-a", "a-", "a--b", "a_b", "a b", "a.b", "é", strings.Repeat("a", 65)} {
		err := ValidateName(bad)
		wantError(t, err)
	}
}

func TestTitle(t *testing.T) {
	tests := []struct{ body, want string }{
		{"# Hello\n", "Hello"},
		{"intro\n\n## Sub\n# Main Title #\n", "Main Title"},
		{"```sh\n# install deps\n```\n# Real\n", "Real"},
		{"~~~\n# not this\n~~~\n", "fallback"},
		{"    # indented code\n", "fallback"},
		{"#NoSpace\n#\n# \n", "fallback"},
		{"# C# tips\n", "C# tips"},
		{"", "fallback"},
	}
	for _, tt := range tests {
		if got := title(tt.body, "fallback"); got != tt.want {
			t.Errorf("title(%q) = %q, want %q", tt.body, got, tt.want)
		}
	}
}

func TestSplitTools(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"Read Write", []string{"Read", "Write"}},
		{"Read, Grep,Glob", []string{"Read", "Grep", "Glob"}},
		{"Bash(git status:*) Bash(jq:*)  Read", []string{"Bash(git status:*)", "Bash(jq:*)", "Read"}},
		{"Bash(a, b) x)", []string{"Bash(a, b)", "x)"}},
		{"  ", nil},
	}
	for _, tt := range tests {
		if got := splitTools(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitTools(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// wantError fails the test unless err is an *Error with problems.
func wantError(t *testing.T, err error) *Error {
	t.Helper()
	var be *Error
	if !errors.As(err, &be) {
		t.Fatalf("got error %v (%T), want *Error", err, err)
	}
	if len(be.Problems) == 0 {
		t.Fatal("*Error without problems")
	}
	return be
}

// hasMessage reports whether a problem, printed as "file:line: msg",
// contains want.
func hasMessage(e *Error, want string) bool {
	for _, p := range e.Problems {
		if strings.Contains(p.String(), want) {
			return true
		}
	}
	return false
}
