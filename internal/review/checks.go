package review

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/skillvault/skillvault/internal/bundle"
)

// Limits from the Agent Skills specification and its authoring guidance.
const (
	maxNameLen          = 64
	maxDescriptionLen   = 1024
	maxCompatibilityLen = 500
	maxBodyLines        = 500 // guidance: keep SKILL.md under ~500 lines
	minDescriptionLen   = 40
)

// checker accumulates findings for one input.
type checker struct {
	in       Input
	policy   Policy
	findings []finding

	skillMD    string // SKILL.md as stored, or the body when absent from Files
	bodyOffset int    // lines of SKILL.md before the body
	files      map[string]bool
	dirs       map[string]bool // every directory that holds a file
}

func newChecker(in Input) *checker {
	c := &checker{in: in, files: map[string]bool{}, dirs: map[string]bool{}}
	for _, f := range in.Files {
		c.files[f.Path] = true
		for d := path.Dir(f.Path); d != "." && d != "/"; d = path.Dir(d) {
			c.dirs[d] = true
		}
	}
	c.skillMD = in.Body
	if f, ok := c.file("SKILL.md"); ok {
		c.skillMD = string(f.Data)
		c.bodyOffset = bodyOffset(c.skillMD, in.Body)
	}
	return c
}

func (c *checker) file(p string) (bundle.File, bool) {
	for _, f := range c.in.Files {
		if f.Path == p {
			return f, true
		}
	}
	return bundle.File{}, false
}

// bodyOffset finds how many lines of SKILL.md precede the body, so that
// findings in the body carry SKILL.md line numbers.
func bodyOffset(skillMD, body string) int {
	s := strings.ReplaceAll(skillMD, "\r\n", "\n")
	if b := strings.ReplaceAll(body, "\r\n", "\n"); strings.TrimSpace(b) != "" {
		if i := strings.LastIndex(s, b); i >= 0 {
			return strings.Count(s[:i], "\n")
		}
	}
	// Fall back to the end of the frontmatter.
	if strings.HasPrefix(strings.TrimPrefix(s, "\ufeff"), "---") {
		lines := strings.Split(s, "\n")
		for i := 1; i < len(lines); i++ {
			if strings.TrimRight(lines[i], " \t") == "---" {
				return i + 1
			}
		}
	}
	return 0
}

func (c *checker) add(r *rule, file string, line int, format string, args ...any) {
	c.findings = append(c.findings, finding{
		Finding: Finding{Rule: r.id, Severity: r.severity, Category: r.category, File: file, Line: line, Message: fmt.Sprintf(format, args...)},
		rule:    r,
	})
}

// addSeverity is add with a severity other than the rule's default.
func (c *checker) addSeverity(r *rule, severity, file string, line int, format string, args ...any) {
	c.add(r, file, line, format, args...)
	c.findings[len(c.findings)-1].Severity = severity
}

// keyLine is the SKILL.md line of a frontmatter key, or 1 if not found.
func (c *checker) keyLine(key string) int {
	lines := strings.Split(c.skillMD, "\n")
	for i, l := range lines {
		if i > 0 && strings.TrimRight(l, "\r \t") == "---" {
			break
		}
		if strings.HasPrefix(l, key+":") {
			return i + 1
		}
	}
	return 1
}

