package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/fileserve"
	"github.com/skillvault/skillvault/internal/gitserve"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/store"
)

// Agents are the --agent values of `skillvault install`, with where each
// agent looks for skills.
var agents = []struct{ ID, Name, Dir string }{
	{"claude", "Claude Code", "~/.claude/skills/"},
	{"codex", "Codex", "~/.agents/skills/"},
	{"gemini", "Gemini CLI", "~/.agents/skills/"},
	{"copilot", "GitHub Copilot", "~/.agents/skills/"},
	{"opencode", "OpenCode", "~/.agents/skills/"},
	{"cursor", "Cursor", "~/.cursor/skills/"},
}

func (wb *Web) home(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	ctx := r.Context()
	lists := map[string][]store.Skill{}
	for _, sort := range []string{"updated", "uses", "rating"} {
		sk, err := wb.svc.Skills(ctx, c.A, store.SkillFilter{Status: "published", Sort: sort, Limit: 6})
		if err != nil {
			return err
		}
		if sort == "rating" {
			sk = slices.DeleteFunc(sk, func(s store.Skill) bool { return s.RatingCount == 0 })
		}
		if sort == "uses" {
			sk = slices.DeleteFunc(sk, func(s store.Skill) bool { return s.Uses() == 0 })
		}
		lists[sort] = sk
	}
	mine, err := wb.svc.Skills(ctx, c.A, store.SkillFilter{Author: c.A.Email, Limit: 50})
	if err != nil {
		return err
	}
	drafts := slices.DeleteFunc(mine, func(s store.Skill) bool { return s.Status == "published" || s.Status == "archived" })
	wb.render(w, r, c, http.StatusOK, "home", "Skills", map[string]any{
		"Recent": lists["updated"], "Used": lists["uses"], "Rated": lists["rating"], "Drafts": drafts})
	return nil
}

// facet is a filter value with how many results carry it.
type facet struct {
	Value string
	Count int
	On    bool
}

func facets(hits []hit, cur string, of func(hit) []string) []facet {
	n := map[string]int{}
	for _, h := range hits {
		for _, v := range of(h) {
			if v != "" {
				n[v]++
			}
		}
	}
	out := make([]facet, 0, len(n))
	for v, k := range n {
		out = append(out, facet{v, k, v == cur})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Value < out[j].Value
	})
	if len(out) > 15 {
		out = out[:15]
	}
	return out
}

// hit is one search result as the page shows it.
type hit struct {
	Name, Title, Description, Category, Status string
	Tags                                       []string
	RatingAverage                              float64
	RatingCount                                int
	Uses                                       int64
	Snippet                                    template.HTML
	Why                                        []string // why it matched, behind a disclosure
	UpdatedAt                                  time.Time
}

func skillHit(s store.Skill) hit {
	return hit{Name: s.Name, Title: s.Title, Description: s.Description, Category: s.Category, Status: s.Status, Tags: s.Tags,
		RatingAverage: s.RatingAverage, RatingCount: s.RatingCount, Uses: s.Uses(), UpdatedAt: s.UpdatedAt}
}

// snippet escapes a search snippet, keeping only its <mark> highlights.
func snippet(s string) template.HTML {
	e := template.HTMLEscapeString(s)
	e = strings.ReplaceAll(e, "&lt;mark&gt;", "<mark>")
	e = strings.ReplaceAll(e, "&lt;/mark&gt;", "</mark>")
	return template.HTML(e)
}

func (wb *Web) search(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	q := r.URL.Query()
	text, category, tag, mode := strings.TrimSpace(q.Get("q")), q.Get("category"), q.Get("tag"), q.Get("mode")
	text = service.CutText(text, 500)
	switch mode {
	case "keyword", "semantic":
	default:
		mode = "hybrid"
	}
	var hits, closest []hit
	if text == "" {
		all, err := wb.svc.Skills(r.Context(), c.A, store.SkillFilter{Sort: "updated", Limit: 500})
		if err != nil {
			return err
		}
		for _, s := range all {
			if s.Status != "archived" {
				hits = append(hits, skillHit(s))
			}
		}
	} else {
		res, err := wb.svc.SearchWithClosest(r.Context(), c.A, service.SearchQuery{Text: text, Mode: mode, Limit: 100})
		if err != nil {
			return err
		}
		hits = searchHits(res.Hits)
		closest = searchHits(res.Closest)
	}
	// Facets count the matches of the query, before the filters narrow them.
	cats := facets(hits, category, func(h hit) []string { return []string{h.Category} })
	tags := facets(hits, tag, func(h hit) []string { return h.Tags })
	hits = slices.DeleteFunc(hits, func(h hit) bool {
		return (category != "" && h.Category != category) || (tag != "" && !slices.Contains(h.Tags, tag))
	})
	if len(hits) > 50 {
		hits = hits[:50]
	}
	title := "Search"
	if text != "" {
		title = "Search: " + text
	}
	wb.render(w, r, c, http.StatusOK, "search", title, map[string]any{"Q": text, "Category": category, "Tag": tag, "Mode": mode,
		"Results": hits, "Closest": closest, "Categories": cats, "Tags": tags})
	return nil
}

