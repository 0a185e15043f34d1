package web

import (
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/service"
)

const hostileSkill = `---
name: hostile-skill
description: A skill whose Markdown tries to run script in the reader's browser.
---
# Hostile <script>window.__pwned = "script"</script>

<img src="x" onerror="window.__pwned = 'onerror'">

<iframe src="javascript:window.top.__pwned='iframe'"></iframe>

<a href="javascript:window.__pwned='rawlink'" id="rawlink">raw link</a>

[click me](javascript:window.__pwned='mdlink')

[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)

<style>body { display: none }</style>

<div onmouseover="window.__pwned='hover'" style="position:fixed;inset:0">cover</div>

<svg><script>window.__pwned='svg'</script></svg>

See [the notes](references/notes.md) for more.
`

// TestBrowserSkillMarkdownIsInert renders a bundle full of script, event
// handlers, javascript: links and raw HTML, and checks in Chromium that
// nothing of it runs or survives as markup.
func TestBrowserSkillMarkdownIsInert(t *testing.T) {
	e := start(t)
	a := e.tenant("acme")
	e.publishFiles(a, a.Member, "member", map[string]string{
		"SKILL.md":            hostileSkill,
		"references/notes.md": "# Notes\n<script>window.__pwned='notes'</script>\n[x](javascript:window.__pwned='notes-link')\n",
	}, service.PublishOptions{})

	// The HTML the server sends carries none of it.
	h := e.client()
	h.signIn(e.loginLink(a, a.Admin))
	for _, path := range []string{"/skills/hostile-skill", "/skills/hostile-skill/files/references/notes.md", "/skills/hostile-skill/files/SKILL.md"} {
		body := h.get(path).Body
		main := body[strings.Index(body, "<main"):]
		for _, bad := range []string{"<script", "onerror", "onmouseover", "javascript:", "<iframe", "<style", "data:text/html"} {
			if strings.Contains(strings.ToLower(main), bad) {
				i := strings.Index(strings.ToLower(main), bad)
				t.Errorf("%s contains %q: …%s…", path, bad, main[max(0, i-80):min(len(main), i+80)])
			}
		}
	}

	b := e.tab(t, 1280)
	b.ssoSignIn("member@acme.example")
	b.open("/skills/hostile-skill")
	b.sees(".prose", "Hostile", "raw link", "click me")
	b.eval(`document.querySelectorAll('.prose a:not([href^="/"])').forEach(function (a) { a.click(); })`)
	b.eval(`document.querySelectorAll('.prose *').forEach(function (el) { el.dispatchEvent(new MouseEvent('mouseover', {bubbles: true})); })`)
	if v := b.eval(`window.__pwned === undefined ? "" : String(window.__pwned)`); v != "" {
		t.Fatalf("skill content ran script: %v", v)
	}
	checks := map[string]string{
		"script, iframe, style or object elements": `document.querySelectorAll('.prose script, .prose iframe, .prose style, .prose object, .prose embed').length`,
		"event handler attributes":                 `Array.from(document.querySelectorAll('.prose *')).filter(function (el) { return Array.from(el.attributes).some(function (a) { return a.name.indexOf('on') === 0 || a.name === 'style'; }); }).length`,
		"javascript: or data: links":               `Array.from(document.querySelectorAll('.prose [href], .prose [src]')).filter(function (el) { var v = (el.getAttribute('href') || el.getAttribute('src') || '').trim().toLowerCase(); return v.indexOf('javascript:') === 0 || v.indexOf('data:') === 0; }).length`,
	}
	for what, js := range checks {
		if n := b.eval(js).(float64); n != 0 {
			t.Errorf("the rendered SKILL.md has %v %s", n, what)
		}
	}
	if v := b.eval(`getComputedStyle(document.body).display`); v == "none" {
		t.Error("a <style> of the skill hid the page")
	}
	// Relative links lead into the skill's file browser.
	if href := b.eval(`document.querySelector('.prose a[href$="notes.md"]').getAttribute('href')`); href != "/skills/hostile-skill/files/references/notes.md" {
		t.Errorf("relative link resolved to %v", href)
	}
	b.open("/skills/hostile-skill/files/references/notes.md")
	b.sees(".prose", "Notes")
	if v := b.eval(`window.__pwned === undefined ? "" : String(window.__pwned)`); v != "" {
		t.Fatalf("a reference file ran script: %v", v)
	}
}
