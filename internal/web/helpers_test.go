package web

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/database"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/testserver"
	"github.com/skillvault/skillvault/internal/web/oidctest"
)

// env is a real server with the web UI and a real OIDC provider.
type env struct {
	t   testing.TB
	TS  *testserver.Server
	IdP *oidctest.Provider
	URL string
	Web *Web
}

// startOpt changes the configuration of a test server.
type startOpt func(*testserver.Options, *Config)

func withBaseDomain(d string) startOpt {
	return func(o *testserver.Options, _ *Config) { o.BaseDomain = d }
}

func withBaseURL(u string) startOpt {
	return func(_ *testserver.Options, c *Config) { c.BaseURL = u }
}

func start(t testing.TB, opts ...startOpt) *env {
	t.Helper()
	idp := oidctest.Start(t)
	e := &env{t: t, IdP: idp}
	cfg := Config{OIDC: OIDCConfig{Issuer: idp.URL, ClientID: idp.ClientID, ClientSecret: idp.ClientSecret, Name: "Test IdP"}}
	var so testserver.Options
	for _, o := range opts {
		o(&so, &cfg)
	}
	so.Mount = func(s *testserver.Server) {
		cfg.HostTenant = s.Srv.HostTenant
		e.Web = New(s.Svc, cfg)
		e.Web.Register(s.Srv.Mux)
	}
	e.TS = testserver.Start(t, so)
	e.URL = e.TS.URL
	return e
}

// tenant makes a tenant that owns an email domain, with an admin and a
// member (emails admin@<domain> and member@<domain>).
type tenant struct {
	ID            uuid.UUID
	Slug, Domain  string
	Admin, Member testserver.User
}

