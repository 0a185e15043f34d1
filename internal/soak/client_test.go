package soak_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/skillvault/skillvault/internal/bundle"
)

// runner drives the soak's clients and collects what went wrong.
type runner struct {
	w      *world
	target int64 // requests in all
	mcp    bool
	// outage: 503 problem+json answers are expected (the database is
	// being stopped); writes that get one have an unknown outcome.
	outage bool

	count       atomic.Int64
	unavailable atomic.Int64
	slowest503  atomic.Int64 // nanoseconds
	mu          sync.Mutex
	fails       []string
	nfails      int
	ops         sync.Map // op name -> *atomic.Int64
	stop        atomic.Bool
}

func (r *runner) failf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.nfails++
	if len(r.fails) < 30 {
		r.fails = append(r.fails, fmt.Sprintf(format, args...))
	}
}

func (r *runner) countOp(name string) {
	v, _ := r.ops.LoadOrStore(name, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

// run starts two clients per tenant (its admin and its member) and waits
// until they made r.target requests between them, or ctx ends.
func (r *runner) run(ctx context.Context, t *testing.T) {
	var wg sync.WaitGroup
	for i, tn := range r.w.tenants {
		for j, u := range []user{tn.admin, tn.member} {
			c := &client{r: r, tn: tn, u: u, rng: rand.New(rand.NewPCG(uint64(i), uint64(j))), own: map[string]*own{},
				hc: &http.Client{Timeout: 60 * time.Second}}
			for _, o := range r.w.tenants {
				if o != tn {
					c.others = append(c.others, o)
				}
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.loop(ctx, t)
			}()
		}
	}
	wg.Wait()
}

// report fails the test for every problem found.
func (r *runner) report(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var ops []string
	r.ops.Range(func(k, v any) bool {
		ops = append(ops, fmt.Sprintf("%s=%d", k, v.(*atomic.Int64).Load()))
		return true
	})
	slices.Sort(ops)
	t.Logf("%d requests (%d answered 503), by operation: %s", r.count.Load(), r.unavailable.Load(), strings.Join(ops, " "))
	for _, f := range r.fails {
		t.Error(f)
	}
	if r.nfails > len(r.fails) {
		t.Errorf("... and %d more failures", r.nfails-len(r.fails))
	}
}

// own is a skill a client created, which only it changes.
type own struct {
	versions   int
	visibility string
}

// client is one user's agent: sequential requests, a model of what it
// created, and the checks of every answer.
type client struct {
	r      *runner
	tn     *tenant
	u      user
	others []*tenant
	rng    *rand.Rand
	hc     *http.Client
	own    map[string]*own
	seq    int
	users  []string // ids of users this admin created
	mcp    *mcp.ClientSession
}

func (c *client) failf(format string, args ...any) {
	c.r.failf("%s (%s): %s", c.tn.marker, c.u.role, fmt.Sprintf(format, args...))
}

func (c *client) pick(list []string) string { return list[c.rng.IntN(len(list))] }

// visible is a skill of the tenant this user sees.
func (c *client) visible() string {
	list := append([]string{}, c.tn.seeds...)
	list = append(list, c.tn.marker+"-member-p-seed")
	if c.u.role == "admin" {
		list = append(list, c.tn.hidden...)
	}
	for n := range c.own {
		list = append(list, n)
	}
	slices.Sort(list) // map order would make runs differ
	return c.pick(list)
}

// foreign is a skill of another tenant, public, tenant-wide or private.
func (c *client) foreign() string {
	o := c.others[c.rng.IntN(len(c.others))]
	return c.pick(append(append([]string{}, o.seeds...), o.hidden...))
}

// unseen is a name the user must get "not found" for: another tenant's,
// or (for the member) the admin's private skill.
func (c *client) unseen() string {
	if c.u.role == "member" && c.rng.IntN(3) == 0 {
		return c.pick(c.tn.hidden)
	}
	return c.foreign()
}

func (c *client) ownName() (string, bool) {
	if len(c.own) == 0 {
		return "", false
	}
	names := make([]string, 0, len(c.own))
	for n := range c.own {
		names = append(names, n)
	}
	slices.Sort(names)
	return c.pick(names), true
}

// do sends one request as the client's user and runs the checks every
// answer must pass: no 5xx (503 only during an outage), no byte of another
// tenant, and for the member none of the admin's private skills. Names in
// sent are removed before the scan: an error may quote what was asked.
func (c *client) do(ctx context.Context, op, method, path string, body any, contentType string, sent ...string) *response {
	c.r.count.Add(1)
	c.r.countOp(op)
	r := send(ctx, c.hc, method, c.r.w.env.url+path, c.u.key, body, contentType)
	if r.err != nil {
		if ctx.Err() == nil {
			c.failf("%s %s: %v", method, path, r.err)
		}
		return r
	}
	c.scan(op, r.body, sent)
	switch {
	case r.status == http.StatusServiceUnavailable && c.r.outage:
		c.r.unavailable.Add(1)
		if d := int64(r.took); d > c.r.slowest503.Load() {
			c.r.slowest503.Store(d)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
			c.failf("%s %s: 503 as %q, want problem+json", method, path, ct)
		}
	case r.status >= 500:
		c.failf("%s %s: %s", method, path, r)
	}
	return r
}

func (c *client) scan(op string, body []byte, sent []string) {
	for _, s := range sent {
		body = bytes.ReplaceAll(body, []byte(s), nil)
	}
	for _, o := range c.others {
		if bytes.Contains(body, []byte(o.marker)) || bytes.Contains(body, []byte(o.id.String())) {
			c.failf("%s: the answer holds data of tenant %s: %.400s", op, o.marker, body)
		}
	}
	if c.u.role == "member" && bytes.Contains(body, []byte(c.tn.marker+"-admin-p-")) {
		c.failf("%s: the member sees the admin's private skill: %.400s", op, body)
	}
}

// unavailable reports an answer that is a 503 during an outage: the
// operation stops there, and its outcome is unknown.
func (c *client) unavailable(r *response) bool {
	return c.r.outage && r.err == nil && r.status == http.StatusServiceUnavailable
}

// want checks the status; false means the caller stops checking.
func (c *client) want(r *response, status int, what string) bool {
	if r.err != nil || c.unavailable(r) || r.status >= 500 {
		return false
	}
	if r.status != status {
		c.failf("%s: status %d, want %d: %.300s", what, r.status, status, r.body)
		return false
	}
	return true
}

// names checks a list of skills: all of this tenant.
func (c *client) names(what string, r *response) []string {
	var page struct {
		Items []struct {
			Name string `json:"name"`
		} `json:"items"`
	}
	if err := r.json(&page); err != nil {
		c.failf("%s: %v: %.200s", what, err, r.body)
		return nil
	}
	var out []string
	for _, it := range page.Items {
		if !strings.HasPrefix(it.Name, c.tn.marker+"-") {
			c.failf("%s lists %q, which is not of this tenant", what, it.Name)
		}
		out = append(out, it.Name)
	}
	return out
}

type op struct {
	name   string
	weight int
	fn     func(c *client, ctx context.Context)
}

var ops []op

func init() {
	ops = append(restReads, restWrites...)
	ops = append(ops, mcpOps...)
}

func (c *client) loop(ctx context.Context, t *testing.T) {
	total := 0
	for _, o := range ops {
		if o.name[:4] != "mcp " || c.r.mcp {
			total += o.weight
		}
	}
	for c.r.count.Load() < c.r.target && ctx.Err() == nil && !c.r.stop.Load() {
		n := c.rng.IntN(total)
		for _, o := range ops {
			if o.name[:4] == "mcp " && !c.r.mcp {
				continue
			}
			if n < o.weight {
				if o.name[:4] == "mcp " && c.mcp == nil {
					if !c.connectMCP(ctx) {
						break
					}
				}
				o.fn(c, ctx)
				break
			}
			n -= o.weight
		}
	}
	if c.mcp != nil {
		c.mcp.Close()
	}
}

// restReads are every GET of the REST API.
var restReads = []op{
	{"GET /me", 3, func(c *client, ctx context.Context) {
		r := c.do(ctx, "me", "GET", "/api/v1/me", nil, "")
		var me struct {
			User struct {
				Email string `json:"email"`
			} `json:"user"`
			TenantID string `json:"tenant_id"`
		}
		if c.want(r, 200, "me") && (r.json(&me) != nil || me.User.Email != c.u.email || me.TenantID != c.tn.id.String()) {
			c.failf("me = %.300s, want %s of %s", r.body, c.u.email, c.tn.id)
		}
	}},
	{"GET /users", 1, func(c *client, ctx context.Context) {
		r := c.do(ctx, "users", "GET", "/api/v1/users?limit=200", nil, "")
		if c.u.role == "member" {
			c.want(r, 403, "member lists users")
			return
		}
		var page struct {
			Items []struct {
				Email string `json:"email"`
			} `json:"items"`
		}
		if c.want(r, 200, "users") {
			r.json(&page)
			for _, u := range page.Items {
				if !strings.HasSuffix(u.Email, "@"+c.tn.marker+".example") {
					c.failf("users lists %s", u.Email)
				}
			}
		}
	}},
	{"GET /keys", 1, func(c *client, ctx context.Context) {
		c.want(c.do(ctx, "keys", "GET", "/api/v1/keys", nil, ""), 200, "keys")
	}},
	{"GET /skills", 4, func(c *client, ctx context.Context) {
		q := []string{"", "?sort=rating", "?sort=uses", "?sort=name&limit=3", "?visibility=private", "?category=soak", "?status=draft"}[c.rng.IntN(7)]
		r := c.do(ctx, "list", "GET", "/api/v1/skills"+q, nil, "")
		if c.want(r, 200, "list skills") {
			c.names("list skills", r)
		}
	}},
	{"GET /skills/{name}", 8, func(c *client, ctx context.Context) {
		if c.rng.IntN(3) == 0 {
			name := c.unseen()
			c.want(c.do(ctx, "get unseen", "GET", "/api/v1/skills/"+name, nil, "", name), 404, "get "+name)
			return
		}
		name := c.visible()
		r := c.do(ctx, "get", "GET", "/api/v1/skills/"+name, nil, "")
		var sk struct {
			Name string `json:"name"`
		}
		if c.want(r, 200, "get "+name) && (r.json(&sk) != nil || sk.Name != name) {
			c.failf("get %s = %.200s", name, r.body)
		}
	}},
	{"GET versions", 3, func(c *client, ctx context.Context) {
		if c.rng.IntN(4) == 0 {
			name := c.unseen()
			c.want(c.do(ctx, "versions unseen", "GET", "/api/v1/skills/"+name+"/versions", nil, "", name), 404, "versions of "+name)
			return
		}
		c.want(c.do(ctx, "versions", "GET", "/api/v1/skills/"+c.visible()+"/versions", nil, ""), 200, "versions")
	}},
	{"GET version", 3, func(c *client, ctx context.Context) {
		if c.rng.IntN(4) == 0 {
			name := c.unseen()
			c.want(c.do(ctx, "version unseen", "GET", "/api/v1/skills/"+name+"/versions/1", nil, "", name), 404, "version of "+name)
			return
		}
		name := c.visible()
		r := c.do(ctx, "version", "GET", "/api/v1/skills/"+name+"/versions/latest", nil, "")
		var v struct {
			Skill string `json:"skill"`
			Files []struct {
				Path string `json:"path"`
			} `json:"files"`
		}
		if c.want(r, 200, "version of "+name) && (r.json(&v) != nil || v.Skill != name || len(v.Files) != 3) {
			c.failf("version of %s = %.300s, want 3 files", name, r.body)
		}
	}},
	{"GET bundle.zip", 2, func(c *client, ctx context.Context) {
		if c.rng.IntN(4) == 0 {
			name := c.unseen()
			c.want(c.do(ctx, "zip unseen", "GET", "/api/v1/skills/"+name+"/versions/1/bundle.zip", nil, "", name), 404, "zip of "+name)
			return
		}
		name := c.visible()
		r := c.do(ctx, "zip", "GET", "/api/v1/skills/"+name+"/versions/1/bundle.zip", nil, "")
		if !c.want(r, 200, "zip of "+name) {
			return
		}
		zr, err := zip.NewReader(bytes.NewReader(r.body), int64(len(r.body)))
		if err != nil {
			c.failf("zip of %s: %v", name, err)
			return
		}
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				c.failf("zip of %s: %v", name, err)
				return
			}
			data, _ := io.ReadAll(rc)
			rc.Close()
			c.scan("zip", data, nil)
			if f.Name == "SKILL.md" && !bytes.Contains(data, []byte("name: "+name+"\n")) {
				c.failf("zip of %s holds another SKILL.md: %.200s", name, data)
			}
		}
	}},
	{"GET file", 3, func(c *client, ctx context.Context) {
		if c.rng.IntN(4) == 0 {
			name := c.unseen()
			c.want(c.do(ctx, "file unseen", "GET", "/api/v1/skills/"+name+"/versions/1/files/SKILL.md", nil, "", name), 404, "file of "+name)
			return
		}
		name := c.visible()
		r := c.do(ctx, "file", "GET", "/api/v1/skills/"+name+"/versions/1/files/SKILL.md", nil, "")
		if c.want(r, 200, "file of "+name) && !bytes.Contains(r.body, []byte("name: "+name+"\n")) {
			c.failf("SKILL.md of %s = %.200s", name, r.body)
		}
	}},
	{"GET ratings", 2, func(c *client, ctx context.Context) {
		if c.rng.IntN(4) == 0 {
			name := c.unseen()
			c.want(c.do(ctx, "ratings unseen", "GET", "/api/v1/skills/"+name+"/ratings", nil, "", name), 404, "ratings of "+name)
			return
		}
		c.want(c.do(ctx, "ratings", "GET", "/api/v1/skills/"+c.visible()+"/ratings", nil, ""), 200, "ratings")
	}},
	{"GET stats", 2, func(c *client, ctx context.Context) {
		if c.rng.IntN(4) == 0 {
			name := c.unseen()
			c.want(c.do(ctx, "stats unseen", "GET", "/api/v1/skills/"+name+"/stats", nil, "", name), 404, "stats of "+name)
			return
		}
		name := c.visible()
		r := c.do(ctx, "stats", "GET", "/api/v1/skills/"+name+"/stats", nil, "")
		var st struct {
			Skill string `json:"skill"`
		}
		if c.want(r, 200, "stats of "+name) && (r.json(&st) != nil || st.Skill != name) {
			c.failf("stats of %s = %.200s", name, r.body)
		}
	}},
	{"GET search", 5, func(c *client, ctx context.Context) {
		mode := []string{"hybrid", "keyword", "semantic"}[c.rng.IntN(3)]
		q := url.Values{"q": {c.pick(topics)}, "mode": {mode}}
		r := c.do(ctx, "search "+mode, "GET", "/api/v1/search?"+q.Encode(), nil, "")
		if c.want(r, 200, "search") {
			c.names("search", r)
		}
	}},
	{"GET similar", 2, func(c *client, ctx context.Context) {
		if c.rng.IntN(4) == 0 {
			name := c.unseen()
			c.want(c.do(ctx, "similar unseen", "GET", "/api/v1/skills/"+name+"/similar", nil, "", name), 404, "similar to "+name)
			return
		}
		r := c.do(ctx, "similar", "GET", "/api/v1/skills/"+c.visible()+"/similar", nil, "")
		if c.want(r, 200, "similar") {
			c.names("similar", r)
		}
	}},
	{"GET embedding", 1, func(c *client, ctx context.Context) {
		if c.rng.IntN(3) == 0 {
			name := c.unseen()
			c.want(c.do(ctx, "embedding unseen", "GET", "/api/v1/skills/"+name+"/embedding", nil, "", name), 404, "embedding of "+name)
			return
		}
		c.want(c.do(ctx, "embedding", "GET", "/api/v1/skills/"+c.visible()+"/embedding", nil, ""), 200, "embedding")
	}},
	{"GET reviews", 2, func(c *client, ctx context.Context) {
		if c.rng.IntN(4) == 0 {
			name := c.unseen()
			c.want(c.do(ctx, "reviews unseen", "GET", "/api/v1/skills/"+name+"/reviews", nil, "", name), 404, "reviews of "+name)
			return
		}
		c.want(c.do(ctx, "reviews", "GET", "/api/v1/skills/"+c.visible()+"/reviews", nil, ""), 200, "reviews")
	}},
	{"GET settings", 1, func(c *client, ctx context.Context) {
		want := 200
		if c.u.role == "member" {
			want = 403
		}
		c.want(c.do(ctx, "settings", "GET", "/api/v1/settings", nil, ""), want, "settings")
	}},
	{"GET audit", 1, func(c *client, ctx context.Context) {
		want := 200
		if c.u.role == "member" {
			want = 403
		}
		c.want(c.do(ctx, "audit", "GET", "/api/v1/audit?limit=100", nil, ""), want, "audit")
	}},
}

