package web

import (
	"context"
	"github.com/skillvault/skillvault/internal/testenv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// One Chromium serves the package; every test gets its own browser
// context (its own cookies), like a separate person.
var chrome struct {
	once   sync.Once
	ctx    context.Context
	cancel func()
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if chrome.cancel != nil {
		chrome.cancel()
	}
	os.Exit(code)
}

func chromiumPath() string {
	for _, p := range []string{os.Getenv("SKILLVAULT_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if p == "" {
			continue
		}
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

// tab is a browser tab in a fresh browser context.
type tab struct {
	t   *testing.T
	ctx context.Context
	e   *env
}

func (e *env) tab(t *testing.T, width int64) *tab {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		testenv.Missing(t, "no Chromium binary (/usr/bin/chromium): apt-get install chromium to run the browser tests")
	}
	chrome.once.Do(func() {
		dir, err := os.MkdirTemp("", "skillvault-chromium-")
		if err != nil {
			chrome.err = err
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
			chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
			chromedp.Flag("no-first-run", true), chromedp.UserDataDir(dir),
			// Tenant hosts (acme.example.test, …) reach the test servers.
			chromedp.Flag("host-resolver-rules", "MAP *."+siteDomain+" 127.0.0.1"))
		alloc, c1 := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, c2 := chromedp.NewContext(alloc)
		chrome.ctx = bctx
		chrome.cancel = func() { c2(); c1(); os.RemoveAll(dir) }
		chrome.err = chromedp.Do(bctx)
	})
	if chrome.err != nil {
		t.Fatalf("start Chromium: %v", chrome.err)
	}
	ctx, cancel := chromedp.NewContext(chrome.ctx, chromedp.WithNewBrowserContext())
	ctx, cancel2 := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancel2(); cancel() })
	tb := &tab{t: t, ctx: ctx, e: e}
	tb.do(chromedp.EmulateViewport(width, 900))
	return tb
}

func (b *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		loc, _ := chromedp.Run(b.ctx, chromedp.Location())
		b.t.Fatalf("browser at %s: %v", loc, err)
	}
}

// open navigates to a path of the server under test.
func (b *tab) open(path string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.e.URL + path))
}

// clickNav clicks and waits for the page that the click loads.
func (b *tab) clickNav(sel string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel)))); err != nil {
		b.t.Fatalf("click %s: %v", sel, err)
	}
}

func (b *tab) fill(sel, value string) {
	b.t.Helper()
	b.do(chromedp.WaitVisible(chromedp.CSS(sel)))
	b.eval(`document.querySelector(` + strconv.Quote(sel) + `).value = ""`)
	b.do(chromedp.SendKeys(chromedp.CSS(sel), value))
}

func (b *tab) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// sees fails the test unless the element's text contains every want.
func (b *tab) sees(sel string, want ...string) {
	b.t.Helper()
	got := b.text(sel)
	for _, w := range want {
		if !strings.Contains(got, w) {
			loc, _ := chromedp.Run(b.ctx, chromedp.Location())
			b.t.Fatalf("at %s, %s shows %q; want it to contain %q", loc, sel, trim(got, 600), w)
		}
	}
}

func (b *tab) eval(js string) any {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[any](js))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

func (b *tab) location() string {
	b.t.Helper()
	l, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	return strings.TrimPrefix(l, b.e.URL)
}

// shot saves a full-page screenshot as a test artifact.
func (b *tab) shot(name string) {
	b.t.Helper()
	buf, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	dir := artifacts()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// ssoSignIn signs in through the OIDC provider's form as email.
func (b *tab) ssoSignIn(email string) {
	b.t.Helper()
	b.open("/login")
	b.clickNav("a.btn-primary")
	b.fill("#email", email)
	b.clickNav("#signin")
}
