package web

import (
	"bytes"
	"html/template"
	"net/url"
	"strings"

	"github.com/alecthomas/chroma/v2"
	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/alecthomas/chroma/v2/lexers"
	"github.com/alecthomas/chroma/v2/styles"
	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// Skill content is untrusted. Markdown is rendered without raw HTML
// (goldmark drops it) and the result is sanitised by an allow-list
// (bluemonday), so neither script, event handlers, javascript: links nor
// styles reach the page; the CSP forbids inline script on top.
var sanitizer = func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowAttrs("class").Matching(bluemonday.SpaceSeparatedTokens).OnElements("code", "pre", "span")
	p.RequireNoFollowOnLinks(true)
	p.AllowURLSchemes("http", "https", "mailto")
	return p
}()

// relLinks makes relative links and images of a skill point into its file
// browser, and moves headings one level down under the page's own <h1>.
type relLinks struct{ prefix string }

func (t relLinks) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch x := n.(type) {
		case *ast.Link:
			x.Destination = t.rewrite(x.Destination)
		case *ast.Heading:
			// The page's <h1> is the skill's (or file's) name: a
			// document's headings sit one level below it.
			x.Level = min(x.Level+1, 6)
		case *ast.Image:
			// Images would need their bytes served inline; show the link
			// target through the file browser instead.
			x.Destination = t.rewrite(x.Destination)
		}
		return ast.WalkContinue, nil
	})
}

func (t relLinks) rewrite(dest []byte) []byte {
	d := string(dest)
	u, err := url.Parse(d)
	if err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(d, "/") || strings.HasPrefix(d, "#") || d == "" {
		return dest
	}
	return []byte(t.prefix + strings.TrimPrefix(u.Path, "./") + fragment(u))
}

func fragment(u *url.URL) string {
	if u.Fragment == "" {
		return ""
	}
	return "#" + u.Fragment
}

// renderMarkdown renders untrusted Markdown to safe HTML; relative links
// are resolved against linkPrefix.
func renderMarkdown(src []byte, linkPrefix string) template.HTML {
	md := goldmark.New(
		goldmark.WithExtensions(extension.GFM),
		goldmark.WithParserOptions(parser.WithAutoHeadingID(),
			parser.WithASTTransformers(util.Prioritized(relLinks{linkPrefix}, 100))),
	)
	var buf bytes.Buffer
	if err := md.Convert(src, &buf); err != nil {
		return template.HTML("<p>" + template.HTMLEscapeString(string(src)) + "</p>")
	}
	return template.HTML(sanitizer.SanitizeBytes(buf.Bytes()))
}

var codeFormatter = chromahtml.New(chromahtml.WithClasses(true), chromahtml.WithLineNumbers(true), chromahtml.LineNumbersInTable(false))

// highlight renders a text file with syntax classes (the styles are the
// file /static/code.css), or escaped plain text when no lexer fits.
func highlight(path, src string) template.HTML {
	lx := lexers.Match(path)
	if lx == nil {
		lx = lexers.Analyse(src)
	}
	if lx == nil {
		lx = lexers.Fallback
	}
	lx = chroma.Coalesce(lx)
	it, err := lx.Tokenise(nil, src)
	if err != nil {
		return template.HTML("<pre>" + template.HTMLEscapeString(src) + "</pre>")
	}
	var buf bytes.Buffer
	if err := codeFormatter.Format(&buf, styles.Get("github"), it); err != nil {
		return template.HTML("<pre>" + template.HTMLEscapeString(src) + "</pre>")
	}
	return template.HTML(buf.String())
}

func highlightCSS() []byte {
	var buf bytes.Buffer
	codeFormatter.WriteCSS(&buf, styles.Get("github"))
	return buf.Bytes()
}
