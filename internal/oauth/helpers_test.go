package oauth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/dbtest"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/testserver"
	"github.com/skillvault/skillvault/internal/web"
)

// siteDomain is the base domain of the test tenants' hosts; every name
// under it is dialled on the test server's loopback address.
const siteDomain = "example.test"

type env struct {
	t    *testing.T
	ts   *testserver.Server
	A, B *testserver.Tenant
	port string
}

// start runs the full server (MCP, OAuth, web UI) with tenants acme and
// beta at acme.example.test and beta.example.test.
func start(t *testing.T, opt service.Options) *env {
	t.Helper()
	ts := testserver.Start(t, testserver.Options{BaseDomain: siteDomain, Service: opt, Mount: func(s *testserver.Server) {
		testserver.MountOAuth(s)
		web.New(s.Svc, web.Config{HostTenant: s.Srv.HostTenant}).Register(s.Srv.Mux)
	}})
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(ts.URL, "http://"))
	return &env{t: t, ts: ts, A: ts.Tenant("acme"), B: ts.Tenant("beta"), port: port}
}

// base is the origin of a tenant's host.
func (e *env) base(tn *testserver.Tenant) string {
	return "http://" + tn.Slug + "." + siteDomain + ":" + e.port
}

// client is an HTTP client that reaches tenant hosts and does not follow
// redirects; with a cookie jar it is a person's browser.
func (e *env) client(jar http.CookieJar) *http.Client {
	addr := strings.TrimPrefix(e.ts.URL, "http://")
	var d net.Dialer
	return &http.Client{Jar: jar,
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type resp struct {
	Status int
	Header http.Header
	Body   string
}

func (r *resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
		t.Fatalf("decode %d %s: %v", r.Status, r.Body, err)
	}
	return m
}

func do(t *testing.T, c *http.Client, method, u string, body io.Reader, header ...string) *resp {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return &resp{Status: res.StatusCode, Header: res.Header, Body: string(data)}
}

func postForm(t *testing.T, c *http.Client, u string, form url.Values) *resp {
	t.Helper()
	return do(t, c, "POST", u, strings.NewReader(form.Encode()), "Content-Type", "application/x-www-form-urlencoded")
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// person is someone signed in to the web UI at a tenant host.
type person struct {
	e    *env
	c    *http.Client
	base string
}

// signIn follows a login link at the tenant's host.
func (e *env) signIn(tn *testserver.Tenant, u testserver.User) *person {
	e.t.Helper()
	link, err := e.ts.Svc.CreateLoginLink(context.Background(), service.System(tn.ID), u.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	p := &person{e: e, c: e.client(jar), base: e.base(tn)}
	page := do(e.t, p.c, "GET", p.base+link, nil)
	m := csrfRE.FindStringSubmatch(page.Body)
	if m == nil {
		e.t.Fatalf("login link page: %d %s", page.Status, page.Body)
	}
	if r := postForm(e.t, p.c, p.base+link, url.Values{"csrf": {m[1]}}); r.Status != http.StatusSeeOther {
		e.t.Fatalf("sign in: %d %s", r.Status, r.Body)
	}
	return p
}

// pkce is a verifier and its S256 challenge.
type pkce struct{ verifier, challenge string }

func newPKCE(seed string) pkce {
	v := strings.Repeat(seed, 64)
	sum := sha256.Sum256([]byte(v))
	return pkce{v, base64.RawURLEncoding.EncodeToString(sum[:])}
}

// authRequest is an authorization request of a client at a host.
func authRequest(clientID, redirect, resource, scope string, p pkce) url.Values {
	return url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirect}, "state": {"s-123"},
		"code_challenge": {p.challenge}, "code_challenge_method": {"S256"}, "scope": {scope}, "resource": {resource}}
}

// consent opens the consent page for q; it returns the page.
func (p *person) consent(q url.Values) *resp {
	p.e.t.Helper()
	return do(p.e.t, p.c, "GET", p.base+"/oauth/authorize?"+q.Encode(), nil)
}

// approve opens the consent page and presses a button ("approve" or
// "deny"); it returns the redirect's parameters.
func (p *person) approve(q url.Values, decision string) url.Values {
	t := p.e.t
	t.Helper()
	page := p.consent(q)
	m := csrfRE.FindStringSubmatch(page.Body)
	if page.Status != http.StatusOK || m == nil {
		t.Fatalf("consent page: %d %s", page.Status, page.Body)
	}
	form := url.Values{"csrf": {m[1]}, "decision": {decision}}
	for k, v := range q {
		form[k] = v
	}
	r := postForm(t, p.c, p.base+"/oauth/authorize", form)
	return redirectParams(t, r, q.Get("redirect_uri"))
}

// redirectParams checks that r redirects to the client's redirect URI and
// returns the query it carries.
func redirectParams(t *testing.T, r *resp, redirect string) url.Values {
	t.Helper()
	loc := r.Header.Get("Location")
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(loc, redirect+"?") {
		t.Fatalf("want a redirect to %s, got %d Location %q: %s", redirect, r.Status, loc, r.Body)
	}
	u, _ := url.Parse(loc)
	return u.Query()
}

// register registers a client by RFC 7591 at a tenant's host.
func (e *env) register(tn *testserver.Tenant, redirect string) string {
	e.t.Helper()
	body := `{"client_name":"Test client","redirect_uris":["` + redirect + `"],"token_endpoint_auth_method":"none"}`
	r := do(e.t, e.client(nil), "POST", e.base(tn)+"/oauth/register", strings.NewReader(body), "Content-Type", "application/json")
	if r.Status != http.StatusCreated {
		e.t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	return r.json(e.t)["client_id"].(string)
}

// token posts to a tenant's token endpoint.
func (e *env) token(tn *testserver.Tenant, form url.Values) *resp {
	e.t.Helper()
	return postForm(e.t, e.client(nil), e.base(tn)+"/oauth/token", form)
}

// mcp sends an initialize request to a host's /mcp with a bearer token.
func (e *env) mcp(base, token string) *resp {
	e.t.Helper()
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	return do(e.t, e.client(nil), "POST", base+"/mcp", strings.NewReader(body),
		"Content-Type", "application/json", "Accept", "application/json, text/event-stream", "Authorization", "Bearer "+token)
}

// sql runs a statement as the superuser (to move time forward, or to
// count what was issued, across tenants).
func (e *env) sql(q string, args ...any) int64 {
	e.t.Helper()
	ctx := context.Background()
	conn := dbtest.Connect(e.t, e.ts.Env.AdminURL)
	if strings.HasPrefix(strings.ToUpper(q), "SELECT") {
		var n int64
		if err := conn.QueryRow(ctx, q, args...).Scan(&n); err != nil {
			e.t.Fatal(err)
		}
		return n
	}
	tag, err := conn.Exec(ctx, q, args...)
	if err != nil {
		e.t.Fatal(err)
	}
	return tag.RowsAffected()
}

// issued counts the tokens that exist.
func (e *env) issued() int64 { return e.sql("SELECT count(*) FROM oauth_tokens") }
