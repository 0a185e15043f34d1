package oauth_test

import (
	"context"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/egress"
	"github.com/skillvault/skillvault/internal/service"
)

const redirect = "http://127.0.0.1:9999/cb"

// flow is a registered client at tenant A, approved by A's member, up to
// the code.
type flow struct {
	e        *env
	clientID string
	p        pkce
	q        url.Values
	code     string
}

func (e *env) approvedFlow(scope string) *flow {
	e.t.Helper()
	f := &flow{e: e, clientID: e.register(e.A, redirect), p: newPKCE("v")}
	f.q = authRequest(f.clientID, redirect, e.base(e.A)+"/mcp", scope, f.p)
	res := e.signIn(e.A, e.A.Member).approve(f.q, "approve")
	if res.Get("state") != "s-123" || res.Get("iss") != e.base(e.A) || res.Get("code") == "" {
		e.t.Fatalf("authorization response %v: want code, state s-123 and iss %s", res, e.base(e.A))
	}
	f.code = res.Get("code")
	return f
}

func (f *flow) exchange(verifier string) *resp {
	return f.e.token(f.e.A, url.Values{"grant_type": {"authorization_code"}, "code": {f.code}, "redirect_uri": {redirect},
		"client_id": {f.clientID}, "code_verifier": {verifier}, "resource": {f.e.base(f.e.A) + "/mcp"}})
}

func (f *flow) tokens() (access, refresh string) {
	f.e.t.Helper()
	r := f.exchange(f.p.verifier)
	if r.Status != http.StatusOK {
		f.e.t.Fatalf("token: %d %s", r.Status, r.Body)
	}
	m := r.json(f.e.t)
	if r.Header.Get("Cache-Control") != "no-store" || m["token_type"] != "Bearer" {
		f.e.t.Fatalf("token response %v (Cache-Control %q)", m, r.Header.Get("Cache-Control"))
	}
	return m["access_token"].(string), m["refresh_token"].(string)
}

// wantOAuthError checks an OAuth error answer and that nothing more was
// issued than before.
func (e *env) wantOAuthError(r *resp, code string, issuedBefore int64) {
	e.t.Helper()
	if r.Status != http.StatusBadRequest && r.Status != http.StatusUnauthorized {
		e.t.Fatalf("want 400/401 %s, got %d %s", code, r.Status, r.Body)
	}
	if got := r.json(e.t)["error"]; got != code {
		e.t.Fatalf("want error %s, got %v (%s)", code, got, r.Body)
	}
	if n := e.issued(); n != issuedBefore {
		e.t.Fatalf("a refused request issued tokens: %d before, %d after", issuedBefore, n)
	}
}

func TestMetadataPerHost(t *testing.T) {
	e := start(t, service.Options{})
	c := e.client(nil)
	prm := do(t, c, "GET", e.base(e.A)+"/.well-known/oauth-protected-resource/mcp", nil).json(t)
	if as, _ := prm["authorization_servers"].([]any); len(as) != 1 || as[0] != e.base(e.A) || prm["resource"] != e.base(e.A)+"/mcp" {
		t.Fatalf("protected resource metadata %v: want authorization_servers [%s]", prm, e.base(e.A))
	}
	md := do(t, c, "GET", e.base(e.A)+"/.well-known/oauth-authorization-server", nil).json(t)
	for k, want := range map[string]any{"issuer": e.base(e.A), "authorization_endpoint": e.base(e.A) + "/oauth/authorize",
		"token_endpoint": e.base(e.A) + "/oauth/token", "registration_endpoint": e.base(e.A) + "/oauth/register",
		"revocation_endpoint": e.base(e.A) + "/oauth/revoke", "authorization_response_iss_parameter_supported": true,
		"client_id_metadata_document_supported": true} {
		if md[k] != want {
			t.Errorf("metadata %s = %v, want %v", k, md[k], want)
		}
	}
	if m, _ := md["code_challenge_methods_supported"].([]any); len(m) != 1 || m[0] != "S256" {
		t.Errorf("code_challenge_methods_supported = %v, want [S256]", md["code_challenge_methods_supported"])
	}
	if s, _ := md["scopes_supported"].([]any); len(s) != 3 {
		t.Errorf("scopes_supported = %v", md["scopes_supported"])
	}
	// A bare host names no tenant: no registration there.
	bare := do(t, c, "GET", e.ts.URL+"/.well-known/oauth-authorization-server", nil).json(t)
	if _, ok := bare["registration_endpoint"]; ok {
		t.Errorf("bare host offers registration: %v", bare)
	}
	// The 401 of /mcp points at the metadata.
	r := do(t, c, "POST", e.base(e.A)+"/mcp", strings.NewReader("{}"), "Content-Type", "application/json")
	if r.Status != http.StatusUnauthorized || !strings.Contains(r.Header.Get("WWW-Authenticate"), `resource_metadata="`+e.base(e.A)+"/.well-known/oauth-protected-resource/mcp") {
		t.Fatalf("unauthenticated /mcp: %d %q", r.Status, r.Header.Get("WWW-Authenticate"))
	}
}

