package bundle

import (
	"bytes"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// SkillFile is the name of the file every bundle has at its root.
const SkillFile = "SKILL.md"

// Limits of the Agent Skills specification and of this registry.
const (
	MaxNameLen          = 64
	MaxDescriptionLen   = 1024
	MaxCompatibilityLen = 500
	// MaxFrontmatter bounds the YAML header so that parsing stays cheap.
	MaxFrontmatter = 64 << 10
)

// maxExtraDepth bounds nesting in unknown frontmatter values, which are
// kept and later stored as JSON.
const maxExtraDepth = 32

// ValidateName checks a skill name against the Agent Skills rules.
func ValidateName(name string) error {
	if why := nameProblem(name); why != "" {
		return problemf("", 0, "%s", why)
	}
	return nil
}

func nameProblem(name string) string {
	switch {
	case name == "":
		return "name must not be empty"
	case len(name) > MaxNameLen:
		return fmt.Sprintf("name is %d characters long; the limit is %d", len(name), MaxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return fmt.Sprintf("name %q must be lowercase letters, digits and hyphens", name)
		}
	}
	switch {
	case name[0] == '-' || name[len(name)-1] == '-':
		return fmt.Sprintf("name %q must not start or end with a hyphen", name)
	case strings.Contains(name, "--"):
		return fmt.Sprintf("name %q must not contain two hyphens in a row", name)
	}
	return ""
}

// ParseSkillMD splits SKILL.md into its frontmatter and Markdown body and
// validates the frontmatter. Failures are an *Error whose problems name
// SKILL.md and a line.
func ParseSkillMD(data []byte) (fm Frontmatter, body string, err error) {
	var e Error
	p := parseSkillMD(data, &e)
	if err := e.err(); err != nil {
		return Frontmatter{}, "", err
	}
	return p.fm, p.body, nil
}

// parsed is what parseSkillMD learns, with the line of the name so that
// New can point at it when the name does not match the folder.
type parsed struct {
	fm       Frontmatter
	body     string
	nameLine int
}

func parseSkillMD(data []byte, e *Error) parsed {
	var p parsed
	if !utf8.Valid(data) {
		e.addf(SkillFile, invalidUTF8Line(data), "is not valid UTF-8 text")
		return p
	}
	yml, yamlStart, body, ok := splitFrontmatter(data, e)
	if !ok {
		return p
	}
	p.body = body
	// yaml.Node line numbers count from the first YAML line.
	off := yamlStart - 1

	var doc yaml.Node
	if err := yaml.Unmarshal(yml, &doc); err != nil {
		line, msg := yamlError(err, yml)
		if line > 0 {
			line += off
		}
		e.addf(SkillFile, line, "frontmatter is not valid YAML: %s%s", msg, yamlHint(msg))
		return p
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		e.addf(SkillFile, 1, "frontmatter is empty; it needs at least name and description")
		return p
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode {
		e.addf(SkillFile, m.Line+off, "frontmatter must be a YAML mapping (key: value lines), not %s", kindName(m))
		return p
	}

	fm := &p.fm
	seen := map[string]int{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			e.addf(SkillFile, k.Line+off, "frontmatter keys must be plain words, not %s", kindName(k))
			continue
		}
		key := k.Value
		if first, dup := seen[key]; dup {
			e.addf(SkillFile, k.Line+off, "key %q is repeated (first on line %d)", key, first+off)
			continue
		}
		seen[key] = k.Line
		if hasAlias(v, 0) {
			e.addf(SkillFile, v.Line+off, "%s uses a YAML alias (*name); write the value out instead", key)
			continue
		}
		line := v.Line + off
		switch key {
		case "name":
			s, ok := stringField(e, key, v, line)
			if !ok {
				continue
			}
			fm.Name, p.nameLine = s, line
			if why := nameProblem(s); why != "" {
				e.addf(SkillFile, line, "%s", why)
			}
		case "description":
			s, ok := stringField(e, key, v, line)
			if !ok {
				continue
			}
			fm.Description = strings.TrimSpace(s)
			switch n := utf8.RuneCountInString(fm.Description); {
			case n == 0:
				e.addf(SkillFile, line, "description must not be empty; say what the skill does and when to use it")
			case n > MaxDescriptionLen:
				e.addf(SkillFile, line, "description is %d characters long; the limit is %d", n, MaxDescriptionLen)
			}
		case "license":
			if s, ok := stringField(e, key, v, line); ok {
				fm.License = strings.TrimSpace(s)
			}
		case "compatibility":
			s, ok := stringField(e, key, v, line)
			if !ok {
				continue
			}
			fm.Compatibility = strings.TrimSpace(s)
			switch n := utf8.RuneCountInString(fm.Compatibility); {
			case n == 0:
				e.addf(SkillFile, line, "compatibility must not be empty when given")
			case n > MaxCompatibilityLen:
				e.addf(SkillFile, line, "compatibility is %d characters long; the limit is %d", n, MaxCompatibilityLen)
			}
		case "metadata":
			fm.Metadata = metadataField(e, v, off)
		case "allowed-tools":
			fm.AllowedTools = toolsField(e, v, off)
		default:
			val, why := extraValue(v, 0)
			if why != "" {
				e.addf(SkillFile, line, "%s: %s", key, why)
				continue
			}
			if fm.Extra == nil {
				fm.Extra = map[string]any{}
			}
			fm.Extra[key] = val
		}
	}
	if !seenKey(seen, "name") {
		e.addf(SkillFile, 1, "frontmatter has no name; add a line like: name: my-skill")
	}
	if !seenKey(seen, "description") {
		e.addf(SkillFile, 1, "frontmatter has no description; add a line saying what the skill does and when to use it")
	}
	return p
}

func seenKey(seen map[string]int, k string) bool { _, ok := seen[k]; return ok }

// splitFrontmatter finds the YAML between a first line "---" and the next
// line "---". It returns the YAML, the file line where it starts, and the
// body after the closing line.
func splitFrontmatter(data []byte, e *Error) (yml []byte, yamlStart int, body string, ok bool) {
	// Editors on Windows like to start files with a byte order mark.
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	first, rest, _ := bytes.Cut(data, []byte("\n"))
	if !isFence(first) {
		e.addf(SkillFile, 1, `must start with YAML frontmatter: a line "---", then name and description, then another "---" line`)
		return nil, 0, "", false
	}
	pos := 0
	for pos < len(rest) {
		l, _, _ := bytes.Cut(rest[pos:], []byte("\n"))
		if isFence(l) {
			end := pos + len(l) + 1
			if end > len(rest) {
				end = len(rest)
			}
			return rest[:pos], 2, string(rest[end:]), true
		}
		pos += len(l) + 1
		if pos > MaxFrontmatter {
			e.addf(SkillFile, 1, "frontmatter is larger than %s", humanSize(MaxFrontmatter))
			return nil, 0, "", false
		}
	}
	e.addf(SkillFile, 1, `frontmatter is not closed: add a line "---" after it`)
	return nil, 0, "", false
}

func isFence(line []byte) bool {
	return string(bytes.TrimRight(line, " \t\r")) == "---"
}

// invalidUTF8Line returns the line of the first invalid UTF-8 sequence.
func invalidUTF8Line(data []byte) int {
	line := 1
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if r == utf8.RuneError && size <= 1 {
			return line
		}
		if r == '\n' {
			line++
		}
		data = data[size:]
	}
	return line
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError extracts a line number and a message from a YAML parse error.
// The YAML library reports some errors at the line where the enclosing
// mapping started, not where it went wrong, and some with no line at all;
// the shortest prefix of the document that fails with the same message
// ends at the line that is wrong, so that is the line we report.
func yamlError(err error, yml []byte) (line int, msg string) {
	message := func(err error) (int, string) {
		s := err.Error()
		if m := yamlLineRE.FindStringSubmatch(s); m != nil {
			n, _ := strconv.Atoi(m[1])
			return n, m[2]
		}
		return 0, strings.TrimPrefix(s, "yaml: ")
	}
	line, msg = message(err)
	lines := bytes.SplitAfter(yml, []byte("\n"))
	fails := func(n int) bool {
		var doc yaml.Node
		err := yaml.Unmarshal(bytes.Join(lines[:n], nil), &doc)
		if err == nil {
			return false
		}
		_, m := message(err)
		return m == msg
	}
	// Binary search assumes a failing prefix keeps failing when it grows,
	// which holds for the usual mistakes; the result is checked anyway.
	lo, hi := 1, len(lines)
	for lo < hi {
		mid := (lo + hi) / 2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	if lo <= len(lines) && fails(lo) {
		return lo, msg
	}
	return line, msg
}

// yamlHint adds advice for the mistake people make most in frontmatter:
// an unquoted value containing ": ".
func yamlHint(msg string) string {
	if strings.Contains(msg, "mapping values are not allowed") {
		return ` (a value containing ": " must be quoted)`
	}
	return ""
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		return "a single value"
	case yaml.AliasNode:
		return "an alias"
	}
	return "empty"
}

// hasAlias reports whether n uses a YAML alias. Aliases are refused: no
// skill needs them, and expanding them is how YAML documents explode.
func hasAlias(n *yaml.Node, depth int) bool {
	if n.Kind == yaml.AliasNode {
		return true
	}
	if depth > maxExtraDepth {
		return false // extraValue reports the depth
	}
	for _, c := range n.Content {
		if hasAlias(c, depth+1) {
			return true
		}
	}
	return false
}

// stringField returns the text of a string value. A missing (null) value
// gives ok=false for the caller to treat as absent, except for the required
// fields. Other scalar types are refused rather than converted, so that
// "version: 1.10" does not silently become "1.1".
func stringField(e *Error, key string, v *yaml.Node, line int) (string, bool) {
	s, why := stringValue(v)
	if why != "" {
		e.addf(SkillFile, line, "%s %s", key, why)
		return "", false
	}
	if v.Tag == "!!null" {
		if key == "name" || key == "description" {
			e.addf(SkillFile, line, "%s must not be empty", key)
		}
		return "", false
	}
	return s, true
}

// stringValue returns the string in v, or why v is not a string. A null
// value gives "" with no reason.
func stringValue(v *yaml.Node) (s, why string) {
	switch {
	case v.Kind != yaml.ScalarNode:
		return "", "must be a string, not " + kindName(v)
	case v.Tag == "!!null":
		return "", ""
	case v.Tag != "!!str":
		return "", fmt.Sprintf("must be a string; put the value in quotes: %q", v.Value)
	}
	return v.Value, ""
}

func metadataField(e *Error, v *yaml.Node, off int) map[string]string {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil
	}
	if v.Kind != yaml.MappingNode {
		e.addf(SkillFile, v.Line+off, "metadata must be a mapping of names to strings, not %s", kindName(v))
		return nil
	}
	md := map[string]string{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			e.addf(SkillFile, k.Line+off, "metadata keys must be plain words, not %s", kindName(k))
			continue
		}
		if _, dup := md[k.Value]; dup {
			e.addf(SkillFile, k.Line+off, "metadata key %q is repeated", k.Value)
			continue
		}
		s, why := stringValue(val)
		if why != "" {
			e.addf(SkillFile, val.Line+off, "metadata.%s %s", k.Value, why)
			continue
		}
		md[k.Value] = s
	}
	if len(md) == 0 {
		return nil
	}
	return md
}