// upload is a bundle as a zip body or as multipart files.
func (c *client) upload(files []bundle.File) ([]byte, string) {
	if c.rng.IntN(2) == 0 {
		var buf bytes.Buffer
		bundle.WriteZip(&buf, files)
		return buf.Bytes(), "application/zip"
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range files {
		fw, _ := mw.CreateFormFile("file", f.Path)
		fw.Write(f.Data)
	}
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

// restWrites are every write of the REST API.
var restWrites = []op{
	{"POST /skills", 2, func(c *client, ctx context.Context) {
		kinds := []string{"p", "t"}
		if c.u.role == "admin" {
			kinds = append(kinds, "u")
		}
		kind := c.pick(kinds)
		vis := map[string]string{"p": "private", "t": "tenant", "u": "public"}[kind]
		c.seq++
		name := fmt.Sprintf("%s-%s-%s-%d", c.tn.marker, c.u.role, kind, c.seq)
		body, ct := c.upload(skillFiles(name, c.pick(topics), 1))
		publish := c.rng.IntN(2) == 0
		r := c.do(ctx, "create", "POST", fmt.Sprintf("/api/v1/skills?visibility=%s&publish=%t", vis, publish), body, ct)
		var p struct {
			Skill struct {
				Name string `json:"name"`
			} `json:"skill"`
		}
		if c.want(r, 201, "create "+name) {
			if r.json(&p) != nil || p.Skill.Name != name {
				c.failf("create %s = %.200s", name, r.body)
			}
			c.own[name] = &own{versions: 1, visibility: vis}
		}
	}},
	{"POST versions", 2, func(c *client, ctx context.Context) {
		name, ok := c.ownName()
		if !ok {
			return
		}
		o := c.own[name]
		body, ct := c.upload(skillFiles(name, c.pick(topics), o.versions+1))
		r := c.do(ctx, "version add", "POST", "/api/v1/skills/"+name+"/versions?publish="+fmt.Sprint(c.rng.IntN(2) == 0), body, ct)
		if c.unavailable(r) {
			delete(c.own, name) // the version may or may not exist: leave the skill alone
			return
		}
		var p struct {
			Version struct {
				Number int `json:"number"`
			} `json:"version"`
		}
		if c.want(r, 201, "add version to "+name) {
			if r.json(&p) != nil || p.Version.Number != o.versions+1 {
				c.failf("new version of %s = %.200s, want number %d", name, r.body, o.versions+1)
			}
			o.versions++
		}
	}},
	{"PATCH /skills/{name}", 1, func(c *client, ctx context.Context) {
		name, ok := c.ownName()
		if !ok {
			return
		}
		o := c.own[name]
		change := map[string]any{"title": fmt.Sprintf("Title %d", c.rng.IntN(1000))}
		if c.u.role == "admin" && o.visibility != "private" {
			change["visibility"] = c.pick([]string{"tenant", "public"})
		}
		r := c.do(ctx, "patch", "PATCH", "/api/v1/skills/"+name, change, "")
		if c.want(r, 200, "patch "+name) {
			if v, ok := change["visibility"].(string); ok {
				o.visibility = v
			}
		}
	}},
	{"POST publish", 1, func(c *client, ctx context.Context) {
		name, ok := c.ownName()
		if !ok {
			return
		}
		c.want(c.do(ctx, "publish", "POST", "/api/v1/skills/"+name+"/publish", nil, ""), 200, "publish "+name)
	}},
	{"POST fork", 1, func(c *client, ctx context.Context) {
		if c.rng.IntN(3) == 0 {
			name := c.unseen()
			c.want(c.do(ctx, "fork unseen", "POST", "/api/v1/skills/"+name+"/fork", map[string]string{"name": c.tn.marker + "-stolen"}, "", name), 404, "fork "+name)
			return
		}
		src := c.pick(c.tn.seeds)
		c.seq++
		name := fmt.Sprintf("%s-%s-p-f%d", c.tn.marker, c.u.role, c.seq)
		r := c.do(ctx, "fork", "POST", "/api/v1/skills/"+src+"/fork", map[string]string{"name": name}, "")
		if c.want(r, 201, "fork "+src) {
			c.own[name] = &own{versions: 1, visibility: "private"}
		}
	}},
	{"DELETE /skills/{name}", 1, func(c *client, ctx context.Context) {
		name, ok := c.ownName()
		if !ok || len(c.own) < 4 {
			return
		}
		r := c.do(ctx, "delete", "DELETE", "/api/v1/skills/"+name, nil, "")
		if c.want(r, 204, "delete "+name) || c.unavailable(r) {
			delete(c.own, name)
			c.tn.mu.Lock()
			c.tn.gone[name] = true
			c.tn.mu.Unlock()
		}
	}},
	{"PUT rating", 4, func(c *client, ctx context.Context) {
		if c.rng.IntN(4) == 0 {
			name := c.unseen()
			c.want(c.do(ctx, "rate unseen", "PUT", "/api/v1/skills/"+name+"/rating", map[string]any{"stars": 1}, "", name), 404, "rate "+name)
			return
		}
		name := c.visible()
		stars := 1 + c.rng.IntN(5)
		r := c.do(ctx, "rate", "PUT", "/api/v1/skills/"+name+"/rating", map[string]any{"stars": stars, "comment": "soak"}, "")
		switch {
		case c.want(r, 200, "rate "+name):
			c.tn.rated(name, c.u.email, stars)
		case c.unavailable(r):
			c.tn.mu.Lock()
			c.tn.unrated[name] = true
			c.tn.mu.Unlock()
		}
	}},
	{"POST /usage", 5, func(c *client, ctx context.Context) { c.usage(ctx) }},
	{"POST+DELETE /keys", 1, func(c *client, ctx context.Context) {
		r := c.do(ctx, "key create", "POST", "/api/v1/keys", map[string]any{"name": "temporary", "scopes": []string{"read"}}, "")
		var k struct {
			ID  string `json:"id"`
			Key string `json:"key"`
		}
		if !c.want(r, 201, "create key") || r.json(&k) != nil {
			return
		}
		me := send(ctx, c.hc, "GET", c.r.w.env.url+"/api/v1/me", k.Key, nil, "")
		c.r.count.Add(1)
		c.scan("me with a new key", me.body, nil)
		if me.err != nil || (me.status != 200 && !c.unavailable(me)) {
			c.failf("the new key: %s", me)
		}
		if !c.want(c.do(ctx, "key revoke", "DELETE", "/api/v1/keys/"+k.ID, nil, ""), 200, "revoke key") {
			return
		}
		me = send(ctx, c.hc, "GET", c.r.w.env.url+"/api/v1/me", k.Key, nil, "")
		c.r.count.Add(1)
		c.scan("me with a revoked key", me.body, nil)
		if me.err != nil || (me.status != 401 && !c.unavailable(me)) {
			c.failf("a revoked key: %s, want 401", me)
		}
	}},
	{"POST reviews", 1, func(c *client, ctx context.Context) {
		name, ok := c.ownName()
		if !ok {
			return
		}
		c.want(c.do(ctx, "review again", "POST", "/api/v1/skills/"+name+"/reviews", nil, ""), 200, "review "+name)
	}},
	{"POST decision", 1, func(c *client, ctx context.Context) {
		name, ok := c.ownName()
		if !ok {
			return
		}
		want := 409 // nothing waits for review in these tenants
		if c.u.role == "member" {
			want = 403
		}
		c.want(c.do(ctx, "decide", "POST", "/api/v1/skills/"+name+"/decision", map[string]any{"approve": true}, ""), want, "decide "+name)
	}},
	{"PATCH /settings", 1, func(c *client, ctx context.Context) {
		want := 200
		if c.u.role == "member" {
			want = 403
		}
		c.want(c.do(ctx, "settings patch", "PATCH", "/api/v1/settings", map[string]any{"key_expiry_days": 30 + c.rng.IntN(60)}, ""), want, "patch settings")
	}},
	{"POST+PATCH /users", 1, func(c *client, ctx context.Context) {
		c.seq++
		email := fmt.Sprintf("user%d@%s.example", c.seq, c.tn.marker)
		r := c.do(ctx, "user create", "POST", "/api/v1/users", map[string]any{"email": email, "role": "member"}, "")
		if c.u.role == "member" {
			c.want(r, 403, "member creates a user")
			return
		}
		var u struct {
			ID string `json:"id"`
		}
		if c.want(r, 201, "create user") && r.json(&u) == nil {
			c.users = append(c.users, u.ID)
		}
		if len(c.users) > 0 {
			c.want(c.do(ctx, "user patch", "PATCH", "/api/v1/users/"+c.pick(c.users), map[string]any{"name": "Renamed"}, ""), 200, "patch user")
		}
	}},
}

// usage sends a batch mixing valid events with events for skills the user
// must not reach and invalid events; exactly the valid ones are accepted.
func (c *client) usage(ctx context.Context) {
	type ev struct {
		Skill  string `json:"skill"`
		Event  string `json:"event"`
		Source string `json:"source"`
	}
	n := 1 + c.rng.IntN(30)
	batch := make([]ev, n)
	valid := make([]bool, n)
	var sent []string
	for i := range batch {
		e := ev{Event: c.pick(events), Source: "hook"}
		switch x := c.rng.IntN(20); {
		case x == 0:
			e.Skill = c.visible()
			e.Event = "explode"
		case x <= 2:
			e.Skill = c.unseen()
			sent = append(sent, e.Skill)
		default:
			e.Skill = c.visible()
			valid[i] = true
		}
		batch[i] = e
	}
	r := c.do(ctx, "usage", "POST", "/api/v1/usage", map[string]any{"events": batch}, "", sent...)
	if c.unavailable(r) {
		for i, e := range batch {
			if valid[i] {
				c.tn.uncertain(e.Skill, 1)
			}
		}
		return
	}
	var res struct {
		Accepted int `json:"accepted"`
		Rejected []struct {
			Index int `json:"index"`
		} `json:"rejected"`
	}
	if !c.want(r, 200, "usage") || r.json(&res) != nil {
		return
	}
	rejected := map[int]bool{}
	for _, x := range res.Rejected {
		rejected[x.Index] = true
	}
	accepted := 0
	for i, e := range batch {
		if valid[i] == rejected[i] {
			c.failf("usage event %d (%s %s) valid=%t but rejected=%t", i, e.Skill, e.Event, valid[i], rejected[i])
		}
		if valid[i] {
			accepted++
			c.tn.accept(e.Skill, e.Event, 1)
		}
	}
	if res.Accepted != accepted {
		c.failf("usage accepted %d, want %d", res.Accepted, accepted)
	}
}

// keyTransport adds the API key to every MCP request.
type keyTransport struct{ key string }

func (k keyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+k.key)
	return http.DefaultTransport.RoundTrip(r)
}

func (c *client) connectMCP(ctx context.Context) bool {
	c.r.count.Add(1)
	c.r.countOp("mcp connect")
	tr := &mcp.StreamableClientTransport{Endpoint: c.r.w.env.url + "/mcp", HTTPClient: &http.Client{Transport: keyTransport{c.u.key}, Timeout: time.Minute},
		DisableStandaloneSSE: true}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "soak", Version: "1"}, nil).Connect(cctx, tr, nil)
	if err != nil {
		if !c.r.outage && ctx.Err() == nil {
			c.failf("mcp connect: %v", err)
		}
		return false
	}
	c.mcp = cs
	return true
}