func searchHits(res []service.SearchHit) []hit {
	var hits []hit
	for _, h := range res {
		hits = append(hits, hit{Name: h.Name, Title: h.Title, Description: h.Description, Category: h.Category, Status: h.Status,
			Tags: h.Tags, RatingAverage: h.RatingAverage, RatingCount: h.RatingCount, Uses: h.Uses, Snippet: snippet(h.Snippet),
			Why: why(h.Matched, h.Score)})
	}
	return hits
}

// matchedList reads the service's "keyword #3 (0.055)" reasons.
var matchedList = regexp.MustCompile(`^(keyword|semantic) #(\d+) \(([-\d.]+)\)$`)

// why words a hit's reasons for a reader, in the names the mode menu
// uses: which list found it, at what place and score, and the combined
// score. The page shows them only when asked for (issue 19).
func why(matched []string, score float64) []string {
	var out []string
	for _, m := range matched {
		p := matchedList.FindStringSubmatch(m)
		switch {
		case p == nil:
			out = append(out, m)
		case p[1] == "keyword":
			out = append(out, "Exact words: #"+p[2]+" ("+p[3]+")")
		default:
			out = append(out, "Similar meaning: #"+p[2]+" ("+p[3]+")")
		}
	}
	if len(out) > 0 {
		out = append(out, fmt.Sprintf("Overall score %.3f", score))
	}
	return out
}

// fmField is one frontmatter field shown on the skill page.
type fmField struct{ Key, Value string }

