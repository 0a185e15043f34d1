package oauth_test

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/egress"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/testenv"
)

// The full flow with the real TypeScript SDK (@modelcontextprotocol/sdk,
// installed by .ci/run into SKILLVAULT_MCP_SDK_DIR): its auth() discovers
// the metadata, gets a client id (a Client ID Metadata Document, or
// dynamic registration), and sends a headless Chromium to the consent
// page, where the person signs in and approves; then tools/call (and
// skills/list when the server offers the Skills extension) succeed with
// the token, a refresh rotates it, and revoking the grant on the keys
// page cuts the client off. In CI (CI=true) a missing Node, SDK or
// Chromium fails the test; elsewhere it skips.

func need(t *testing.T, what, hint string) {
	t.Helper()
	testenv.Missing(t, "%s is missing (%s)", what, hint)
}

func sdkDir(t *testing.T) (node, dir string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		need(t, "node", "install Node.js 20")
	}
	dir = os.Getenv("SKILLVAULT_MCP_SDK_DIR")
	if dir == "" {
		need(t, "SKILLVAULT_MCP_SDK_DIR", "npm install --prefix DIR @modelcontextprotocol/sdk, as .ci/run does")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules/@modelcontextprotocol/sdk/dist/esm/client/auth.js")); err != nil {
		need(t, "@modelcontextprotocol/sdk in "+dir, err.Error())
	}
	return node, dir
}

func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("SKILLVAULT_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if st, err := os.Stat(p); p != "" && err == nil && !st.IsDir() {
			return p
		}
	}
	need(t, "Chromium", "apt-get install chromium")
	return ""
}

func TestRealSDKClient(t *testing.T) {
	node, dir := sdkDir(t)
	chrome := chromium(t)
	t.Run("client id metadata document", func(t *testing.T) {
		srv, id := metadataServer(t, func(self string) string {
			return `{"client_id":"` + self + `","client_name":"SDK test client","redirect_uris":["http://127.0.0.1/callback"],` +
				`"grant_types":["authorization_code","refresh_token"],"token_endpoint_auth_method":"none"}`
		})
		pool := x509.NewCertPool()
		pool.AddCert(srv.Certificate())
		e := start(t, service.Options{Egress: egress.MustNew(egress.Options{Allow: []string{"127.0.0.1"}, RootCAs: pool})})
		clientID := runSDK(t, e, node, dir, chrome, id)
		if clientID != id {
			t.Fatalf("the SDK used client id %q, want its metadata document %s", clientID, id)
		}
	})
	t.Run("dynamic registration", func(t *testing.T) {
		e := start(t, service.Options{})
		if clientID := runSDK(t, e, node, dir, chrome, ""); !strings.HasPrefix(clientID, "svcl_") {
			t.Fatalf("the SDK used client id %q, want a registered one", clientID)
		}
	})
}

type sdkStep struct {
	Step       string          `json:"step"`
	URL        string          `json:"url"`
	Error      string          `json:"error"`
	ClientID   string          `json:"client_id"`
	Scope      string          `json:"scope"`
	HasRefresh bool            `json:"has_refresh"`
	Tools      []string        `json:"tools"`
	IsError    bool            `json:"isError"`
	OK         bool            `json:"ok"`
	Reason     string          `json:"reason"`
	Result     json.RawMessage `json:"result"`
	Auth       string          `json:"auth"`
	Rotated    bool            `json:"rotated"`
	Refused    bool            `json:"refused"`
}

