package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/dbtest"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/testserver"
)

// The tests of the CSRF guard run the server with tenants by host under
// this base domain: acme.example.test and globex.example.test are two
// tenants and one site, as real tenants under a company's domain are.
const siteDomain = "example.test"

// hostURL is the address of a tenant's host on the test server.
func (e *env) hostURL(slug string) string {
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(e.URL, "http://"))
	return "http://" + slug + "." + siteDomain + ":" + port
}

// hostClient is a cookie-keeping client that reaches every *.example.test
// host at the test server and follows no redirects.
func (e *env) hostClient() *http.Client {
	loopback := strings.TrimPrefix(e.URL, "http://")
	dial := (&net.Dialer{}).DialContext
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Jar:           jar,
		Transport:     &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) { return dial(ctx, network, loopback) }},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// send posts body to u with the given headers and returns the status and
// the page.
func send(t *testing.T, c *http.Client, u, contentType string, body []byte, header map[string]string) (int, string) {
	t.Helper()
	if contentType != "" {
		header = maps.Clone(header)
		if header == nil {
			header = map[string]string{}
		}
		header["Content-Type"] = contentType
	}
	return request(t, c, "POST", u, bytes.NewReader(body), header)
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	return request(t, c, "GET", u, nil, nil)
}

func request(t *testing.T, c *http.Client, method, u string, body io.Reader, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(data)
}

// signInAt signs c in at a tenant host with a login link and returns the
// session's CSRF token.
func (e *env) signInAt(t *testing.T, c *http.Client, tn *tenant, u testserver.User) string {
	t.Helper()
	base := e.hostURL(tn.Slug)
	link := e.loginLink(tn, u)
	st, page := get(t, c, base+link)
	m := preRE.FindStringSubmatch(page)
	if st != http.StatusOK || m == nil {
		t.Fatalf("login link page: %d", st)
	}
	if st, _ := send(t, c, base+link, "application/x-www-form-urlencoded", []byte(url.Values{"csrf": {m[1]}}.Encode()), nil); st != http.StatusSeeOther {
		t.Fatalf("sign-in at %s: %d", base, st)
	}
	st, page = get(t, c, base+"/me/keys")
	if m = csrfRE.FindStringSubmatch(page); st != http.StatusOK || m == nil {
		t.Fatalf("no csrf token after sign-in: %d", st)
	}
	return m[1]
}