func frontmatterFields(raw json.RawMessage) []fmField {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	var out []fmField
	for k, v := range m {
		if k == "name" || k == "description" || v == nil {
			continue
		}
		var s string
		switch x := v.(type) {
		case string:
			s = x
		default:
			b, _ := json.Marshal(x)
			s = string(b)
		}
		if s == "" || s == "{}" || s == "[]" {
			continue
		}
		out = append(out, fmField{k, s})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func (wb *Web) baseURL(r *http.Request) string {
	if wb.cfg.BaseURL != "" {
		return strings.TrimRight(wb.cfg.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (wb *Web) mcpConfig(r *http.Request) string {
	cfg := map[string]any{"mcpServers": map[string]any{"skillvault": map[string]any{
		"type": "http", "url": wb.baseURL(r) + "/mcp", "headers": map[string]string{"Authorization": "Bearer YOUR_API_KEY"}}}}
	b, _ := json.MarshalIndent(cfg, "", "  ")
	return string(b)
}

func (wb *Web) skillPage(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	ctx := r.Context()
	name := r.PathValue("name")
	sk, err := wb.svc.Skill(ctx, c.A, name)
	if err != nil {
		return err
	}
	v, err := wb.svc.Version(ctx, c.A, name, "latest")
	if err != nil {
		return err
	}
	data := map[string]any{"Skill": sk, "Version": v, "Fields": frontmatterFields(v.Frontmatter),
		"CanEdit": sk.AuthorID == c.A.UserID || c.admin(), "Agents": agents, "MCP": wb.mcpConfig(r), "Base": wb.baseURL(r),
		"Git": gitserve.InstallCommands(gitserve.RepoURL(wb.baseURL(r), sk.Visibility == "public"), c.S.TenantSlug, sk.Name)}
	f, _, err := wb.svc.File(ctx, c.A, name, "latest", "SKILL.md")
	switch {
	case err == nil:
		_, body, perr := bundle.ParseSkillMD(f.Data)
		if perr != nil {
			body = string(f.Data)
		}
		data["Body"] = renderMarkdown([]byte(body), "/skills/"+name+"/files/")
	case service.KindOf(err) == service.Forbidden:
		data["NoDownload"] = true
	default:
		return err
	}
	if data["Ratings"], err = wb.svc.Ratings(ctx, c.A, name, nil, 20); err != nil {
		return err
	}
	if data["Versions"], err = wb.svc.Versions(ctx, c.A, name, 0, 10); err != nil {
		return err
	}
	if data["Reviews"], err = wb.reviewViews(ctx, c, name, v.Number); err != nil {
		return err
	}
	q := r.URL.Query()
	if n := q.Get("published"); n != "" {
		data["Published"] = n
		var dups []string
		for _, d := range strings.Split(q.Get("similar"), ",") {
			if bundle.ValidateName(d) == nil {
				dups = append(dups, d)
			}
		}
		data["Similar"] = dups
	}
	to := time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	st, err := wb.svc.SkillStats(ctx, c.A, name, to.Add(-30*24*time.Hour), to)
	if err != nil {
		return err
	}
	series := dailySeries(st.Daily, to.Add(-30*24*time.Hour), 30)
	data["Stats"], data["Series"] = st, series
	data["Chart"] = barChart(series, "Uses per day, last 30 days", false)
	data["Fork"] = name + "-fork"
	data["MyStars"] = 0
	for _, rt := range data["Ratings"].([]store.Rating) {
		if rt.UserID == c.A.UserID {
			data["MyStars"], data["MyComment"] = rt.Stars, rt.Comment
		}
	}
	// A page view is counted as a view (not a use); failing to count it
	// must not fail the page.
	if _, err := wb.svc.RecordUsage(ctx, c.A, []service.UsageInput{{Skill: name, Version: v.Number, Event: "view", Source: "web"}}); err != nil {
		wb.log.Warn("could not record a view", "skill", name, "err", err)
	}
	wb.render(w, r, c, http.StatusOK, "skill", sk.Name, data)
	return nil
}

// fileRoutes are the UI's routes that serve bundle bytes (see fileserve).
var _ = fileserve.Declare(
	fileserve.Route{Pattern: "GET /skills/{name}/files/{path...}", Auth: "session",
		Path: func(skill, file string) string {
			return "/skills/" + skill + "/files/" + fileserve.EscapePath(file) + "?raw=1"
		}},
	fileserve.Route{Pattern: "GET /skills/{name}/download", Auth: "session", Archive: true,
		Path: func(skill, _ string) string { return "/skills/" + skill + "/download" }},
)

func versionRef(r *http.Request) string {
	if v := r.URL.Query().Get("version"); v != "" {
		return v
	}
	return "latest"
}

func (wb *Web) filePage(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	name, p := r.PathValue("name"), r.PathValue("path")
	ref := versionRef(r)
	f, v, err := wb.svc.File(r.Context(), c.A, name, ref, p)
	if err != nil {
		return err
	}
	if r.URL.Query().Get("raw") == "1" {
		fileserve.File(w, r, f.Path, f.Data, "sha256:"+f.SHA256)
		return nil
	}
	vd, err := wb.svc.Version(r.Context(), c.A, name, strconv.Itoa(v.Number))
	if err != nil {
		return err
	}
	data := map[string]any{"Name": name, "Path": p, "File": f.FileEntry, "Version": vd, "Ref": ref}
	if fileserve.IsText(f.Data) && len(f.Data) <= 512<<10 {
		data["Code"] = highlight(p, string(f.Data))
	}
	if strings.HasSuffix(strings.ToLower(p), ".md") && fileserve.IsText(f.Data) && r.URL.Query().Get("source") != "1" {
		body := f.Data
		if p == "SKILL.md" {
			if _, b, err := bundle.ParseSkillMD(f.Data); err == nil {
				body = []byte(b)
			}
		}
		data["Markdown"] = renderMarkdown(body, "/skills/"+name+"/files/"+pathDir(p))
	}
	wb.render(w, r, c, http.StatusOK, "file", p+" · "+name, data)
	return nil
}

func pathDir(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i+1]
	}
	return ""
}

func (wb *Web) versionsPage(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	name := r.PathValue("name")
	sk, err := wb.svc.Skill(r.Context(), c.A, name)
	if err != nil {
		return err
	}
	vs, err := wb.svc.Versions(r.Context(), c.A, name, 0, 200)
	if err != nil {
		return err
	}
	wb.render(w, r, c, http.StatusOK, "versions", "Versions · "+name, map[string]any{"Skill": sk, "Versions": vs})
	return nil
}

// fileDiff is one file's change between two versions.
type fileDiff struct {
	Path    string
	Status  string // added, removed, changed, same
	Lines   []diffLine
	Note    string
	Added   int
	Removed int
}

func (wb *Web) diffPage(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	name := r.PathValue("name")
	q := r.URL.Query()
	sk, err := wb.svc.Skill(r.Context(), c.A, name)
	if err != nil {
		return err
	}
	from, to := q.Get("from"), q.Get("to")
	if to == "" {
		to = strconv.Itoa(sk.LatestVersion)
	}
	if from == "" {
		n, _ := strconv.Atoi(to)
		from = strconv.Itoa(max(n-1, 1))
	}
	a, va, err := wb.svc.Bundle(r.Context(), c.A, name, from)
	if err != nil {
		return err
	}
	b, vb, err := wb.svc.Bundle(r.Context(), c.A, name, to)
	if err != nil {
		return err
	}
	files := diffBundles(a, b)
	vs, err := wb.svc.Versions(r.Context(), c.A, name, 0, 200)
	if err != nil {
		return err
	}
	wb.render(w, r, c, http.StatusOK, "diff", fmt.Sprintf("%s: version %d → %d", name, va.Number, vb.Number), map[string]any{
		"Skill": sk, "From": va, "To": vb, "Files": files, "Versions": vs})
	return nil
}

func diffBundles(a, b []bundle.File) []fileDiff {
	am, bm := map[string][]byte{}, map[string][]byte{}
	var paths []string
	for _, f := range a {
		am[f.Path] = f.Data
		paths = append(paths, f.Path)
	}
	for _, f := range b {
		bm[f.Path] = f.Data
		if _, ok := am[f.Path]; !ok {
			paths = append(paths, f.Path)
		}
	}
	sort.Strings(paths)
	var out []fileDiff
	for _, p := range paths {
		x, inA := am[p]
		y, inB := bm[p]
		d := fileDiff{Path: p}
		switch {
		case !inA:
			d.Status = "added"
		case !inB:
			d.Status = "removed"
		case bytes.Equal(x, y):
			d.Status = "same"
		default:
			d.Status = "changed"
		}
		if d.Status != "same" {
			if !fileserve.IsText(x) || !fileserve.IsText(y) {
				d.Note = "binary file"
			} else {
				d.Lines, d.Note = lineDiff(string(x), string(y))
				for _, l := range d.Lines {
					switch l.Op {
					case "+":
						d.Added++
					case "-":
						d.Removed++
					}
				}
			}
		}
		out = append(out, d)
	}
	return out
}

func (wb *Web) download(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	name := r.PathValue("name")
	data, v, err := wb.svc.DownloadArchive(r.Context(), c.A, name, versionRef(r), bundle.Zip)
	if err != nil {
		return err
	}
	if _, err := wb.svc.RecordUsage(r.Context(), c.A, []service.UsageInput{{Skill: name, Version: v.Number, Event: "download", Source: "web"}}); err != nil {
		wb.log.Warn("could not record a download", "skill", name, "err", err)
	}
	fileserve.Archive(w, r, fmt.Sprintf("%s-%d.zip", name, v.Number), fileserve.TypeZip, data, v.Digest)
	return nil
}

func (wb *Web) rate(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	name := r.PathValue("name")
	stars, err := strconv.Atoi(r.PostFormValue("stars"))
	if err != nil {
		return &service.Error{Kind: service.Invalid, Msg: "choose from one to five stars"}
	}
	if _, err := wb.svc.Rate(r.Context(), c.A, name, stars, r.PostFormValue("comment")); err != nil {
		return err
	}
	http.Redirect(w, r, "/skills/"+name+"?rated=1#ratings", http.StatusSeeOther)
	return nil
}

func (wb *Web) fork(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	p, err := wb.svc.Fork(r.Context(), c.A, r.PathValue("name"), strings.TrimSpace(r.PostFormValue("new_name")))
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/skills/"+p.Skill.Name+"?forked=1", http.StatusSeeOther)
	return nil
}

func (wb *Web) publishSkill(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	sk, _, err := wb.svc.Publish(r.Context(), c.A, r.PathValue("name"))
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/skills/"+sk.Name, http.StatusSeeOther)
	return nil
}

func (wb *Web) mySkills(w http.ResponseWriter, r *http.Request, c *reqCtx) error {
	sk, err := wb.svc.Skills(r.Context(), c.A, store.SkillFilter{Author: c.A.Email, Limit: 500})
	if err != nil {
		return err
	}
	wb.render(w, r, c, http.StatusOK, "my_skills", "My skills", map[string]any{"Skills": sk})
	return nil
}
