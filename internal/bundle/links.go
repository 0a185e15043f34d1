package bundle

import (
	"net/url"
	"path"
	"regexp"
	"strings"
)

// mdLink matches an inline Markdown link or image target: [text](target)
// or ![alt](target "title").
var mdLink = regexp.MustCompile(`!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)

// LinkProblems reports the relative links of a bundle's Markdown files
// that point at no file of the bundle, or out of it. An agent that follows
// such a link finds nothing, or reads whatever happens to lie beside the
// installed skill. Links in code (fenced blocks, `inline`) are examples,
// not links, and are not checked.
func LinkProblems(files []File) []Problem {
	have := map[string]bool{}
	for _, f := range files {
		have[f.Path] = true
		for d := path.Dir(f.Path); d != "."; d = path.Dir(d) {
			have[d] = true
		}
	}
	var ps []Problem
	for _, f := range files {
		if !strings.HasSuffix(strings.ToLower(f.Path), ".md") {
			continue
		}
		fenced := false
		for i, line := range strings.Split(string(f.Data), "\n") {
			if t := strings.TrimSpace(line); strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
				fenced = !fenced
				continue
			}
			if fenced {
				continue
			}
			for _, m := range mdLink.FindAllStringSubmatch(stripInlineCode(line), -1) {
				if msg := checkLink(f.Path, m[1], have); msg != "" {
					ps = append(ps, Problem{File: f.Path, Line: i + 1, Msg: msg})
				}
			}
		}
	}
	return ps
}

// checkLink returns what is wrong with target, a link in the file at
// from, or "" when it is fine or not ours to check (another site, an
// anchor of the same page).
func checkLink(from, target string, have map[string]bool) string {
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Path == "" {
		return ""
	}
	p, err := url.PathUnescape(u.Path)
	if err != nil {
		p = u.Path
	}
	if strings.HasPrefix(p, "/") {
		return "link " + target + " is an absolute path: it leaves the skill's folder once installed; link relative to this file"
	}
	joined := path.Join(path.Dir(from), p)
	if joined == ".." || strings.HasPrefix(joined, "../") {
		return "link " + target + " leaves the skill's folder: an installed skill has only its own files"
	}
	if !have[joined] && joined != "." {
		return "link " + target + " points at " + joined + ", which is not in the skill"
	}
	return ""
}

// stripInlineCode blanks `code spans`, whose contents are text.
func stripInlineCode(line string) string {
	var b strings.Builder
	in := false
	for _, r := range line {
		if r == '`' {
			in = !in
			b.WriteRune(' ')
			continue
		}
		if in {
			b.WriteRune(' ')
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}