var (
	ruleName = &rule{id: "name", severity: High, category: Spec,
		suggestion: "Use a name of 1–64 lower-case letters, digits and single hyphens (e.g. pdf-form-filler) that matches the skill's folder."}
	ruleDescMissing = &rule{id: "description-missing", severity: High, category: Spec,
		suggestion: "Add a description that says what the skill does and when to use it; agents choose skills by it."}
	ruleDescLong = &rule{id: "description-long", severity: High, category: Spec,
		suggestion: "Shorten the description to at most 1024 characters; move detail into the body."}
	ruleCompat = &rule{id: "compatibility-long", severity: Medium, category: Spec,
		suggestion: "Keep compatibility under 500 characters: list environments, not instructions."}
	ruleDescXML    = &rule{id: "description-xml", severity: Low, category: Spec}
	ruleUnknownKey = &rule{id: "unknown-key", severity: Info, category: Spec}
	ruleNoLicense  = &rule{id: "no-license", severity: Info, category: Completeness,
		suggestion: "Add a license field so others know whether they may reuse the skill."}

	ruleDescNoWhen = &rule{id: "description-no-when", severity: Medium, category: Clarity,
		suggestion: `End the description with when to use it, e.g. "Use when the user asks to …".`}
	ruleDescShort = &rule{id: "description-short", severity: Medium, category: Clarity,
		suggestion: "Expand the description: name the task, the inputs and outputs, and the key terms a user would say."}
	ruleDescPerson = &rule{id: "description-person", severity: Low, category: Clarity,
		suggestion: `Write the description in the third person ("Creates…", "Use when…"), not "I" or "we".`}

	ruleBodyEmpty = &rule{id: "body-empty", severity: High, category: Structure,
		suggestion: "Write instructions in the body of SKILL.md: the steps, the tools or scripts to use, and what good output looks like."}
	ruleBodyLong = &rule{id: "body-long", severity: Medium, category: Structure,
		suggestion: "Keep SKILL.md under about 500 lines: move detailed material into references/ files and link them from SKILL.md (progressive disclosure)."}
	ruleNoHeadings = &rule{id: "no-headings", severity: Low, category: Structure,
		suggestion: "Organise SKILL.md with Markdown headings (e.g. Overview, Steps, Examples) so agents can find their way."}
	ruleFence    = &rule{id: "unclosed-fence", severity: Low, category: Structure}
	ruleBodyThin = &rule{id: "body-thin", severity: Low, category: Completeness,
		suggestion: "Give more guidance in SKILL.md: steps, decisions, pitfalls, and what to do when something fails."}
	ruleNoExamples = &rule{id: "no-examples", severity: Medium, category: Completeness,
		suggestion: "Add at least one concrete example (a code block or an input → output pair)."}
	rulePlaceholder = &rule{id: "placeholder", severity: Low, category: Completeness,
		suggestion: "Finish or remove TODO/TBD placeholders before publishing."}
	ruleUnreferenced = &rule{id: "unreferenced-file", severity: Info, category: Completeness,
		suggestion: "Mention every script and reference file in SKILL.md, saying when to use it; agents rarely open files they are not told about."}

	ruleBrokenLink = &rule{id: "broken-link", severity: Medium, category: Structure,
		suggestion: "Fix links to files that are not in the bundle, or add the files."}
	ruleOutsideLink = &rule{id: "outside-link", severity: Medium, category: Structure,
		suggestion: "Keep links inside the bundle: a skill is installed on its own, without its neighbours."}
	ruleAbsLink = &rule{id: "absolute-link", severity: Low, category: Structure,
		suggestion: "Use relative paths (references/x.md) for links inside the bundle."}
	ruleBackslash = &rule{id: "backslash-path", severity: Low, category: Structure,
		suggestion: "Use forward slashes in paths; backslashes fail outside Windows."}
	ruleMissingPath = &rule{id: "missing-path", severity: Low, category: Structure}
)

var nameRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

func (c *checker) checkSpec() {
	fm := c.in.Frontmatter
	name := fm.Name
	nl := c.keyLine("name")
	switch {
	case name == "":
		c.add(ruleName, "SKILL.md", nl, "name is missing")
	case utf8.RuneCountInString(name) > maxNameLen:
		c.add(ruleName, "SKILL.md", nl, "name is %d characters long; the limit is %d", utf8.RuneCountInString(name), maxNameLen)
	case !nameRE.MatchString(name):
		c.add(ruleName, "SKILL.md", nl, "name %q is invalid: %s", name, nameProblem(name))
	}

	dl := c.keyLine("description")
	desc := strings.TrimSpace(fm.Description)
	if n := utf8.RuneCountInString(fm.Description); desc == "" {
		c.add(ruleDescMissing, "SKILL.md", dl, "description is missing")
	} else if n > maxDescriptionLen {
		c.add(ruleDescLong, "SKILL.md", dl, "description is %d characters long; the limit is %d", n, maxDescriptionLen)
	}
	if xmlTagRE.MatchString(fm.Description) {
		c.add(ruleDescXML, "SKILL.md", dl, "description contains XML-like tags, which some agents strip or reject")
	}
	if n := utf8.RuneCountInString(fm.Compatibility); n > maxCompatibilityLen {
		c.add(ruleCompat, "SKILL.md", c.keyLine("compatibility"), "compatibility is %d characters long; the limit is %d", n, maxCompatibilityLen)
	}
	if strings.TrimSpace(fm.License) == "" {
		c.add(ruleNoLicense, "SKILL.md", 0, "no license is given")
	}
	keys := make([]string, 0, len(fm.Extra))
	for k := range fm.Extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		c.add(ruleUnknownKey, "SKILL.md", c.keyLine(k), "frontmatter key %q is not in the Agent Skills specification; it is kept, but agents ignore it", k)
	}
}

