package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/dbtest"
	"github.com/skillvault/skillvault/internal/discovery"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/testserver"
	"github.com/skillvault/skillvault/internal/web"
)

const baseDomain = "skills.test"

// startAll runs a server with every interface mounted as `skillvault
// serve` mounts it: REST, MCP, discovery and the web UI.
func startAll(t *testing.T, opt testserver.Options) *testserver.Server {
	t.Helper()
	opt.BaseDomain = baseDomain
	opt.Mount = func(s *testserver.Server) {
		discovery.Register(s.Srv.Mux, s.Svc, discovery.Options{
			Auth:       func(r *http.Request) (service.Actor, error) { return s.Srv.API.Authenticate(r, "api") },
			HostTenant: s.Srv.HostTenant,
			Allow:      s.Srv.API.Allow,
		})
		testserver.MountMCP(s)
		web.New(s.Svc, web.Config{HostTenant: s.Srv.HostTenant, Allow: s.Srv.API.Allow}).Register(s.Srv.Mux)
	}
	return testserver.Start(t, opt)
}

const initBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`

var mcpHeaders = []string{"Content-Type", "application/json", "Accept", "application/json, text/event-stream"}

// signIn signs u in through a login link, as a browser does, and returns
// the session cookie ("name=value").
func signIn(t *testing.T, s *testserver.Server, tenant uuid.UUID, u testserver.User) string {
	t.Helper()
	link, err := s.Svc.CreateLoginLink(context.Background(), service.System(tenant), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(s.URL + link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("login link page %d has no form token: %s", resp.StatusCode, page)
	}
	req, _ := http.NewRequest("POST", s.URL+link, strings.NewReader(url.Values{"csrf": {string(m[1])}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", s.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	u0, _ := url.Parse(s.URL)
	for _, ck := range jar.Cookies(u0) {
		if _, ok := service.TokenTenant(ck.Value); ok {
			return ck.Name + "=" + ck.Value
		}
	}
	t.Fatal("no session cookie after sign-in")
	return ""
}

// drain spends the loopback address's anonymous allowance: it sends
// requests without a credential until one is refused.
func drain(t *testing.T, s *testserver.Server) {
	t.Helper()
	for range 20 {
		if s.Do("GET", "/healthz", "", nil).Status == http.StatusTooManyRequests {
			return
		}
	}
	t.Fatal("20 anonymous requests were not limited")
}

// wantAddressLimited checks a 429 of the anonymous limit.
func wantAddressLimited(t *testing.T, name string, r *testserver.Response) {
	t.Helper()
	if r.Status != http.StatusTooManyRequests {
		t.Errorf("%s: %d, want 429 (%.200s)", name, r.Status, r.Body)
		return
	}
	var p struct{ Type, Limit string }
	if err := json.Unmarshal(r.Body, &p); err != nil || p.Type != "/problems/rate-limited" || p.Limit != "address" ||
		r.Header.Get("Content-Type") != "application/problem+json" || r.Header.Get("Retry-After") == "" {
		t.Errorf("%s: 429 %s %q Retry-After %q", name, r.Body, r.Header.Get("Content-Type"), r.Header.Get("Retry-After"))
	}
}

// TestAnonymousLimitCoversEveryInterface exhausts the loopback address's
// allowance for requests without a valid credential, then requests a
// sample of every interface's routes (REST, MCP, discovery, web, health,
// unmatched paths), at a tenant's host, the bare host and the IP, with no
// credential, a bad key, a forged session cookie or an unrelated cookie:
// each is refused with the 429 problem before it is served. A valid key
// and a live session at the same address are still served.
func TestAnonymousLimitCoversEveryInterface(t *testing.T) {
	t.Parallel()
	s := startAll(t, testserver.Options{AnonRateLimit: 1})
	acme := s.Tenant("acme")
	session := signIn(t, s, acme.ID, acme.Admin)
	forged := "sv_session=" + acme.ID.String() + "." + strings.Repeat("x", 43)
	link, err := s.Svc.CreateLoginLink(context.Background(), service.System(acme.ID), acme.Member.ID)
	if err != nil {
		t.Fatal(err)
	}
	ip := strings.TrimPrefix(s.URL, "http://")
	type req struct {
		method, path string
		body         any
		header       []string
	}
	routes := []req{
		{"GET", "/api/v1/skills", nil, nil},
		{"POST", "/api/v1/skills", []byte("x"), []string{"Content-Type", "application/zip"}},
		{"GET", "/api/v1/openapi.json", nil, nil},
		{"GET", "/api/v2/nothing", nil, nil},
		{"POST", "/mcp", initBody, mcpHeaders},
		{"GET", "/.well-known/oauth-protected-resource/mcp", nil, nil},
		{"GET", "/.well-known/agent-skills/index.json", nil, nil},
		{"GET", "/.well-known/skills/index.json", nil, nil},
		{"GET", "/", nil, nil},
		{"GET", "/login", nil, nil},
		{"GET", link, nil, nil},
		{"POST", link, "pre=forged", []string{"Content-Type", "application/x-www-form-urlencoded", "Cookie", "sv_pre=forged"}},
		{"POST", "/admin/users", "email=x@acme.example", []string{"Content-Type", "application/x-www-form-urlencoded"}},
		{"GET", "/auth/oidc/start", nil, nil},
		{"GET", "/static/app.css", nil, nil},
		{"GET", "/healthz", nil, nil},
		{"GET", "/readyz", nil, nil},
		{"GET", "/metrics", nil, nil},
		{"GET", "/no/such/page", nil, nil},
	}
	credentials := map[string][]string{
		"no credential":    nil,
		"a bad key":        {"Authorization", "Bearer sv_notakeynotakeynotakeynotakey"},
		"a forged session": {"Cookie", forged},
		"an other cookie":  {"Cookie", "theme=dark"},
	}
	for _, host := range []string{"acme." + baseDomain, baseDomain, ip} {
		for cred, ch := range credentials {
			for _, rt := range routes {
				drain(t, s)
				h := append([]string{"Host", host}, ch...)
				h = append(h, rt.header...)
				wantAddressLimited(t, rt.method+" "+rt.path+" at "+host+" with "+cred, s.Do(rt.method, rt.path, "", rt.body, h...))
			}
		}
	}

	// Someone else's flood does not lock out a valid credential at the
	// same address.
	host := "acme." + baseDomain
	for _, v := range []struct {
		name, method, path, key string
		body                    any
		header                  []string
	}{
		{"REST with a valid key", "GET", "/api/v1/me", acme.Member.Key, nil, nil},
		{"MCP with a valid key", "POST", "/mcp", acme.Member.Key, initBody, mcpHeaders},
		{"discovery with a valid key", "GET", "/.well-known/agent-skills/index.json", acme.Member.Key, nil, nil},
		{"the web UI with a live session", "GET", "/", "", nil, []string{"Cookie", session}},
	} {
		drain(t, s)
		if r := s.Do(v.method, v.path, v.key, v.body, append([]string{"Host", host}, v.header...)...); r.Status != 200 {
			t.Errorf("%s after the flood: %d %.200s", v.name, r.Status, r.Body)
		}
	}

	// A good key at another tenant's host is no way around the limit, and
	// writes no audit row per request once the address is over it.
	globex := s.Tenant("globex")
	before := countAudit(t, s, globex.ID, "auth.cross_tenant")
	drain(t, s)
	for range 5 {
		wantAddressLimited(t, "globex's key at acme's host", s.Do("GET", "/api/v1/me", globex.Member.Key, nil, "Host", host))
	}
	if n := countAudit(t, s, globex.ID, "auth.cross_tenant") - before; n != 0 {
		t.Errorf("5 refused requests with globex's key at acme's host wrote %d audit rows", n)
	}
}

// TestWhatCountsAsAnonymous: a bad key, and a credential sent to a route
// that never checks it, count against the address like a request without
// any; requests with a valid key do not.
func TestWhatCountsAsAnonymous(t *testing.T) {
	t.Parallel()
	s := startAll(t, testserver.Options{AnonRateLimit: 1}) // bursts of 2, one more a second
	acme := s.Tenant("acme")
	// refill waits until exactly one token is back.
	refill := func() {
		drain(t, s)
		time.Sleep(1200 * time.Millisecond)
	}

	refill()
	if r := s.Do("GET", "/api/v1/me", "sv_notakeynotakeynotakeynotakey", nil); r.Status != 401 {
		t.Fatalf("a bad key: %d", r.Status)
	}
	wantAddressLimited(t, "after a bad key", s.Do("GET", "/healthz", "", nil))

	refill()
	if r := s.Do("GET", "/healthz", "sv_notakeynotakeynotakeynotakey", nil); r.Status != 200 {
		t.Fatalf("/healthz with an unchecked key: %d", r.Status)
	}
	wantAddressLimited(t, "after an unchecked key", s.Do("GET", "/healthz", "", nil))

	refill()
	for range 30 {
		if r := s.Do("GET", "/api/v1/me", acme.Member.Key, nil); r.Status != 200 {
			t.Fatalf("a valid key: %d", r.Status)
		}
	}
	if r := s.Do("GET", "/healthz", "", nil); r.Status != 200 {
		t.Errorf("30 requests with a valid key used up the anonymous allowance: %d", r.Status)
	}
}

// TestAnonymousLimitOff: a negative AnonRateLimit (serve
// --anon-rate-limit 0) turns the limit off.
func TestAnonymousLimitOff(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{AnonRateLimit: -1})
	for i := range 100 {
		if r := s.Do("GET", "/api/v1/me", "sv_notakeynotakeynotakeynotakey", nil); r.Status != 401 {
			t.Fatalf("request %d: %d", i, r.Status)
		}
	}
}

// countAudit counts audit rows of action, in tenant (uuid.Nil: the
// tenant-less trail), read as the superuser.
func countAudit(t *testing.T, s *testserver.Server, tenant uuid.UUID, action string) int {
	t.Helper()
	conn := dbtest.Connect(t, s.Env.AdminURL)
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM audit_logs WHERE tenant_id = $1 AND action = $2", tenant, action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestFloodsWriteFewAuditRows sends 500 bad keys and 200 forged login-link
// posts (with the anonymous limit off, so only the aggregation bounds
// them): each kind writes one row now (the rest are counted for the
// window's summary row), not one row a request.
func TestFloodsWriteFewAuditRows(t *testing.T) {
	t.Parallel()
	s := startAll(t, testserver.Options{AnonRateLimit: -1})
	acme := s.Tenant("acme")
	before := countAudit(t, s, uuid.Nil, "auth.key_failure")
	for range 500 {
		if r := s.Do("GET", "/api/v1/me", "sv_notakeynotakeynotakeynotakey", nil); r.Status != 401 {
			t.Fatalf("bad key: %d", r.Status)
		}
	}
	if n := countAudit(t, s, uuid.Nil, "auth.key_failure") - before; n < 1 || n > 3 {
		t.Errorf("500 bad keys wrote %d tenant-less audit rows, want 1 to 3", n)
	}

	forged := "/login/" + acme.ID.String() + "." + strings.Repeat("f", 43)
	for range 200 {
		// A direct client forges every header a browser would send.
		// (At another tenant's host the link is refused before it is
		// looked up, and nothing is audited: web.TestLoginLinkAtAnotherTenantsHost.)
		r := s.Do("POST", forged, "", "csrf=x", "Content-Type", "application/x-www-form-urlencoded", "Cookie", "sv_pre=x",
			"Sec-Fetch-Site", "same-origin", "User-Agent", "forged-agent")
		if r.Status != http.StatusGone {
			t.Fatalf("forged login link: %d", r.Status)
		}
	}
	if n := countAudit(t, s, acme.ID, "auth.login_failure"); n < 1 || n > 3 {
		t.Errorf("200 forged login-link posts wrote %d rows in the tenant's audit, want 1 to 3", n)
	}
}

// TestAuditKeepsTheServersRequestID: a client's X-Request-Id never becomes
// the request id of an audit row; the row carries the id the server
// answered with, and a user agent with control and format characters or
// invalid UTF-8 is cleaned and capped (HTTP itself refuses CR, LF and NUL).
func TestAuditKeepsTheServersRequestID(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	agent := "evil\u0085\u202e forged\xff line" + strings.Repeat("a", 1000)
	r := s.Do("GET", "/api/v1/me", "sv_requestidrequestidrequestid", nil, "X-Request-Id", "forged-request-id", "User-Agent", agent)
	if r.Status != 401 {
		t.Fatalf("bad key: %d", r.Status)
	}
	id := r.Header.Get("X-Request-Id")
	if id == "" || id == "forged-request-id" {
		t.Fatalf("answered with request id %q", id)
	}
	conn := dbtest.Connect(t, s.Env.AdminURL)
	var forged int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM audit_logs WHERE request_id = 'forged-request-id'").Scan(&forged); err != nil {
		t.Fatal(err)
	}
	if forged != 0 {
		t.Errorf("%d audit rows carry the client's request id", forged)
	}
	var ua string
	if err := conn.QueryRow(context.Background(), "SELECT user_agent FROM audit_logs WHERE request_id = $1 AND action = 'auth.key_failure'", id).Scan(&ua); err != nil {
		t.Fatalf("no audit row with the server's request id %s: %v", id, err)
	}
	if len(ua) > 256 || !strings.HasPrefix(ua, "evil forged line") {
		t.Errorf("stored user agent %q (%d bytes)", ua, len(ua))
	}
}

// TestMetricsOnlyOnTheirListener: the public listener answers 404 to
// /metrics at every host, with or without a key; the metrics listener
// serves them.
func TestMetricsOnlyOnTheirListener(t *testing.T) {
	t.Parallel()
	s := startAll(t, testserver.Options{})
	acme := s.Tenant("acme")
	ip := strings.TrimPrefix(s.URL, "http://")
	for _, host := range []string{"acme." + baseDomain, baseDomain, ip, "localhost", "unknown.example"} {
		for _, key := range []string{"", acme.Admin.Key} {
			r := s.Do("GET", "/metrics", key, nil, "Host", host)
			if r.Status != http.StatusNotFound || strings.Contains(string(r.Body), "skillvault_http_requests_total") {
				t.Errorf("GET /metrics at %s (key %t): %d %.100s", host, key != "", r.Status, r.Body)
			}
		}
	}
	resp, err := http.Get(s.MetricsURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "skillvault_http_requests_total") {
		t.Errorf("metrics listener: %d %.200s", resp.StatusCode, body)
	}
}

// limitOf is the limit a 429 problem names ("" for any other answer).
func limitOf(t *testing.T, r *testserver.Response) string {
	t.Helper()
	if r.Status != http.StatusTooManyRequests {
		return ""
	}
	var p struct{ Type, Limit, Detail string }
	if err := json.Unmarshal(r.Body, &p); err != nil || p.Type != "/problems/rate-limited" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("429 %s Retry-After %q", r.Body, r.Header.Get("Retry-After"))
	}
	if !strings.Contains(p.Detail, p.Limit) {
		t.Errorf("the detail %q does not name the %s limit", p.Detail, p.Limit)
	}
	return p.Limit
}

// TestTenantRateLimit: the keys of one tenant share the tenant's
// allowance, over REST, MCP and discovery alike, so minting keys does not
// multiply it; another tenant is unaffected. The per-key limit still
// applies below it, and each 429 names the limit it hit.
func TestTenantRateLimit(t *testing.T) {
	t.Parallel()
	// Per key and per tenant: bursts of 2, one more a second.
	s := startAll(t, testserver.Options{RateLimit: 1, TenantRateLimit: 1})
	acme, globex := s.Tenant("acme"), s.Tenant("globex")
	keys := []string{acme.Admin.Key, acme.Member.Key, acme.ReadOnlyKey}
	for i := range 3 {
		keys = append(keys, s.User(acme.ID, "minted"+string(rune('a'+i))+"@acme.example", "member", "read").Key)
	}
	send := func(i int, tenant *testserver.Tenant, key string) *testserver.Response {
		host := tenant.Slug + "." + baseDomain
		switch i % 3 {
		case 0:
			return s.Do("GET", "/api/v1/me", key, nil, "Host", host)
		case 1:
			return s.Do("POST", "/mcp", key, initBody, append([]string{"Host", host}, mcpHeaders...)...)
		}
		return s.Do("GET", "/.well-known/agent-skills/index.json", key, nil, "Host", host)
	}
	// Alone, each of the six keys may send two at once: twelve in all.
	served, byTenant := 0, 0
	for i, key := range keys {
		for j := range 2 {
			r := send(i*2+j, acme, key)
			switch limitOf(t, r) {
			case "":
				if r.Status != 200 {
					t.Fatalf("key %d request %d: %d %s", i, j, r.Status, r.Body)
				}
				served++
			case "tenant":
				byTenant++
			default:
				t.Errorf("key %d request %d refused by the %s limit", i, j, limitOf(t, r))
			}
		}
	}
	// Two at once, and one more if a second passed meanwhile.
	if served > 3 || byTenant < 9 {
		t.Errorf("six keys of one tenant were served %d of 12 requests (%d refused by the tenant limit), want at most 3", served, byTenant)
	}
	for i, key := range []string{globex.Member.Key, globex.Admin.Key} {
		if r := send(i, globex, key); r.Status != 200 {
			t.Errorf("another tenant's key while acme is limited: %d %s", r.Status, r.Body)
		}
	}

	// Below the tenant's limit, one key is held to its own.
	s = startAll(t, testserver.Options{RateLimit: 1, TenantRateLimit: 100})
	acme = s.Tenant("acme")
	var limits []string
	for range 4 {
		limits = append(limits, limitOf(t, s.Do("GET", "/api/v1/me", acme.Member.Key, nil)))
	}
	if !slices.Contains(limits, "key") || slices.Contains(limits, "tenant") {
		t.Errorf("one key over its own limit: %q", limits)
	}
}

// TestWebSessionsShareTheRateLimit: a signed-in browser is held to the
// same limits as the user's API keys. Before, the web UI called no limit
// at all, so a member (or a script with a session cookie) bypassed both
// the per-key and the per-tenant allowance through it, and a tenant's
// saturated allowance did not stop its web traffic.
func TestWebSessionsShareTheRateLimit(t *testing.T) {
	t.Parallel()
	// Bursts of 2, one more a second, per credential and per tenant.
	s := startAll(t, testserver.Options{RateLimit: 1, TenantRateLimit: 100})
	acme := s.Tenant("acme")
	cookie := signIn(t, s, acme.ID, acme.Member)
	var limits []string
	for range 5 {
		r := s.Do("GET", "/search?q=x", "", nil, "Cookie", cookie)
		limits = append(limits, limitOf(t, r))
	}
	if !slices.Contains(limits, "key") {
		t.Errorf("five web requests of one session at a limit of two: limits hit %q, want the credential's", limits)
	}

	// The tenant's keys have spent its allowance: its web sessions wait too.
	s = startAll(t, testserver.Options{RateLimit: 100, TenantRateLimit: 1})
	acme, globex := s.Tenant("acme"), s.Tenant("globex")
	cookie = signIn(t, s, acme.ID, acme.Member)
	other := signIn(t, s, globex.ID, globex.Member)
	for range 3 {
		s.Do("GET", "/api/v1/me", acme.Admin.Key, nil)
	}
	if l := limitOf(t, s.Do("GET", "/", "", nil, "Cookie", cookie)); l != "tenant" {
		t.Errorf("web request of a tenant over its limit: limit %q, want tenant", l)
	}
	if r := s.Do("GET", "/", "", nil, "Cookie", other); r.Status != http.StatusOK {
		t.Errorf("another tenant's session while acme is limited: %d", r.Status)
	}
}

// TestOverLimitCookiesCostOneLookup: once an address is over its
// anonymous allowance, a request that claims a session is checked before
// it is refused. Before, every cookie shaped like a session token was
// looked up in the database, so one anonymous request with hundreds of
// forged cookies (64 KiB of headers hold about a thousand) cost hundreds
// of database transactions while being refused. Now at most one is.
func TestOverLimitCookiesCostOneLookup(t *testing.T) {
	t.Parallel()
	s := startAll(t, testserver.Options{AnonRateLimit: 1})
	acme := s.Tenant("acme")
	session := signIn(t, s, acme.ID, acme.Member)
	var cookies []string
	for i := range 300 {
		cookies = append(cookies, fmt.Sprintf("c%d=%s.%s", i, acme.ID, strings.Repeat("x", 24)))
	}
	drain(t, s)
	before := s.Svc.DB().Stats().AcquireCount
	wantAddressLimited(t, "300 forged session cookies", s.Do("GET", "/healthz", "", nil, "Cookie", strings.Join(cookies, "; ")))
	// A few acquisitions may come from background work (embedder, listener).
	if n := s.Svc.DB().Stats().AcquireCount - before; n > 5 {
		t.Errorf("one refused request with 300 forged session cookies took %d database connections, want at most a few", n)
	}
	// A live session is still recognised at the over-limit address.
	if r := s.Do("GET", "/", "", nil, "Cookie", session); r.Status != http.StatusOK {
		t.Errorf("a live session at an over-limit address: %d", r.Status)
	}
}
