package service

import (
	"regexp"
	"strings"
)

// Snippets are cut by the database from a skill's description and
// Markdown body, with the query's words wrapped in <mark> and </mark>.
// Shown as they are, they read "# Frontend Design ```python **Identify":
// PlainSnippet turns a snippet into plain text, keeping the highlights.
var (
	// A fence line opens or closes a code block: the line is dropped,
	// the code itself stays as text.
	mdFence = regexp.MustCompile("^\\s*(```|~~~)")
	// Line prefixes: headings, quotes, list bullets and numbers.
	mdLinePrefix = regexp.MustCompile(`^\s*(#{1,6}\s+|>\s*|[-*+]\s+(\[[ xX]\]\s+)?|\d+[.)]\s+)+`)
	// A table's separator row.
	mdTableRule = regexp.MustCompile(`^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$`)
	// Images and links keep their text: ![alt](url), [text](url).
	mdLink = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
	// Emphasis and code marks: **, __, *, ~~ and backticks. A lone _
	// stays: it is part of snake_case names far more often than markup.
	mdInline = regexp.MustCompile("\\*+|__+|~~|`+")
	// Heading marks met inside a line: fragments are joined across lines.
	mdHeading = regexp.MustCompile(`(^|\s)#{1,6}\s`)
	mdSpace   = regexp.MustCompile(`\s+`)
)

// PlainSnippet strips Markdown syntax from a highlighted snippet and
// folds it onto one line.
func PlainSnippet(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	for _, l := range lines {
		if mdFence.MatchString(l) || mdTableRule.MatchString(l) {
			continue
		}
		l = mdLinePrefix.ReplaceAllString(l, "")
		l = strings.ReplaceAll(l, "|", " ")
		out = append(out, l)
	}
	s = strings.Join(out, " ")
	s = mdLink.ReplaceAllString(s, "$1")
	s = mdInline.ReplaceAllString(s, "")
	s = mdHeading.ReplaceAllString(s, "$1")
	return strings.TrimSpace(mdSpace.ReplaceAllString(s, " "))
}