// formBody encodes fields (the token first, when there is one) as a
// urlencoded or multipart body; the multipart one also carries a valid
// skill bundle, so an upload route would have something to store.
func formBody(t *testing.T, multi bool, token string, fields url.Values) (string, []byte) {
	t.Helper()
	if !multi {
		v := url.Values{}
		if token != "" {
			v.Set("csrf", token)
		}
		for k, vs := range fields {
			v[k] = vs
		}
		return "application/x-www-form-urlencoded", []byte(v.Encode())
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if token != "" {
		mw.WriteField("csrf", token)
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range fields {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range keys {
		mw.WriteField(k, fields.Get(k))
	}
	fw, _ := mw.CreateFormFile("files", "forged-upload/SKILL.md")
	fw.Write([]byte("---\nname: forged-upload\ndescription: A skill a forged request tried to publish.\n---\n# Forged\n"))
	mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

// forgedFields would change something on every route that takes a form,
// were the request let through.
var forgedFields = url.Values{
	"email": {"intruder@acme.example"}, "name": {"intruder"}, "role": {"admin"}, "active": {"false"},
	"scopes": {"read"}, "stars": {"1"}, "comment": {"forged"}, "new_name": {"forged-fork"}, "decision": {"reject"},
	"key_expiry_days": {"1"}, "embedding_provider": {"builtin"}, "visibility": {"tenant"}, "publish": {"on"},
}

// snapshot is every row of every table, read as the superuser, except
// what reading a page changes by design (a session's last use) and the
// audit rows of refused forms.
func snapshot(t *testing.T, e *env) map[string]string {
	t.Helper()
	ctx := context.Background()
	su := dbtest.Connect(t, e.TS.Env.AdminURL)
	rows, err := su.Query(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	out := map[string]string{}
	for _, tb := range tables {
		where := ""
		if tb == "audit_logs" {
			where = "WHERE action <> 'web.csrf_refused'"
		}
		q := fmt.Sprintf(`SELECT count(*)::text || ' ' || coalesce(md5(string_agg(r, '|' ORDER BY r)), '')
			FROM (SELECT (to_jsonb(t) - 'last_seen_at')::text AS r FROM %q t %s) x`, tb, where)
		var s string
		if err := su.QueryRow(ctx, q).Scan(&s); err != nil {
			t.Fatalf("snapshot %s: %v", tb, err)
		}
		out[tb] = s
	}
	if len(out) < 10 {
		t.Fatalf("snapshot saw only tables %v", tables)
	}
	return out
}

// countRefused counts the tenant's audited CSRF refusals (as the superuser).
func countRefused(t *testing.T, e *env, tn *tenant) int {
	t.Helper()
	var n int
	err := dbtest.Connect(t, e.TS.Env.AdminURL).QueryRow(context.Background(),
		"SELECT count(*) FROM audit_logs WHERE tenant_id = $1 AND action = 'web.csrf_refused'", tn.ID).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func diffSnapshots(before, after map[string]string) []string {
	var changed []string
	for tb, s := range after {
		if before[tb] != s {
			changed = append(changed, tb)
		}
	}
	slices.Sort(changed)
	return changed
}

// unsafeRoutes are the patterns of the UI that take a request with a
// method that changes things: a method other than GET, HEAD and OPTIONS,
// or none (a pattern without a method takes them all).
func unsafeRoutes(wb *Web) []string {
	var out []string
	for _, p := range wb.routes {
		method, _, hasMethod := strings.Cut(p, " ")
		if !hasMethod || !safeMethod(method) {
			out = append(out, p)
		}
	}
	return out
}

// TestTheUIMountsOnlyBehindTheGuard: Register puts one handler on the
// server's mux, the catch-all that runs the guard; every route of the UI
// is on the UI's own mux behind it. A route mounted on the server's mux
// directly fails here.
func TestTheUIMountsOnlyBehindTheGuard(t *testing.T) {
	var rec recordingMux
	wb := New(nil, Config{})
	wb.Register(&rec)
	if !slices.Equal(rec.patterns, []string{"/"}) {
		t.Fatalf("the UI mounted %q on the server's mux; want only its guarded catch-all \"/\"", rec.patterns)
	}
	if n := len(unsafeRoutes(wb)); n < 15 {
		t.Fatalf("only %d unsafe routes recorded: %v", n, wb.routes)
	}
}

type recordingMux struct{ patterns []string }

func (m *recordingMux) Handle(p string, _ http.Handler) { m.patterns = append(m.patterns, p) }

// TestEveryUnsafeRouteRefusesForgedRequests requests every route of the UI
// that changes things, as tenant acme's admin signed in at acme's host and
// as an anonymous browser with a pre-session cookie, with (a) no token,
// (b) the token of another session, (c) "Origin: null", (d) the origin of
// another tenant's host (same site), each as a urlencoded and a multipart
// form: every one is refused with 403 and no row of any table changes.
// The valid requests at the end show the same forms pass the guard.
func TestEveryUnsafeRouteRefusesForgedRequests(t *testing.T) {
	e := start(t, withBaseDomain(siteDomain))
	ctx := context.Background()
	a := e.tenant("acme")
	g := e.tenant("globex")
	e.seed(a)
	e.publishFiles(a, a.Admin, "admin", map[string]string{"SKILL.md": "---\nname: admin-draft\ndescription: A draft of the admin.\n---\n# Draft\n"},
		service.PublishOptions{Visibility: "tenant"})
	keys, err := e.TS.Svc.ListKeys(ctx, service.System(a.ID), true, nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	keyOf := map[string]string{}
	for _, k := range keys {
		keyOf[k.UserID.String()] = k.ID.String()
	}
	acme, globex := e.hostURL("acme"), e.hostURL("globex")
	adminGrant, memberGrant := e.grant(a, a.Admin, "admin"), e.grant(a, a.Member, "member")

	// path fills a pattern's wildcards with things acme's admin may change.
	path := func(pattern string) string {
		p := pattern
		if _, rest, ok := strings.Cut(pattern, " "); ok {
			p = rest
		}
		switch {
		case p == "/":
			return "/no/such/page"
		case strings.HasPrefix(p, "/admin/users/"):
			return strings.Replace(p, "{id}", a.Member.ID.String(), 1)
		case strings.HasPrefix(p, "/admin/keys/"):
			return strings.Replace(p, "{id}", keyOf[a.Member.ID.String()], 1)
		case strings.HasPrefix(p, "/me/keys/"):
			return strings.Replace(p, "{id}", keyOf[a.Admin.ID.String()], 1)
		case strings.HasPrefix(p, "/me/grants/"):
			return strings.Replace(p, "{id}", adminGrant.String(), 1)
		case strings.HasPrefix(p, "/admin/grants/"):
			return strings.Replace(p, "{id}", memberGrant.String(), 1)
		case strings.HasPrefix(p, "/login/"):
			return e.loginLink(a, a.Member)
		case p == "/skills/{name}/publish":
			return "/skills/admin-draft/publish"
		}
		p = strings.ReplaceAll(p, "{name}", "sql-migration-review")
		if strings.Contains(p, "{") {
			t.Fatalf("route %s: the test has no value for its wildcard; add one", pattern)
		}
		return p
	}

	admin := e.hostClient()
	tok := e.signInAt(t, admin, a, a.Admin)
	otherAdmin := e.hostClient()
	otherTok := e.signInAt(t, otherAdmin, a, a.Admin)
	member := e.hostClient()
	memberTok := e.signInAt(t, member, a, a.Member)
	globexTok := e.signInAt(t, e.hostClient(), g, g.Admin)

	// An anonymous browser's pre-session token, and another browser's.
	preOf := func(c *http.Client) string {
		_, page := get(t, c, acme+e.loginLink(a, a.Member))
		m := preRE.FindStringSubmatch(page)
		if m == nil {
			t.Fatal("no pre-session token on the login-link page")
		}
		return m[1]
	}
	anon := e.hostClient()
	pre := preOf(anon)
	otherPre := preOf(e.hostClient())

	same := map[string]string{"Origin": acme, "Sec-Fetch-Site": "same-origin"}
	type attack struct {
		name   string
		token  string
		header map[string]string
	}
	attacks := func(valid string, others ...string) []attack {
		out := []attack{
			{"no token", "", same},
			{"no token, no origin headers", "", nil},
			{"Origin: null", valid, map[string]string{"Origin": "null"}},
			{"Origin: null, said to be same-origin", valid, map[string]string{"Origin": "null", "Sec-Fetch-Site": "same-origin"}},
			{"Origin: null from a no-referrer page of a sibling host", valid, map[string]string{"Origin": "null", "Sec-Fetch-Site": "same-site"}},
			{"another tenant's host", valid, map[string]string{"Origin": globex, "Sec-Fetch-Site": "same-site"}},
			{"another tenant's host, old browser", valid, map[string]string{"Origin": globex}},
			{"another site", valid, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}},
		}
		for _, o := range others {
			out = append(out, attack{"the token of another session", o, same})
		}
		return out
	}
	browsers := []struct {
		name    string
		c       *http.Client
		attacks []attack
		audited bool
	}{
		{"acme's admin", admin, attacks(tok, otherTok, memberTok, globexTok, pre), true},
		{"an anonymous browser", anon, attacks(pre, otherPre, tok), false},
	}

	routes := unsafeRoutes(e.Web)
	paths := map[string]string{}
	for _, rt := range routes {
		paths[rt] = path(rt)
	}
	before := snapshot(t, e)
	refusedBefore := countRefused(t, e, a)
	audited := 0
	for _, b := range browsers {
		for _, rt := range routes {
			for _, at := range b.attacks {
				for _, multi := range []bool{false, true} {
					ct, body := formBody(t, multi, at.token, forgedFields)
					st, page := send(t, b.c, acme+paths[rt], ct, body, at.header)
					if st != http.StatusForbidden || !strings.Contains(page, "Request refused") {
						t.Errorf("%s: %s, %s, multipart %v: %d, want 403 Request refused", b.name, rt, at.name, multi, st)
					}
					if b.audited {
						audited++
					}
				}
			}
		}
	}
	if changed := diffSnapshots(before, snapshot(t, e)); len(changed) > 0 {
		t.Errorf("refused requests changed the tables %v", changed)
	}
	if n := countRefused(t, e, a) - refusedBefore; n != audited {
		t.Errorf("%d refusals audited, want one per refused request of a session (%d)", n, audited)
	}

	// The same forms with their token from this origin pass the guard
	// (each route gets a fresh admin session: some end it).
	for _, rt := range routes {
		for _, multi := range []bool{false, true} {
			c := e.hostClient()
			ct, body := formBody(t, multi, e.signInAt(t, c, a, a.Admin), forgedFields)
			if st, page := send(t, c, acme+path(rt), ct, body, same); st == http.StatusForbidden || strings.Contains(page, "Request refused") {
				t.Errorf("valid %s, multipart %v: refused (%d)", rt, multi, st)
			}
		}
	}
	if _, err := e.TS.Svc.UserByEmail(ctx, service.System(a.ID), "intruder@acme.example"); err != nil {
		t.Errorf("the valid form did not create the user, so the refusals above prove nothing: %v", err)
	}
}