// runSDK runs testdata/sdk_client.mjs against tenant A's host and plays
// the person in Chromium; it returns the client id the SDK used.
func runSDK(t *testing.T, e *env, node, dir, chrome, metadataURL string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// A skill the signed-in person may read, for skills/list to find.
	admin := service.Actor{TenantID: e.A.ID, UserID: e.A.Admin.ID, Role: "admin", Scopes: []string{"read", "write", "admin"}, Source: "cli"}
	md := "---\nname: sdk-visible\ndescription: A skill the SDK lists.\n---\n# SDK visible\n"
	if _, err := e.ts.Svc.CreateSkill(ctx, admin, []bundle.File{{Path: "SKILL.md", Data: []byte(md)}},
		service.PublishOptions{Publish: true, Visibility: "tenant"}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, node, "testdata/sdk_client.mjs")
	cmd.Env = append(os.Environ(), "SKILLVAULT_MCP_SDK_DIR="+dir, "MCP_URL="+e.base(e.A)+"/mcp", "CLIENT_METADATA_URL="+metadataURL)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	lines := bufio.NewScanner(stdout)
	next := func() sdkStep {
		t.Helper()
		if !lines.Scan() {
			t.Fatalf("the SDK script ended early: %v\nstderr: %s", lines.Err(), stderr.String())
		}
		var s sdkStep
		if err := json.Unmarshal(lines.Bytes(), &s); err != nil {
			t.Fatalf("SDK script output %q: %v", lines.Text(), err)
		}
		if s.Step == "error" {
			t.Fatalf("SDK script failed: %s\nstderr: %s", s.Error, stderr.String())
		}
		t.Logf("sdk: %s", lines.Text())
		return s
	}

	b := newBrowser(t, chrome)
	s := next()
	if s.Step != "authorize" || !strings.HasPrefix(s.URL, e.base(e.A)+"/oauth/authorize?") {
		t.Fatalf("first step %+v: want the authorization URL at %s", s, e.base(e.A))
	}
	// Not signed in: the authorization URL leads to the sign-in page; the
	// person signs in (a login link here; OIDC works the same way) and
	// opens it again.
	b.run(chromedp.Navigate(s.URL))
	if loc := b.location(); !strings.Contains(loc, "/login?next=") {
		t.Fatalf("signed-out authorization request went to %s, want the sign-in page", loc)
	}
	link, err := e.ts.Svc.CreateLoginLink(context.Background(), service.System(e.A.ID), e.A.Member.ID)
	if err != nil {
		t.Fatal(err)
	}
	b.run(chromedp.Navigate(e.base(e.A) + link))
	b.click("form button[type=submit]")
	b.run(chromedp.Navigate(s.URL))
	b.run(chromedp.WaitVisible(chromedp.CSS("#oauth-approve")))
	body := b.text("main")
	for _, want := range []string{"SDK test client", "127.0.0.1", "read", "write"} {
		if !strings.Contains(body, want) {
			t.Fatalf("consent page does not show %q:\n%s", want, body)
		}
	}
	b.click("#oauth-approve")

	s = next()
	if s.Step != "authorized" || s.Auth != "AUTHORIZED" || !s.HasRefresh {
		t.Fatalf("after approval: %+v", s)
	}
	clientID := s.ClientID
	s = next()
	if s.Step != "tool" || s.IsError || !contains(s.Tools, "list_skills") {
		t.Fatalf("tool call with the issued token: %+v", s)
	}
	s = next()
	if s.Step != "skills" {
		t.Fatalf("want the skills/list step, got %+v", s)
	}
	if !s.OK || !strings.Contains(string(s.Result), `"skill://sdk-visible/SKILL.md"`) {
		t.Fatalf("skills/list with the issued token: %+v (%s)", s, s.Result)
	}
	s = next()
	if s.Step != "refreshed" || s.Auth != "AUTHORIZED" || !s.Rotated || s.IsError {
		t.Fatalf("refresh: %+v", s)
	}
	if s = next(); s.Step != "waiting" {
		t.Fatalf("want waiting, got %+v", s)
	}
	// The person revokes the grant on the keys page.
	b.run(chromedp.Navigate(e.base(e.A) + "/me/keys"))
	b.click(".grant-revoke")
	io.WriteString(stdin, "revoked\n")
	for {
		s = next()
		if s.Step == "after_revoke" {
			break
		}
	}
	if !s.Refused {
		t.Fatalf("the client still works after its grant was revoked: %+v", s)
	}
	if n := e.sql("SELECT count(*) FROM oauth_grants WHERE revoked_at IS NOT NULL AND revoke_reason LIKE 'revoked by %'"); n != 1 {
		t.Fatalf("%d grants revoked on the keys page, want 1", n)
	}
	return clientID
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

type browser struct {
	t   *testing.T
	ctx context.Context
}

func newBrowser(t *testing.T, path string) *browser {
	dir := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("no-first-run", true), chromedp.UserDataDir(dir),
		chromedp.Flag("host-resolver-rules", "MAP *."+siteDomain+" 127.0.0.1"))
	alloc, c1 := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, c2 := chromedp.NewContext(alloc)
	ctx, c3 := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { c3(); c2(); c1() })
	return &browser{t: t, ctx: ctx}
}

func (b *browser) run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("browser at %s: %v", b.location(), err)
	}
}

func (b *browser) location() string {
	loc, _ := chromedp.Run(b.ctx, chromedp.Location())
	return loc
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s at %s: %v", sel, b.location(), err)
	}
	return s
}

// click clicks and waits for the page the click loads.
func (b *browser) click(sel string) {
	b.t.Helper()
	b.run(chromedp.WaitVisible(chromedp.CSS(sel)))
	if _, err := chromedp.Run(b.ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel)))); err != nil {
		b.t.Fatalf("click %s at %s: %v", sel, b.location(), err)
	}
}