func TestCodeFlowIssuesAudienceBoundTokens(t *testing.T) {
	e := start(t, service.Options{})
	f := e.approvedFlow("read")
	access, _ := f.tokens()
	if r := e.mcp(e.base(e.A), access); r.Status != http.StatusOK {
		t.Fatalf("token on its own host's /mcp: %d %s", r.Status, r.Body)
	}
	// The same token at tenant B's host, and on the REST API (another
	// audience), is refused.
	if r := e.mcp(e.base(e.B), access); r.Status != http.StatusUnauthorized || !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("tenant A's token at tenant B's host: %d %q %s", r.Status, r.Header.Get("WWW-Authenticate"), r.Body)
	}
	if r := do(t, e.client(nil), "GET", e.base(e.A)+"/api/v1/me", nil, "Authorization", "Bearer "+access); r.Status != http.StatusUnauthorized {
		t.Fatalf("MCP token on the REST API: %d %s", r.Status, r.Body)
	}
	// A read-only token may not call a write tool: 403 insufficient_scope.
	body := `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"rate_skill","arguments":{"name":"x","stars":5}}}`
	r := do(t, e.client(nil), "POST", e.base(e.A)+"/mcp", strings.NewReader(body), "Content-Type", "application/json",
		"Accept", "application/json, text/event-stream", "Authorization", "Bearer "+access)
	if h := r.Header.Get("WWW-Authenticate"); r.Status != http.StatusForbidden || !strings.Contains(h, `error="insufficient_scope"`) ||
		!strings.Contains(h, `scope="write"`) || !strings.Contains(h, "resource_metadata=") {
		t.Fatalf("write tool with a read token: %d %q", r.Status, h)
	}
	// Audited in the tenant.
	if n := e.sql("SELECT count(*) FROM audit_logs WHERE tenant_id = $1 AND action IN ('oauth.authorize', 'oauth.token_issue', 'oauth.client_register')", e.A.ID); n != 3 {
		t.Fatalf("audit rows for authorize, issue, register: %d, want 3", n)
	}
}

func TestWrongVerifierRefused(t *testing.T) {
	e := start(t, service.Options{})
	f := e.approvedFlow("read")
	e.wantOAuthError(f.exchange(newPKCE("w").verifier), "invalid_grant", 0)
}

func TestReusedCodeRevokesItsTokens(t *testing.T) {
	e := start(t, service.Options{})
	f := e.approvedFlow("read")
	access, _ := f.tokens()
	e.wantOAuthError(f.exchange(f.p.verifier), "invalid_grant", 2)
	if r := e.mcp(e.base(e.A), access); r.Status != http.StatusUnauthorized {
		t.Fatalf("token of a reused code still works: %d", r.Status)
	}
}

