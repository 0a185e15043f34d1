package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// pageTemplate is the layout with one page's blocks.
type pageTemplate struct{ t *template.Template }

var funcs = template.FuncMap{
	"since": since,
	"date":  func(t time.Time) string { return t.UTC().Format(dayFormat + ", 15:04 UTC") },
	"datep": func(t *time.Time) string {
		if t == nil {
			return "never"
		}
		return t.UTC().Format(dayFormat)
	},
	"status":   statusWord,
	"audience": audience,
	"noun":     noun,
	"stars": func(avg float64) string {
		n := int(avg + 0.5)
		return strings.Repeat("★", n) + strings.Repeat("☆", 5-n)
	},
	"starsn": func(n int) string {
		n = max(0, min(n, 5))
		return strings.Repeat("★", n) + strings.Repeat("☆", 5-n)
	},
	"fixed1": func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) },
	"size":   humanSize,
	"join":   strings.Join,
	"seq": func(n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = n - i
		}
		return out
	},
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
	"plural":    plural,
	"plural64":  func(n int64, word string) string { return plural(int(n), word) },
	"people":    people,
	"hasPrefix": strings.HasPrefix,
	"initial": func(email string) string {
		if email == "" {
			return "?"
		}
		return strings.ToUpper(email[:1])
	},
	"deref": func(p *int) int {
		if p == nil {
			return 0
		}
		return *p
	},
}

// parsePages builds one template per page file: the layout plus the page.
func parsePages() map[string]*pageTemplate {
	base := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*pageTemplate{}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		t := template.Must(template.Must(base.Clone()).ParseFS(templateFS, n))
		out[name] = &pageTemplate{t: t}
	}
	return out
}

// Page is what every template receives.
type Page struct {
	Title    string
	Signed   bool
	Email    string
	Admin    bool
	Tenant   string
	CSRF     string
	Path     string
	Query    string // the search box's text
	OIDCName string
	Data     any
}

// render writes a page. Templates run into a buffer so a template error is
// a clean 500, never half a page.
func (wb *Web) render(w http.ResponseWriter, r *http.Request, c *reqCtx, status int, page, title string, data any) {
	t, ok := wb.pages[page]
	if !ok {
		panic("web: no template " + page)
	}
	p := Page{Title: title, Path: r.URL.Path, Data: data, Query: r.URL.Query().Get("q")}
	if c != nil {
		p.Signed, p.Email, p.Admin, p.Tenant, p.CSRF = true, c.A.Email, c.admin(), c.S.TenantName, c.S.CSRF
	}
	var buf bytes.Buffer
	if err := t.t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		wb.log.Error("template failed", "page", page, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if w.Header().Get("Cache-Control") == "" {
		w.Header().Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// dayFormat is how every page writes a day (since falls back to it too).
const dayFormat = "2 Jan 2006"

// statusWord says a skill's status as people say it.
func statusWord(status string) string {
	return strings.ReplaceAll(status, "_", " ")
}

// audience says who can see a skill, in the words of the person looking
// (viewer): admins also see other members' private skills.
func audience(visibility, author, viewer, tenant string) string {
	switch visibility {
	case "public":
		return "visible to anyone"
	case "private":
		if author == viewer {
			return "visible only to you"
		}
		return "visible only to its author"
	}
	return "visible to everyone in " + tenant
}

// noun is the word for n things without the number, for pages that set the
// number apart ("<strong>1</strong> install"). n is any integer type.
func noun(n any, word string) string {
	var one bool
	switch v := n.(type) {
	case int:
		one = v == 1
	case int64:
		one = v == 1
	case int32:
		one = v == 1
	}
	if one {
		return word
	}
	return word + "s"
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

func people(n int64) string {
	if n == 1 {
		return "1 person"
	}
	return strconv.FormatInt(n, 10) + " people"
}

func humanSize(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}