func (e *env) tenant(slug string) *tenant {
	t := e.t
	t.Helper()
	ctx := context.Background()
	o, err := database.OpenOwner(ctx, e.TS.Env.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	domain := slug + ".example"
	tn, err := o.CreateTenant(ctx, database.NewTenant{Slug: slug, Name: strings.ToUpper(slug[:1]) + slug[1:] + " Inc", EmailDomain: domain})
	o.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.TS.Svc.EnsureTenant(ctx, service.System(tn.ID)); err != nil {
		t.Fatal(err)
	}
	return &tenant{ID: tn.ID, Slug: slug, Domain: domain,
		Admin:  e.TS.User(tn.ID, "admin@"+domain, "admin", "read", "write", "admin"),
		Member: e.TS.User(tn.ID, "member@"+domain, "member", "read", "write")}
}

// actor is a web actor for direct service calls in test set-up.
func (tn *tenant) actor(u testserver.User, role string) service.Actor {
	return service.Actor{TenantID: tn.ID, UserID: u.ID, Email: u.Email, Role: role, Scopes: []string{"read", "write", "admin"}, Source: "web"}
}

// publishDir stores a bundle folder as a published skill of u.
func (e *env) publishDir(tn *tenant, u testserver.User, role, dir string, o service.PublishOptions) service.Published {
	e.t.Helper()
	files, err := bundle.ReadDir(dir, bundle.Limits{})
	if err != nil {
		e.t.Fatal(err)
	}
	o.Publish, o.Dir = true, filepath.Base(dir)
	p, err := e.TS.Svc.CreateSkill(context.Background(), tn.actor(u, role), files, o)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// publishFiles stores a bundle given as path → content.
func (e *env) publishFiles(tn *tenant, u testserver.User, role string, files map[string]string, o service.PublishOptions) service.Published {
	e.t.Helper()
	var fs []bundle.File
	for p, c := range files {
		fs = append(fs, bundle.File{Path: p, Data: []byte(c)})
	}
	o.Publish = o.Visibility != "private" || o.Publish
	p, err := e.TS.Svc.CreateSkill(context.Background(), tn.actor(u, role), fs, o)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// loginLink issues a login link path for a user.
func (e *env) loginLink(tn *tenant, u testserver.User) string {
	e.t.Helper()
	p, err := e.TS.Svc.CreateLoginLink(context.Background(), service.System(tn.ID), u.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// browser is a cookie-keeping HTTP client that does not follow redirects.
type browser struct {
	e   *env
	c   *http.Client
	jar *cookiejar.Jar
}

func (e *env) client() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, jar: jar, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type resp struct {
	Status  int
	Header  http.Header
	Body    string
	Cookies []*http.Cookie
}

func (b *browser) do(method, path string, form url.Values, header ...string) *resp {
	b.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.e.URL+path, body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return &resp{Status: res.StatusCode, Header: res.Header, Body: string(data), Cookies: res.Cookies()}
}

func (b *browser) get(path string) *resp { b.e.t.Helper(); return b.do("GET", path, nil) }

var (
	preRE  = regexp.MustCompile(`name="csrf" value="([^"]+)"`) // the login-link form's pre-session token
	csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

// signIn follows a login link as a person would: open it, press the button.
func (b *browser) signIn(link string) *resp {
	b.e.t.Helper()
	p := b.get(link)
	m := preRE.FindStringSubmatch(p.Body)
	if p.Status != 200 || m == nil {
		b.e.t.Fatalf("login link page: %d %s", p.Status, p.Body)
	}
	return b.do("POST", link, url.Values{"csrf": {m[1]}})
}

// csrf reads the CSRF token from a page of the signed-in user.
func (b *browser) csrf() string {
	b.e.t.Helper()
	p := b.get("/me/keys")
	m := csrfRE.FindStringSubmatch(p.Body)
	if m == nil {
		b.e.t.Fatalf("no csrf token on %d %s", p.Status, p.Body[:min(len(p.Body), 500)])
	}
	return m[1]
}

func artifacts() string {
	if d := os.Getenv("SKILLVAULT_ARTIFACTS"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "artifacts", "screenshots")
}

// doURL sends a request to any address (the identity provider too).
func (b *browser) doURL(method, u string, form url.Values) *resp {
	b.e.t.Helper()
	path, ok := strings.CutPrefix(u, b.e.URL)
	if ok {
		return b.do(method, path, form)
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return &resp{Status: res.StatusCode, Header: res.Header, Body: string(data), Cookies: res.Cookies()}
}

// sso signs in through the OIDC provider as email, like the browser does:
// start, the provider's form, the callback. It returns the callback's answer.
func (b *browser) sso(email string) *resp {
	b.e.t.Helper()
	return b.ssoFrom("/auth/oidc/start", email)
}

// ssoFrom is sso starting at a given start address (with its ?next=).
func (b *browser) ssoFrom(start, email string) *resp {
	b.e.t.Helper()
	p := b.get(start)
	if p.Status != http.StatusFound {
		b.e.t.Fatalf("oidc start: %d %s", p.Status, p.Body)
	}
	u, err := url.Parse(p.Header.Get("Location"))
	if err != nil {
		b.e.t.Fatal(err)
	}
	if f := b.doURL("GET", u.String(), nil); f.Status != 200 {
		b.e.t.Fatalf("provider refused the authorization request: %d %s", f.Status, f.Body)
	}
	form := u.Query()
	form.Set("email", email)
	back := b.doURL("POST", b.e.IdP.URL+"/authorize", form)
	if back.Status != http.StatusFound {
		b.e.t.Fatalf("provider authorize: %d %s", back.Status, back.Body)
	}
	return b.doURL("GET", back.Header.Get("Location"), nil)
}

// publishUpload posts the publish form as the upload page's script does:
// multipart, the token first and in X-CSRF-Token, then the fields, then
// the files (path → content, in the order given).
func (b *browser) publishUpload(fields, files [][2]string) *resp {
	b.e.t.Helper()
	tok := b.csrf()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", tok)
	for _, f := range fields {
		mw.WriteField(f[0], f[1])
	}
	for _, f := range files {
		w, _ := mw.CreateFormFile("files", f[0])
		w.Write([]byte(f[1]))
	}
	mw.Close()
	req, _ := http.NewRequest("POST", b.e.URL+"/publish", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-CSRF-Token", tok)
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return &resp{Status: res.StatusCode, Header: res.Header, Body: string(data), Cookies: res.Cookies()}
}