// tool calls an MCP tool; it returns the structured result as JSON, or the
// tool error's text.
func (c *client) tool(ctx context.Context, name string, args map[string]any, sent ...string) (data []byte, toolErr string, ok bool) {
	c.r.count.Add(1)
	c.r.countOp("mcp " + name)
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	res, err := c.mcp.CallTool(cctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		if ctx.Err() == nil && !c.r.outage {
			c.failf("mcp %s: %v", name, err)
		}
		if c.r.outage {
			// The session may be gone with the outage: open a new one.
			c.mcp.Close()
			c.mcp = nil
		}
		return nil, "", false
	}
	var text strings.Builder
	for _, ct := range res.Content {
		if tc, ok := ct.(*mcp.TextContent); ok {
			text.WriteString(tc.Text)
		}
	}
	data, _ = json.Marshal(res.StructuredContent)
	c.scan("mcp "+name, append(data, text.String()...), sent)
	if res.IsError {
		msg := text.String()
		if strings.Contains(msg, "something went wrong") {
			c.failf("mcp %s: internal error: %s", name, msg)
		}
		if strings.Contains(msg, "unavailable") && c.r.outage {
			c.r.unavailable.Add(1)
			return nil, "", false
		}
		return nil, msg, true
	}
	return data, "", true
}