var xmlTagRE = regexp.MustCompile(`</?[A-Za-z][A-Za-z0-9_-]*(\s[^<>]*)?>`)

// nameProblem explains why name fails nameRE.
func nameProblem(name string) string {
	switch {
	case strings.ToLower(name) != name && nameRE.MatchString(strings.ToLower(name)):
		return "use lower case only"
	case strings.HasPrefix(name, "-") || strings.HasSuffix(name, "-"):
		return "it must not start or end with a hyphen"
	case strings.Contains(name, "--"):
		return "it must not contain consecutive hyphens"
	default:
		for _, r := range name {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return fmt.Sprintf("character %q is not allowed (only a-z, 0-9 and -)", r)
			}
		}
		return "only a-z, 0-9 and single hyphens are allowed"
	}
}

// whenRE finds the cues by which a description tells an agent when to
// use the skill.
var whenRE = regexp.MustCompile(`(?i)\b(use (it |this( skill)? |the skill )?(when|whenever|for|if|to|in|with|on)\b|(use|used|invoke|trigger|apply|load) (this|it)\b|(invoke|trigger|activate|load)(s|d)? (it |this( skill)? )?(when|whenever|for|if)\b|when (the )?(user|you|someone|asked|working|building|creating|writing|editing|reviewing|designing|debugging|testing|deploying|handling|dealing|a |an |there)|whenever|if the user|for (tasks|requests|questions|work) (that|involving|about|on|with|where)|should be used|triggers? (on|when)|is for\b|useful (for|when)|helps? (with|when)|applies when` +
	// "When Claude needs to…", "Use after a deploy…", "Run before merging…"
	`|^when\b|\bwhen (claude|the agent|an agent|the model|codex|the assistant|someone|users?|you)\b|\b(use|run|invoke|apply)( it| this( skill)?)? (after|before|during|once|while|whenever|at)\b)`)

// personRE finds first-person words; "I" only as a word on its own, so
// that "I/O" does not count.
var personRE = regexp.MustCompile(`(?:^|[\s("])(I|I'm|I'll|I've|[Mm]e|[Mm]y|[Ww]e|[Oo]ur|us)(?:[\s,.;:!?)"]|$)`)

func (c *checker) checkDescription() {
	desc := strings.TrimSpace(c.in.Frontmatter.Description)
	if desc == "" {
		return
	}
	dl := c.keyLine("description")
	if len(desc) < minDescriptionLen || len(strings.Fields(desc)) < 6 {
		c.add(ruleDescShort, "SKILL.md", dl, "description is too short (%d characters) to tell an agent what the skill does", len(desc))
	}
	if !whenRE.MatchString(desc) {
		c.add(ruleDescNoWhen, "SKILL.md", dl, "description says what the skill does but not when to use it")
	}
	if m := personRE.FindStringSubmatch(desc); m != nil {
		c.add(ruleDescPerson, "SKILL.md", dl, "description speaks in the first person (%q); write it in the third person", m[1])
	}
}

var (
	headingRE     = regexp.MustCompile(`^ {0,3}#{1,6}\s+\S`)
	fenceRE       = regexp.MustCompile("^ {0,3}(```+|~~~+)")
	exampleRE     = regexp.MustCompile(`(?i)\b(example|examples|e\.g\.|for instance|sample|input:|output:)`)
	placeholderRE = regexp.MustCompile(`\b(TODO|TBD|FIXME|XXX)\b|(?i)lorem ipsum`)
)

