package web

import (
	"bufio"
	"context"
	"fmt"
	"mime"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/discovery"
	"github.com/skillvault/skillvault/internal/fileserve"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/testserver"
)

// mimeExtensions lists every extension of the system's mime table
// (/etc/mime.types), or, where there is none, Go's built-in one; the types
// that carried the attack are always included.
func mimeExtensions(t *testing.T) []string {
	exts := []string{".html", ".htm", ".xhtml", ".xht", ".svg", ".svgz", ".js", ".mjs", ".xml", ".xsl", ".css", ".pdf", ".swf", ".wasm"}
	f, err := os.Open("/etc/mime.types")
	if err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			fields := strings.Fields(line)
			for _, e := range fields[1:] {
				exts = append(exts, "."+strings.ToLower(e))
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	} else {
		t.Logf("no /etc/mime.types (%v): using Go's built-in table", err)
		for _, e := range []string{".avif", ".gif", ".jpeg", ".jpg", ".json", ".png", ".webp", ".txt"} {
			if mime.TypeByExtension(e) != "" {
				exts = append(exts, e)
			}
		}
	}
	slices.Sort(exts)
	return slices.Compact(exts)
}

// inert is what a browser cannot run: text shown as text, or a download.
func inert(h http.Header, archive bool) error {
	ct, cd := h.Get("Content-Type"), h.Get("Content-Disposition")
	attachment := strings.HasPrefix(cd, "attachment;")
	switch {
	case archive && (ct == fileserve.TypeZip || ct == fileserve.TypeGzip) && attachment:
	case !archive && (ct == fileserve.TypeText || ct == fileserve.TypeMarkdown):
	case !archive && ct == fileserve.TypeBinary && attachment:
	default:
		return fmt.Errorf("type %q, disposition %q", ct, cd)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" {
		return fmt.Errorf("no nosniff")
	}
	if h.Get("Content-Security-Policy") != fileserve.CSP {
		return fmt.Errorf("CSP %q, want %q", h.Get("Content-Security-Policy"), fileserve.CSP)
	}
	return nil
}

// TestEveryFileRouteServesInertTypes publishes a file of every extension of
// the mime table, as text that a browser would run and as binary, and
// fetches each through every route declared to serve bundle bytes
// (fileserve.Routes: a route that serves them undeclared is refused by
// fileserve itself). None may come back with a type a browser renders or
// executes, and each carries nosniff and the sandbox CSP.
func TestEveryFileRouteServesInertTypes(t *testing.T) {
	e := &env{t: t}
	e.TS = testserver.Start(t, testserver.Options{Mount: func(s *testserver.Server) {
		discovery.Register(s.Srv.Mux, s.Svc, discovery.Options{
			Auth:       func(r *http.Request) (service.Actor, error) { return s.Srv.API.Authenticate(r, "api") },
			HostTenant: s.Srv.HostTenant,
		})
		e.Web = New(s.Svc, Config{HostTenant: s.Srv.HostTenant})
		e.Web.Register(s.Srv.Mux)
	}})
	e.URL = e.TS.URL
	// The loopback host is served the "default" tenant, anonymously too.
	tn := e.tenant("default")
	e.publicDiscovery(tn)

	const page = `<html><body><script>alert(document.domain)</script><svg onload="alert(1)"/></body></html>` + "\n"
	binary := append([]byte("\x89PNG\r\n\x1a\n\x00\x00"), page...)
	type served struct{ skill, path string }
	var want []served
	perSkill := map[string][]bundle.File{}
	for i, ext := range mimeExtensions(t) {
		skill := fmt.Sprintf("every-type-%d", i/400)
		perSkill[skill] = append(perSkill[skill],
			bundle.File{Path: "text/f" + ext, Data: []byte(page)}, bundle.File{Path: "bin/f" + ext, Data: binary})
		want = append(want, served{skill, "text/f" + ext}, served{skill, "bin/f" + ext})
	}
	for skill, files := range perSkill {
		md := "---\nname: " + skill + "\ndescription: One file of every type.\n---\n# " + skill + "\n"
		files = append(files, bundle.File{Path: "SKILL.md", Data: []byte(md)})
		want = append(want, served{skill, "SKILL.md"})
		if _, err := e.TS.Svc.CreateSkill(context.Background(), tn.actor(tn.Admin, "admin"), files,
			service.PublishOptions{Publish: true, Visibility: "public"}); err != nil {
			t.Fatal(err)
		}
	}

	b := e.client()
	b.signIn(e.loginLink(tn, tn.Admin))
	get := func(rt fileserve.Route, path string) (*http.Response, error) {
		req, err := http.NewRequest("GET", e.URL+path, nil)
		if err != nil {
			return nil, err
		}
		client := http.DefaultClient
		switch rt.Auth {
		case "key":
			req.Header.Set("Authorization", "Bearer "+tn.Admin.Key)
		case "session":
			client = b.c // the signed-in browser's client, with its cookies
		case "anonymous":
		default:
			return nil, fmt.Errorf("route auth %q is not known to this test", rt.Auth)
		}
		res, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		res.Body.Close()
		return res, nil
	}

	routes := fileserve.Routes()
	if len(routes) < 6 {
		t.Fatalf("only %d file routes declared: %v", len(routes), routes)
	}
	for _, rt := range routes {
		t.Run(rt.Pattern, func(t *testing.T) {
			if rt.Archive {
				for skill := range perSkill {
					res, err := get(rt, rt.Path(skill, ""))
					if err != nil {
						t.Fatal(err)
					}
					if res.StatusCode != 200 {
						t.Fatalf("%s: status %d", rt.Path(skill, ""), res.StatusCode)
					}
					if err := inert(res.Header, true); err != nil {
						t.Errorf("%s: %v", rt.Path(skill, ""), err)
					}
				}
				return
			}
			var mu sync.Mutex
			var wg sync.WaitGroup
			work := make(chan served)
			for range 4 {
				wg.Go(func() {
					for f := range work {
						p := rt.Path(f.skill, f.path)
						res, err := get(rt, p)
						mu.Lock()
						switch {
						case err != nil:
							t.Errorf("%s: %v", p, err)
						case res.StatusCode != 200:
							t.Errorf("%s: status %d", p, res.StatusCode)
						default:
							if err := inert(res.Header, false); err != nil {
								t.Errorf("%s: %v", p, err)
							}
						}
						mu.Unlock()
					}
				})
			}
			for _, f := range want {
				work <- f
			}
			close(work)
			wg.Wait()
		})
	}
}
