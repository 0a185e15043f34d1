package review

import (
	"path"
	"regexp"
	"strings"
)

// place is where a line sits in a bundle, which decides how much a match
// there weighs: a pattern in a script the agent runs, or in SKILL.md
// instructions it follows, is behaviour; the same pattern quoted in a
// reference document is only talk about it.
type place int

const (
	placeScript       place = iota // executable content: scripts/, *.sh|py|js|ts|ps1|rb, Dockerfiles, shebangs
	placeInstructions              // SKILL.md: instructions to the agent
	placeReference                 // any other document
)

// lineCtx is what is known about one line besides its text.
type lineCtx struct {
	place    place
	comment  bool // a comment in a script: not run
	teaching bool // prose in a document that explains, quotes or warns
	code     bool // fenced code in a Markdown file
}

// rule classes: how a rule's severity reacts to where its match sits.
const (
	classBehaviour = iota // what runs or is done: capped outside scripts and instructions
	classSecret           // a credential written into the bundle
	classInjection        // text aimed at the model
	classHidden           // invisible text: weighs the same everywhere
)

var scriptExts = map[string]bool{
	".sh": true, ".bash": true, ".zsh": true, ".ksh": true, ".fish": true, ".py": true, ".pyw": true,
	".js": true, ".mjs": true, ".cjs": true, ".ts": true, ".mts": true, ".cts": true, ".jsx": true, ".tsx": true,
	".ps1": true, ".psm1": true, ".bat": true, ".cmd": true, ".rb": true, ".pl": true, ".php": true, ".lua": true,
	".go": true, ".rs": true, ".java": true, ".kt": true, ".swift": true, ".r": true,
}

// placeOf classifies a bundle file by its path and, for extension-less
// files, its shebang.
func placeOf(p string, data []byte) place {
	if p == "SKILL.md" {
		return placeInstructions
	}
	base := path.Base(p)
	switch {
	case scriptExts[strings.ToLower(path.Ext(p))],
		strings.HasPrefix(base, "Dockerfile"), strings.HasPrefix(base, "Containerfile"),
		base == "Makefile", base == "Justfile",
		strings.HasPrefix(string(data), "#!"):
		return placeScript
	case strings.HasPrefix(p, "scripts/") && !isMarkdown(p) && path.Ext(p) != ".txt":
		return placeScript
	}
	return placeReference
}

// commentPrefix is how a line comment starts in a script, by extension.
func commentPrefix(p string) []string {
	switch strings.ToLower(path.Ext(p)) {
	case ".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx", ".go", ".rs", ".java", ".kt", ".swift", ".php":
		return []string{"//", "/*", "* "}
	case ".ps1", ".psm1", ".sh", ".bash", ".zsh", ".py", ".rb", ".pl", ".r", ".fish", ".ksh":
		return []string{"#"}
	case ".bat", ".cmd":
		return []string{"rem ", "REM ", "::"}
	case ".lua":
		return []string{"--"}
	}
	return []string{"#"}
}

var (
	// teachingRE finds prose that talks about an attack rather than doing it.
	teachingRE = regexp.MustCompile(`(?i)\b(attack(er|s)?|malicious|malware|exploit\w*|vulnerab\w*|injection|payloads?|detect\w*|scanner|red flags?|dangerous|suspicious|adversar\w*|threats?|insecure|unsafe|theft|steal\w*|indicators?|iocs?|artifacts?|signatures?|persistence|exfiltrat\w*|backdoor\w*|for example|e\.g\.|such as|example of|look for|flag(s|ged)?|warn(s|ing)?)\b`)
	// negationRE finds advice against a command ("never pipe curl to sh").
	negationRE = regexp.MustCompile(`(?i)\b(never|do not|don't|avoid|instead of|rather than|not recommended|beware)\b`)
	// patternRE finds regular-expression escapes: a line holding them is a
	// detection rule (YARA, grep, a scanner's regexp), not code that runs.
	patternRE = regexp.MustCompile(`\\[sdwb]\*|\\[sdw]\+|\\s|\\\(|\\\.|\(\?[i:]`)
)

// lineContext describes line l of a file at place p; code tells whether
// a Markdown line is inside a fenced block.
func lineContext(file string, p place, l string, code bool) lineCtx {
	lc := lineCtx{place: p}
	t := strings.TrimSpace(l)
	switch p {
	case placeScript:
		if !strings.HasPrefix(t, "#!") {
			for _, pre := range commentPrefix(file) {
				if strings.HasPrefix(t, pre) {
					lc.comment = true
				}
			}
		}
	default: // SKILL.md, and documents the agent may read as instructions
		lc.code = code
		lc.teaching = !code && teachingRE.MatchString(l)
	}
	return lc
}

// weigh caps a rule's severity by where its match (match, at byte at of
// line l) sits (the severity policy of REVIEW.md): high only for
// behaviour in executable content or agent instructions; at most medium
// in reference documents, comments and quoted payloads in prose that
// explains an attack; at most low when the match is itself a detection
// pattern. Hidden text weighs the same everywhere.
//
// The downgrades look at the match, not only at its line, so that words
// or escapes added elsewhere on a line do not excuse a command.
func weigh(class int, sev string, lc lineCtx, l string, at int, match string) string {
	switch class {
	case classHidden:
		return sev
	case classSecret:
		if lc.place == placeReference {
			return capAt(sev, Medium)
		}
		return sev
	case classInjection:
		// Quoted or in a code block, an override phrase is an example of
		// an injection; said plainly in SKILL.md, or in a document it
		// sends the agent to, it is one. Scripts only carry it as data.
		switch {
		case lc.place == placeScript, lc.code, insideQuotes(l, at),
			lc.place == placeReference && lc.teaching:
			return capAt(sev, Medium)
		}
		return sev
	}
	// In SKILL.md prose, a payload in quotes or in a table row, on a line
	// that explains or warns, is an example of the attack.
	quoted := lc.place == placeInstructions && !lc.code && (insideQuotes(l, at) || strings.HasPrefix(strings.TrimSpace(l), "|"))
	switch {
	case patternRE.MatchString(match):
		return capAt(sev, Low)
	case lc.place == placeReference, lc.comment,
		quoted && (lc.teaching || negationRE.MatchString(l)):
		return capAt(sev, Medium)
	}
	return sev
}

// insideQuotes reports whether byte offset at of l is inside a quoted
// span or code span: "Ignore previous instructions" in quotes is an
// example of an injection, not one.
func insideQuotes(l string, at int) bool {
	if at < 0 || at > len(l) {
		return false
	}
	before, after := l[:at], l[at:]
	for _, q := range []string{`"`, "`"} {
		if strings.Count(before, q)%2 == 1 && strings.Contains(after, q) {
			return true
		}
	}
	return strings.Count(before, "“") > strings.Count(before, "”") && strings.Contains(after, "”")
}

func capAt(sev, most string) string {
	if severityRank[sev] > severityRank[most] {
		return most
	}
	return sev
}