func TestRedirectNotRegisteredIsNotFollowed(t *testing.T) {
	e := start(t, service.Options{})
	id := e.register(e.A, redirect)
	p := e.signIn(e.A, e.A.Member)
	for _, bad := range []string{"https://evil.example/cb", "http://127.0.0.1:9999/other", "http://10.0.0.1:9999/cb"} {
		r := p.consent(authRequest(id, bad, e.base(e.A)+"/mcp", "read", newPKCE("v")))
		if r.Status != http.StatusBadRequest || r.Header.Get("Location") != "" {
			t.Errorf("redirect_uri %s: %d Location %q, want a 400 page and no redirect", bad, r.Status, r.Header.Get("Location"))
		}
	}
	// RFC 8252 §7.3: a loopback redirect may use any port.
	if r := p.consent(authRequest(id, "http://127.0.0.1:4444/cb", e.base(e.A)+"/mcp", "read", newPKCE("v"))); r.Status != http.StatusOK {
		t.Errorf("loopback redirect on another port: %d", r.Status)
	}
	// Registration refuses a redirect URI that is neither https nor loopback.
	body := `{"redirect_uris":["http://evil.example/cb"]}`
	r := do(t, e.client(nil), "POST", e.base(e.A)+"/oauth/register", strings.NewReader(body), "Content-Type", "application/json")
	if r.Status != http.StatusBadRequest || r.json(t)["error"] != "invalid_redirect_uri" {
		t.Errorf("registering an http redirect: %d %s", r.Status, r.Body)
	}
}

func TestCodeOfTenantAAtTenantBHost(t *testing.T) {
	e := start(t, service.Options{})
	f := e.approvedFlow("read")
	r := e.token(e.B, url.Values{"grant_type": {"authorization_code"}, "code": {f.code}, "redirect_uri": {redirect},
		"client_id": {f.clientID}, "code_verifier": {f.p.verifier}})
	e.wantOAuthError(r, "invalid_grant", 0)
	// Tenant B's person cannot approve tenant A's client either: it is not
	// B's client.
	page := e.signIn(e.B, e.B.Member).consent(authRequest(f.clientID, redirect, e.base(e.B)+"/mcp", "read", newPKCE("v")))
	if page.Status != http.StatusBadRequest || !strings.Contains(page.Body, "unknown client_id") {
		t.Fatalf("tenant A's client at tenant B: %d", page.Status)
	}
}

func TestExpiredAccessTokenRefused(t *testing.T) {
	e := start(t, service.Options{})
	access, _ := e.approvedFlow("read").tokens()
	e.sql("UPDATE oauth_tokens SET expires_at = now() - interval '1 second' WHERE kind = 'access'")
	r := e.mcp(e.base(e.A), access)
	if r.Status != http.StatusUnauthorized || !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("expired token: %d %q", r.Status, r.Header.Get("WWW-Authenticate"))
	}
}

func TestRefreshRotatesAndReuseRevokesFamily(t *testing.T) {
	e := start(t, service.Options{})
	f := e.approvedFlow("read")
	_, refresh := f.tokens()
	form := func(rt string) url.Values {
		return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {f.clientID}, "resource": {e.base(e.A) + "/mcp"}}
	}
	r := e.token(e.A, form(refresh))
	if r.Status != http.StatusOK {
		t.Fatalf("refresh: %d %s", r.Status, r.Body)
	}
	m := r.json(t)
	access2, refresh2 := m["access_token"].(string), m["refresh_token"].(string)
	if refresh2 == refresh {
		t.Fatal("refresh token not rotated")
	}
	if r := e.mcp(e.base(e.A), access2); r.Status != http.StatusOK {
		t.Fatalf("refreshed token: %d", r.Status)
	}
	// The first refresh token again: reuse. The family is revoked, so the
	// newest tokens stop working too.
	e.wantOAuthError(e.token(e.A, form(refresh)), "invalid_grant", 4)
	if r := e.mcp(e.base(e.A), access2); r.Status != http.StatusUnauthorized {
		t.Fatalf("access token after reuse detection: %d", r.Status)
	}
	e.wantOAuthError(e.token(e.A, form(refresh2)), "invalid_grant", 4)
	if n := e.sql("SELECT count(*) FROM audit_logs WHERE tenant_id = $1 AND action = 'oauth.refresh_reuse'", e.A.ID); n != 1 {
		t.Fatalf("reuse audited %d times", n)
	}
}