// toolsField accepts the specification's space-separated string as well as
// a YAML list. In the string form, spaces inside parentheses belong to the
// tool pattern ("Bash(git status:*)"), and commas also separate, because
// Claude Code documents "Read, Grep, Glob".
func toolsField(e *Error, v *yaml.Node, off int) []string {
	switch {
	case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
		return nil
	case v.Kind == yaml.ScalarNode && v.Tag == "!!str":
		return splitTools(v.Value)
	case v.Kind == yaml.SequenceNode:
		var tools []string
		for _, item := range v.Content {
			s, why := stringValue(item)
			if why != "" {
				e.addf(SkillFile, item.Line+off, "allowed-tools entry %s", why)
				continue
			}
			if s = strings.TrimSpace(s); s != "" {
				tools = append(tools, s)
			}
		}
		return tools
	}
	e.addf(SkillFile, v.Line+off, "allowed-tools must be a space-separated string or a list of strings")
	return nil
}

func splitTools(s string) []string {
	var tools []string
	depth, start := 0, 0
	flush := func(end int) {
		if t := strings.TrimSpace(s[start:end]); t != "" {
			tools = append(tools, t)
		}
	}
	for i, r := range s {
		switch {
		case r == '(':
			depth++
		case r == ')' && depth > 0:
			depth--
		case depth == 0 && (r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'):
			flush(i)
			start = i + 1
		}
	}
	flush(len(s))
	return tools
}

// extraValue converts an unknown key's value into plain Go values that
// encode as JSON: map[string]any, []any, string, int64, float64, bool, nil.
// Timestamps and other special scalars keep their text.
func extraValue(v *yaml.Node, depth int) (any, string) {
	if depth > maxExtraDepth {
		return nil, "value is nested too deeply"
	}
	switch v.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(v.Content)/2)
		for i := 0; i+1 < len(v.Content); i += 2 {
			k := v.Content[i]
			if k.Kind != yaml.ScalarNode {
				return nil, "mapping keys must be plain words, not " + kindName(k)
			}
			if _, dup := m[k.Value]; dup {
				return nil, fmt.Sprintf("key %q is repeated", k.Value)
			}
			val, why := extraValue(v.Content[i+1], depth+1)
			if why != "" {
				return nil, why
			}
			m[k.Value] = val
		}
		return m, ""
	case yaml.SequenceNode:
		list := make([]any, 0, len(v.Content))
		for _, c := range v.Content {
			val, why := extraValue(c, depth+1)
			if why != "" {
				return nil, why
			}
			list = append(list, val)
		}
		return list, ""
	case yaml.ScalarNode:
		switch v.Tag {
		case "!!null":
			return nil, ""
		case "!!bool":
			var b bool
			if v.Decode(&b) == nil {
				return b, ""
			}
		case "!!int":
			var n int64
			if v.Decode(&n) == nil {
				return n, ""
			}
		case "!!float":
			var f float64
			if v.Decode(&f) == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
				return f, ""
			}
		}
		return v.Value, ""
	}
	return nil, "unsupported YAML value"
}