func (c *client) toolNames(what string, data []byte) {
	var out struct {
		Skills []struct {
			Name string `json:"name"`
		} `json:"skills"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		c.failf("%s: %v", what, err)
	}
	for _, s := range out.Skills {
		if !strings.HasPrefix(s.Name, c.tn.marker+"-") {
			c.failf("%s lists %q, which is not of this tenant", what, s.Name)
		}
	}
}

// mcpOps are every MCP tool.
var mcpOps = []op{
	{"mcp search_skills", 2, func(c *client, ctx context.Context) {
		if data, msg, ok := c.tool(ctx, "search_skills", map[string]any{"query": c.pick(topics)}); ok && msg == "" {
			c.toolNames("mcp search", data)
		} else if ok {
			c.failf("mcp search_skills: %s", msg)
		}
	}},
	{"mcp list_skills", 1, func(c *client, ctx context.Context) {
		if data, msg, ok := c.tool(ctx, "list_skills", map[string]any{}); ok && msg == "" {
			c.toolNames("mcp list", data)
		} else if ok {
			c.failf("mcp list_skills: %s", msg)
		}
	}},
	{"mcp get_skill", 2, func(c *client, ctx context.Context) {
		if c.rng.IntN(3) == 0 {
			name := c.unseen()
			if _, msg, ok := c.tool(ctx, "get_skill", map[string]any{"name": name}, name); ok && !strings.HasPrefix(msg, "not found") {
				c.failf("mcp get_skill %s: %q, want not found", name, msg)
			}
			return
		}
		name := c.visible()
		data, msg, ok := c.tool(ctx, "get_skill", map[string]any{"name": name})
		if ok && (msg != "" || !bytes.Contains(data, []byte(`name: `+name+`\n`))) {
			c.failf("mcp get_skill %s: %s %.200s", name, msg, data)
		}
	}},
	{"mcp read_skill_file", 1, func(c *client, ctx context.Context) {
		name := c.visible()
		if _, msg, ok := c.tool(ctx, "read_skill_file", map[string]any{"name": name, "path": "scripts/run.sh"}); ok && msg != "" {
			c.failf("mcp read_skill_file %s: %s", name, msg)
		}
	}},
	{"mcp rate_skill", 2, func(c *client, ctx context.Context) {
		name := c.visible()
		stars := 1 + c.rng.IntN(5)
		_, msg, ok := c.tool(ctx, "rate_skill", map[string]any{"name": name, "stars": stars})
		switch {
		case ok && msg == "":
			c.tn.rated(name, c.u.email, stars)
		case ok:
			c.failf("mcp rate_skill %s: %s", name, msg)
		case c.r.outage:
			c.tn.mu.Lock()
			c.tn.unrated[name] = true
			c.tn.mu.Unlock()
		}
	}},
	{"mcp record_usage", 2, func(c *client, ctx context.Context) {
		if c.rng.IntN(4) == 0 {
			name := c.unseen()
			if _, msg, ok := c.tool(ctx, "record_usage", map[string]any{"name": name, "event": "invoke"}, name); ok && !strings.HasPrefix(msg, "not found") {
				c.failf("mcp record_usage %s: %q, want not found", name, msg)
			}
			return
		}
		name, event := c.visible(), c.pick(events)
		_, msg, ok := c.tool(ctx, "record_usage", map[string]any{"name": name, "event": event})
		switch {
		case ok && msg == "":
			c.tn.accept(name, event, 1)
		case ok:
			c.failf("mcp record_usage %s: %s", name, msg)
		case c.r.outage:
			c.tn.uncertain(name, 1)
		}
	}},
	{"mcp publish_skill", 1, func(c *client, ctx context.Context) {
		c.seq++
		name := fmt.Sprintf("%s-%s-t-m%d", c.tn.marker, c.u.role, c.seq)
		var files []map[string]string
		for _, f := range skillFiles(name, c.pick(topics), 1) {
			files = append(files, map[string]string{"path": f.Path, "content": string(f.Data)})
		}
		_, msg, ok := c.tool(ctx, "publish_skill", map[string]any{"files": files, "publish": true})
		switch {
		case ok && msg == "":
			c.own[name] = &own{versions: 1, visibility: "tenant"}
		case ok:
			c.failf("mcp publish_skill %s: %s", name, msg)
		}
	}},
}