func TestScopeAboveRoleRefused(t *testing.T) {
	e := start(t, service.Options{})
	id := e.register(e.A, redirect)
	p := e.signIn(e.A, e.A.Member)
	r := p.consent(authRequest(id, redirect, e.base(e.A)+"/mcp", "read admin", newPKCE("v")))
	res := redirectParams(t, &resp{Status: r.Status, Header: r.Header, Body: r.Body}, redirect)
	if res.Get("error") != "invalid_scope" || res.Get("state") != "s-123" || res.Get("iss") != e.base(e.A) || res.Get("code") != "" {
		t.Fatalf("member asking for admin: %v", res)
	}
	// A resource of another host is refused too.
	r = p.consent(authRequest(id, redirect, e.base(e.B)+"/mcp", "read", newPKCE("v")))
	if res := redirectParams(t, &resp{Status: r.Status, Header: r.Header}, redirect); res.Get("error") != "invalid_target" {
		t.Fatalf("resource of tenant B at tenant A: %v", res)
	}
	// Denying sends access_denied.
	if res := p.approve(authRequest(id, redirect, e.base(e.A)+"/mcp", "read", newPKCE("v")), "deny"); res.Get("error") != "access_denied" {
		t.Fatalf("deny: %v", res)
	}
	if n := e.sql("SELECT count(*) FROM oauth_codes"); n != 0 {
		t.Fatalf("%d codes issued", n)
	}
}

func TestConsentNeedsCSRFToken(t *testing.T) {
	e := start(t, service.Options{})
	id := e.register(e.A, redirect)
	p := e.signIn(e.A, e.A.Member)
	form := authRequest(id, redirect, e.base(e.A)+"/mcp", "read", newPKCE("v"))
	p.consent(form)
	form.Set("decision", "approve")
	r := postForm(t, p.c, p.base+"/oauth/authorize", form)
	if r.Status != http.StatusForbidden || r.Header.Get("Location") != "" {
		t.Fatalf("approval without the csrf token: %d Location %q", r.Status, r.Header.Get("Location"))
	}
	if n := e.sql("SELECT count(*) FROM oauth_codes"); n != 0 {
		t.Fatalf("%d codes issued", n)
	}
}

// metadataServer serves a Client ID Metadata Document over TLS on loopback.
func metadataServer(t *testing.T, doc func(self string) string) (*httptest.Server, string) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(doc("https://" + r.Host + r.URL.Path)))
	}))
	t.Cleanup(srv.Close)
	return srv, srv.URL + "/client.json"
}

func cimd(self string) string {
	return `{"client_id":"` + self + `","client_name":"Metadata client","redirect_uris":["` + redirect + `"],"token_endpoint_auth_method":"none"}`
}

func TestMetadataDocumentClient(t *testing.T) {
	srv, id := metadataServer(t, cimd)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	e := start(t, service.Options{Egress: egress.MustNew(egress.Options{Allow: []string{"127.0.0.1"}, RootCAs: pool})})
	p := e.signIn(e.A, e.A.Member)
	q := authRequest(id, redirect, e.base(e.A)+"/mcp", "", newPKCE("v"))
	page := p.consent(q)
	if page.Status != http.StatusOK || !strings.Contains(page.Body, "Metadata client") || !strings.Contains(page.Body, "127.0.0.1") {
		t.Fatalf("consent page for a metadata client: %d %s", page.Status, page.Body)
	}
	res := p.approve(q, "approve")
	r := e.token(e.A, url.Values{"grant_type": {"authorization_code"}, "code": {res.Get("code")}, "redirect_uri": {redirect},
		"client_id": {id}, "code_verifier": {newPKCE("v").verifier}})
	if r.Status != http.StatusOK || r.json(t)["scope"] != "read write" {
		t.Fatalf("token for a metadata client: %d %s", r.Status, r.Body)
	}
}

func TestMetadataDocumentOnLoopbackRefused(t *testing.T) {
	_, id := metadataServer(t, cimd)
	e := start(t, service.Options{}) // the default egress client: no internal addresses
	r := e.signIn(e.A, e.A.Member).consent(authRequest(id, redirect, e.base(e.A)+"/mcp", "read", newPKCE("v")))
	if r.Status != http.StatusBadRequest || r.Header.Get("Location") != "" || !strings.Contains(r.Body, "address not allowed") {
		t.Fatalf("client metadata on loopback: %d %s", r.Status, r.Body)
	}
	if n := e.sql("SELECT count(*) FROM oauth_clients"); n != 0 {
		t.Fatalf("%d clients stored", n)
	}
}