func (c *checker) checkBody() {
	body := strings.ReplaceAll(c.in.Body, "\r\n", "\n")
	if strings.TrimSpace(body) == "" {
		c.add(ruleBodyEmpty, "SKILL.md", 0, "SKILL.md has no instructions after the frontmatter")
		return
	}
	lines := strings.Split(strings.TrimRight(body, "\n"), "\n")
	if len(lines) > maxBodyLines {
		c.add(ruleBodyLong, "SKILL.md", c.bodyOffset+maxBodyLines+1, "SKILL.md body is %d lines long; agents load all of it, so keep it under about %d", len(lines), maxBodyLines)
	}

	var (
		headings, blocks, nonBlank int
		hasExample                 bool
		fence                      fenceState
	)
	for i, l := range lines {
		ln := c.bodyOffset + i + 1
		if strings.TrimSpace(l) != "" {
			nonBlank++
		}
		if code, opened := fence.next(l, ln); code {
			if opened {
				blocks++
			}
			continue
		}
		if headingRE.MatchString(l) {
			headings++
		}
		if exampleRE.MatchString(l) {
			hasExample = true
		}
		if placeholderRE.MatchString(l) {
			c.add(rulePlaceholder, "SKILL.md", ln, "placeholder text: %s", clip(strings.TrimSpace(l), 80))
		}
	}
	if fence.open != 0 {
		c.add(ruleFence, "SKILL.md", fence.open, "code block opened here is never closed")
	}
	if headings == 0 {
		c.add(ruleNoHeadings, "SKILL.md", 0, "SKILL.md has no Markdown headings")
	}
	if nonBlank < 5 || len(strings.TrimSpace(body)) < 300 {
		c.add(ruleBodyThin, "SKILL.md", 0, "SKILL.md gives very little guidance (%d non-blank lines)", nonBlank)
	}
	if blocks == 0 && !hasExample && !c.hasExampleFiles() {
		c.add(ruleNoExamples, "SKILL.md", 0, "no examples: no code blocks, example sections or example files")
	}
	c.checkUnreferenced()
}

// fenceState follows fenced code blocks through a Markdown file, so that
// code is not read as prose (a link in a code sample is not a link).
type fenceState struct {
	open int    // line of the opening fence, 0 when outside a block
	mark string // the opening fence, e.g. "```"
}

// next reports whether line ln is code or a fence, and whether it opened
// a block. A block closes with a fence of the same character, at least as
// long, and nothing after it.
func (f *fenceState) next(l string, ln int) (code, opened bool) {
	m := fenceRE.FindStringSubmatch(l)
	switch {
	case f.open == 0 && m != nil:
		f.open, f.mark = ln, m[1]
		return true, true
	case f.open == 0:
		return false, false
	case m != nil && m[1][0] == f.mark[0] && len(m[1]) >= len(f.mark) && strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(l), m[1][:1])) == "":
		f.open = 0
	}
	return true, false
}

func (c *checker) hasExampleFiles() bool {
	for p := range c.files {
		if strings.HasPrefix(p, "examples/") || strings.HasPrefix(p, "example/") {
			return true
		}
	}
	return false
}

// checkUnreferenced reports scripts and references that no Markdown file
// of the bundle mentions, by path or by file name.
func (c *checker) checkUnreferenced() {
	var docs strings.Builder
	docs.WriteString(c.in.Body)
	for _, f := range c.in.Files {
		if f.Path != "SKILL.md" && isMarkdown(f.Path) {
			docs.Write(f.Data)
		}
	}
	all := docs.String()
	for _, f := range c.in.Files {
		dir, _, _ := strings.Cut(f.Path, "/")
		switch dir {
		case "scripts", "references", "reference":
		default:
			continue
		}
		if strings.Contains(all, f.Path) || strings.Contains(all, path.Base(f.Path)) {
			continue
		}
		c.add(ruleUnreferenced, f.Path, 0, "%s is not mentioned in SKILL.md or any other document of the bundle", f.Path)
	}
}

