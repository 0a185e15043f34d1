package fileserve

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestContentTypeIgnoresNames: the type depends on the bytes, so a name a
// browser would run (.html, .svg, .js …) cannot choose it.
func TestContentTypeIgnoresNames(t *testing.T) {
	page := []byte("<html><script>alert(1)</script></html>")
	for _, p := range []string{"a.html", "a.xhtml", "a.xht", "a.svg", "a.js", "a.mjs", "x/SKILL.md.html", "README.md", "noext"} {
		if ct := ContentType(p, page); ct != TypeText {
			t.Errorf("%s as text: %s, want %s", p, ct, TypeText)
		}
		if ct := ContentType(p, append([]byte{0}, page...)); ct != TypeBinary {
			t.Errorf("%s with a NUL: %s, want %s", p, ct, TypeBinary)
		}
	}
	if ct := ContentType("SKILL.md", []byte("# hi\n")); ct != TypeMarkdown {
		t.Errorf("SKILL.md: %s", ct)
	}
	if ct := ContentType("SKILL.md", []byte{0xff, 0xfe}); ct != TypeBinary {
		t.Errorf("SKILL.md that is not UTF-8: %s", ct)
	}
}

func TestAttachmentNamesAreSafe(t *testing.T) {
	for name, want := range map[string]string{
		"run.bin":            `attachment; filename=run.bin`,
		"dir/evil\".bin":     `attachment; filename="evil\".bin"`,
		`..\..\x.exe`:        `attachment; filename=x.exe`,
		"a\r\nSet-Cookie: x": `attachment; filename="a__Set-Cookie: x"`,
		"..":                 `attachment; filename=file`,
		"é.bin":              `attachment; filename*=utf-8''%C3%A9.bin`,
	} {
		if got := Attachment(name); got != want {
			t.Errorf("Attachment(%q) = %s, want %s", name, got, want)
		}
	}
}

// TestUndeclaredRouteIsRefused: a route must be declared to serve bundle
// bytes, so that the test enumerating the declared routes covers it.
func TestUndeclaredRouteIsRefused(t *testing.T) {
	mux := http.NewServeMux()
	Declare(Route{Pattern: "GET /declared/{path...}", Auth: "anonymous", Path: func(_, f string) string { return "/declared/" + f }})
	h := func(w http.ResponseWriter, r *http.Request) {
		File(w, r, r.PathValue("path"), []byte("hello"), "sha256:x")
	}
	mux.HandleFunc("GET /declared/{path...}", h)
	mux.HandleFunc("GET /undeclared/{path...}", h)

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/declared/a.html", nil))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != TypeText || rec.Header().Get("Content-Security-Policy") != CSP ||
		rec.Header().Get("X-Content-Type-Options") != "nosniff" || rec.Header().Get("ETag") != `"sha256:x"` {
		t.Errorf("declared route: %d %v", rec.Code, rec.Header())
	}
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/undeclared/a.html", nil))
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "hello") {
		t.Errorf("undeclared route served: %d %q", rec.Code, rec.Body)
	}
}