func TestMetadataDocumentMustNameItself(t *testing.T) {
	srv, id := metadataServer(t, func(string) string { return cimd("https://other.example/client.json") })
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	e := start(t, service.Options{Egress: egress.MustNew(egress.Options{Allow: []string{"127.0.0.1"}, RootCAs: pool})})
	r := e.signIn(e.A, e.A.Member).consent(authRequest(id, redirect, e.base(e.A)+"/mcp", "read", newPKCE("v")))
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "another client_id") {
		t.Fatalf("document naming another client: %d", r.Status)
	}
}

func TestRevocationEndpointAndKeysPage(t *testing.T) {
	e := start(t, service.Options{})
	f := e.approvedFlow("read")
	access, refresh := f.tokens()
	// Another client's revocation is ignored (and answers 200 all the same).
	if r := postForm(t, e.client(nil), e.base(e.A)+"/oauth/revoke", url.Values{"token": {refresh}, "client_id": {"someone-else"}}); r.Status != http.StatusOK {
		t.Fatalf("revoke by another client: %d", r.Status)
	}
	if r := e.mcp(e.base(e.A), access); r.Status != http.StatusOK {
		t.Fatalf("token revoked by another client: %d", r.Status)
	}
	if r := postForm(t, e.client(nil), e.base(e.A)+"/oauth/revoke", url.Values{"token": {refresh}, "client_id": {f.clientID}}); r.Status != http.StatusOK {
		t.Fatalf("revoke: %d", r.Status)
	}
	if r := e.mcp(e.base(e.A), access); r.Status != http.StatusUnauthorized {
		t.Fatalf("access token after revoking its refresh token: %d", r.Status)
	}
	// The grant is listed, revoked, on the person's keys page and the
	// admin's key list; tenant B's admin does not see it.
	for _, c := range []struct {
		p    *person
		path string
		want bool
	}{{e.signIn(e.A, e.A.Member), "/me/keys", true}, {e.signIn(e.A, e.A.Admin), "/admin/keys", true}, {e.signIn(e.B, e.B.Admin), "/admin/keys", false}} {
		page := do(t, c.p.c, "GET", c.p.base+c.path, nil)
		if got := strings.Contains(page.Body, f.clientID); got != c.want || page.Status != http.StatusOK {
			t.Errorf("%s%s lists the grant: %v, want %v (%d)", c.p.base, c.path, got, c.want, page.Status)
		}
	}
}

func TestGrantRevokedOnKeysPageCutsClientOff(t *testing.T) {
	e := start(t, service.Options{})
	f := e.approvedFlow("read")
	access, _ := f.tokens()
	grants, err := e.ts.Svc.ListGrants(context.Background(), service.System(e.A.ID), true, 10)
	if err != nil || len(grants) != 1 {
		t.Fatalf("grants: %v %v", grants, err)
	}
	// Tenant B's admin cannot revoke it (not found), tenant A's member can.
	b := e.signIn(e.B, e.B.Admin)
	page := do(t, b.c, "GET", b.base+"/admin/keys", nil)
	csrf := csrfRE.FindStringSubmatch(page.Body)[1]
	if r := postForm(t, b.c, b.base+"/admin/grants/"+grants[0].ID.String()+"/revoke", url.Values{"csrf": {csrf}}); r.Status != http.StatusNotFound {
		t.Fatalf("tenant B revoking tenant A's grant: %d", r.Status)
	}
	if r := e.mcp(e.base(e.A), access); r.Status != http.StatusOK {
		t.Fatalf("after tenant B's attempt: %d", r.Status)
	}
	a := e.signIn(e.A, e.A.Member)
	page = do(t, a.c, "GET", a.base+"/me/keys", nil)
	csrf = csrfRE.FindStringSubmatch(page.Body)[1]
	if r := postForm(t, a.c, a.base+"/me/grants/"+grants[0].ID.String()+"/revoke", url.Values{"csrf": {csrf}}); r.Status != http.StatusSeeOther {
		t.Fatalf("revoke on the keys page: %d %s", r.Status, r.Body)
	}
	if r := e.mcp(e.base(e.A), access); r.Status != http.StatusUnauthorized {
		t.Fatalf("revoked grant's token: %d", r.Status)
	}
}