func isMarkdown(p string) bool {
	ext := strings.ToLower(path.Ext(p))
	return ext == ".md" || ext == ".markdown" || ext == ".mdx"
}

var (
	// [text](target "title") and ![alt](target); the target may be in <>.
	inlineLinkRE = regexp.MustCompile(`!?\[[^\]\n]*\]\(\s*(<[^>\n]*>|[^)\s]+)(\s+("[^"]*"|'[^']*'|\([^)]*\)))?\s*\)`)
	// [label]: target
	refLinkRE  = regexp.MustCompile(`^ {0,3}\[[^\]\n]+\]:\s*(<[^>\n]*>|\S+)`)
	codeSpanRE = regexp.MustCompile("`+[^`]*`+")
	schemeRE   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)
	// `scripts/foo.py` in inline code: a path into the bundle.
	pathMentionRE = regexp.MustCompile("`(?:\\./)?((?:scripts|references|reference|assets|examples|templates)/[A-Za-z0-9_./-]*[A-Za-z0-9_/])`")
)

// checkLinks checks the relative links of every Markdown file, and inline
// code mentions of bundle paths in SKILL.md.
func (c *checker) checkLinks() {
	c.checkLinksIn("SKILL.md", c.in.Body, c.bodyOffset)
	for _, f := range c.in.Files {
		if f.Path != "SKILL.md" && isMarkdown(f.Path) {
			c.checkLinksIn(f.Path, string(f.Data), 0)
		}
	}
}

func (c *checker) checkLinksIn(file, text string, offset int) {
	var fence fenceState
	for i, l := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		ln := offset + i + 1
		if code, _ := fence.next(l, ln); code {
			continue
		}
		if file == "SKILL.md" {
			for _, m := range pathMentionRE.FindAllStringSubmatch(l, -1) {
				p := strings.TrimSuffix(m[1], "/")
				if !c.files[p] && !c.dirs[p] {
					c.add(ruleMissingPath, file, ln, "mentions %s, which is not in the bundle", m[1])
				}
			}
		}
		plain := codeSpanRE.ReplaceAllString(l, "")
		var targets []string
		for _, m := range inlineLinkRE.FindAllStringSubmatch(plain, -1) {
			targets = append(targets, m[1])
		}
		// "[ECG, etc.]: [Results]" is template text, not a link
		// definition: a target in brackets is not a URL.
		if m := refLinkRE.FindStringSubmatch(plain); m != nil && !strings.HasPrefix(m[1], "[") {
			targets = append(targets, m[1])
		}
		for _, t := range targets {
			c.checkTarget(file, ln, strings.TrimSuffix(strings.TrimPrefix(t, "<"), ">"))
		}
	}
}

func (c *checker) checkTarget(file string, line int, target string) {
	t := strings.TrimSpace(target)
	if t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, "//") || schemeRE.MatchString(t) {
		return // anchors and URLs: not ours to check offline
	}
	if strings.ContainsAny(t, "{}$") {
		return // a template placeholder, not a path
	}
	if i := strings.IndexAny(t, "#?"); i >= 0 {
		t = t[:i]
	}
	if u, err := url.PathUnescape(t); err == nil {
		t = u
	}
	if strings.Contains(t, `\`) {
		c.add(ruleBackslash, file, line, "link %q uses backslashes", target)
		t = strings.ReplaceAll(t, `\`, "/")
	}
	if strings.HasPrefix(t, "/") || strings.HasPrefix(t, "~") {
		c.add(ruleAbsLink, file, line, "link %q is an absolute path; it will not resolve where the skill is installed", target)
		return
	}
	p := path.Clean(path.Join(path.Dir(file), t))
	if p == ".." || strings.HasPrefix(p, "../") {
		c.add(ruleOutsideLink, file, line, "link %q points outside the bundle", target)
		return
	}
	if p == "." || c.files[p] || c.dirs[p] {
		return
	}
	c.add(ruleBrokenLink, file, line, "broken link: %s is not in the bundle", p)
}

// clip shortens s to at most n runes.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
