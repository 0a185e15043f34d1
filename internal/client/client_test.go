package client_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/client"
	"github.com/skillvault/skillvault/internal/testcorpus"
	"github.com/skillvault/skillvault/internal/testserver"
)

func zipDir(t *testing.T, dir string) ([]byte, *bundle.Bundle) {
	t.Helper()
	files, err := bundle.ReadDir(dir, bundle.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundle.New(files, bundle.Limits{}, filepath.Base(dir))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := bundle.WriteZip(&buf, b.Files); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), b
}

func newClient(t *testing.T, server, key string) *client.Client {
	t.Helper()
	c, err := client.New(server, key)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClientAgainstServer(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	acme, other := s.Tenant("acme"), s.Tenant("other")
	ctx := context.Background()
	c := newClient(t, s.URL+"/", acme.Member.Key)

	me, err := c.Me(ctx)
	if err != nil || me.User.Email != acme.Member.Email || me.TenantID != acme.ID.String() {
		t.Fatalf("Me: %+v, %v", me, err)
	}
	if _, err := newClient(t, s.URL, "sv_wrong").Me(ctx); !client.IsUnauthenticated(err) {
		t.Errorf("Me with a wrong key: %v", err)
	}

	fixtures := testcorpus.Fixtures(t)
	var names []string
	for i, dir := range fixtures {
		zip, b := zipDir(t, dir)
		p, err := c.CreateSkill(ctx, zip, i%2 == 0, "")
		if err != nil {
			t.Fatalf("CreateSkill %s: %v", dir, err)
		}
		want := map[bool]string{true: "published", false: "draft"}[i%2 == 0]
		if p.Skill.Name != b.Frontmatter.Name || p.Version.Number != 1 || p.Version.Digest != b.Digest || p.Skill.Status != want || len(p.Files) != len(b.Files) {
			t.Errorf("CreateSkill %s: %+v", dir, p)
		}
		names = append(names, p.Skill.Name)
	}
	zip, b := zipDir(t, fixtures[0])
	name := b.Frontmatter.Name

	_, err = c.CreateSkill(ctx, zip, true, "")
	var ce *client.Error
	if !client.IsConflict(err) || !errors.As(err, &ce) || ce.Type != "/problems/conflict" || ce.Detail == "" {
		t.Errorf("CreateSkill of an existing name: %#v", err)
	}
	p, err := c.AddVersion(ctx, name, zip, true)
	if err != nil || !p.Unchanged || p.Version.Number != 1 {
		t.Errorf("AddVersion of the same bundle: %+v, %v", p, err)
	}

	// A bundle the server refuses comes back with its located problems.
	bad := []bundle.File{{Path: "SKILL.md", Data: []byte("---\nname: Bad_Name\ndescription: x\n---\n")}}
	var buf bytes.Buffer
	bundle.WriteZip(&buf, bad)
	_, err = c.CreateSkill(ctx, buf.Bytes(), false, "")
	if !errors.As(err, &ce) || ce.Status != 400 || len(ce.Problems) == 0 || ce.Problems[0].File != "SKILL.md" || ce.Problems[0].Line != 2 {
		t.Errorf("invalid bundle: %#v", err)
	}
	if !strings.Contains(err.Error(), "SKILL.md:2:") || !strings.Contains(err.Error(), "HTTP 400") {
		t.Errorf("Error() = %q", err)
	}

	// Manifest, files and archive agree with the bundle.
	v, err := c.Version(ctx, name, "")
	if err != nil || v.Digest != b.Digest || len(v.Files) != len(b.Files) || v.Skill != name {
		t.Fatalf("Version: %+v, %v", v, err)
	}
	for _, f := range b.Files {
		data, err := c.File(ctx, name, "1", f.Path)
		if err != nil || !bytes.Equal(data, f.Data) {
			t.Errorf("File %s: %v", f.Path, err)
		}
	}
	z, err := c.BundleZip(ctx, name, "latest")
	if err != nil {
		t.Fatal(err)
	}
	if files, _, err := bundle.ReadArchive(z, bundle.Limits{}); err != nil || bundle.Digest(files) != b.Digest {
		t.Errorf("BundleZip: %v", err)
	}
	dv, files, err := c.Download(ctx, name, "1")
	if err != nil || dv.Digest != b.Digest || bundle.Digest(files) != b.Digest {
		t.Errorf("Download: %v", err)
	}
	if _, err := c.File(ctx, name, "1", "no/such/file.md"); !client.IsNotFound(err) {
		t.Errorf("File of a missing path: %v", err)
	}

	// Publish a draft, rate, record usage, read stats.
	draft := names[1]
	sk, msg, err := c.Publish(ctx, draft)
	if err != nil || sk.Status != "published" || msg == "" {
		t.Errorf("Publish: %+v %q %v", sk, msg, err)
	}
	r, err := c.Rate(ctx, name, 4, "useful")
	if err != nil || r.RatingCount != 1 || r.RatingAverage != 4 || r.Rating.Stars != 4 {
		t.Errorf("Rate: %+v, %v", r, err)
	}
	u, err := c.RecordUsage(ctx, []client.UsageEvent{
		{Skill: name, Version: 1, Event: "install", Source: "cli"},
		{Skill: "no-such-skill", Event: "install", Source: "cli"},
	})
	if err != nil || u.Accepted != 1 || len(u.Rejected) != 1 || u.Rejected[0].Index != 1 {
		t.Errorf("RecordUsage: %+v, %v", u, err)
	}
	st, err := c.Stats(ctx, name)
	if err != nil || st.Installs != 1 || st.RatingCount != 1 {
		t.Errorf("Stats: %+v, %v", st, err)
	}
	if got, err := c.Skill(ctx, name); err != nil || got.Installs != 1 || got.RatingCount != 1 {
		t.Errorf("Skill: %+v, %v", got, err)
	}

	// Listing follows cursors through every page.
	seen := map[string]bool{}
	cursor, pages := "", 0
	for {
		p, err := c.ListSkills(ctx, client.ListOptions{Limit: 2, Sort: "name"}, cursor)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, s := range p.Items {
			seen[s.Name] = true
		}
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	if len(seen) != len(names) || pages < len(names)/2 {
		t.Errorf("ListSkills saw %d skills in %d pages; want %d", len(seen), pages, len(names))
	}

	res, err := c.Search(ctx, "postmortem outage timeline", client.ModeHybrid, 3)
	if err != nil || len(res.Items) == 0 || res.Items[0].Name != "incident-postmortem" {
		t.Errorf("Search: %+v, %v", res, err)
	}

	// Another tenant's key sees none of it.
	o := newClient(t, s.URL, other.Admin.Key)
	if _, err := o.Skill(ctx, name); !client.IsNotFound(err) {
		t.Errorf("other tenant Skill: %v", err)
	}
	if _, _, err := o.Download(ctx, name, ""); !client.IsNotFound(err) {
		t.Errorf("other tenant Download: %v", err)
	}
	if p, err := o.ListSkills(ctx, client.ListOptions{}, ""); err != nil || len(p.Items) != 0 {
		t.Errorf("other tenant ListSkills: %+v, %v", p, err)
	}
	if res, err := o.Search(ctx, "postmortem", "", 10); err != nil || len(res.Items) != 0 {
		t.Errorf("other tenant Search: %+v, %v", res, err)
	}
	if u, err := o.RecordUsage(ctx, []client.UsageEvent{{Skill: name, Event: "install", Source: "cli"}}); err != nil || u.Accepted != 0 {
		t.Errorf("other tenant RecordUsage: %+v, %v", u, err)
	}
}

// TestSearchFallback runs Search against a server without the search
// route: the client lists and matches by itself.
func TestSearchFallback(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	acme := s.Tenant("acme")
	ctx := context.Background()
	for _, dir := range testcorpus.Fixtures(t) {
		zip, _ := zipDir(t, dir)
		if _, err := newClient(t, s.URL, acme.Member.Key).CreateSkill(ctx, zip, true, ""); err != nil {
			t.Fatal(err)
		}
	}
	u, _ := url.Parse(s.URL)
	proxy := httputil.NewSingleHostReverseProxy(u)
	var searched atomic.Bool
	old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/search" {
			searched.Store(true)
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(404)
			w.Write([]byte(`{"type":"/problems/not-found","title":"Not found","status":404,"detail":"no such API route"}`))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer old.Close()
	c := newClient(t, old.URL, acme.Member.Key)
	res, err := c.Search(ctx, "Terraform plan", client.ModeHybrid, 5)
	if err != nil || !searched.Load() {
		t.Fatalf("Search: %v (route tried: %v)", err, searched.Load())
	}
	if len(res.Items) == 0 || res.Items[0].Name != "terraform-plan-check" || res.Items[0].Score != 1 || res.Items[0].Version != 1 {
		t.Errorf("fallback search: %+v", res.Items)
	}
	if res, err := c.Search(ctx, "zzzz-nothing", "", 5); err != nil || len(res.Items) != 0 {
		t.Errorf("fallback search with no match: %+v, %v", res, err)
	}
}

func TestUserAgentRetryAndKeyHygiene(t *testing.T) {
	var calls atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ua := r.Header.Get("User-Agent"); !strings.HasPrefix(ua, "skillvault-cli/") {
			t.Errorf("User-Agent %q", ua)
		}
		if r.Header.Get("Authorization") != "Bearer sv_secret" {
			t.Errorf("Authorization %q", r.Header.Get("Authorization"))
		}
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"user":{"email":"a@b.c"},"scopes":["read"]}`))
	}))
	defer ts.Close()
	c := newClient(t, ts.URL, "sv_secret")
	if me, err := c.Me(context.Background()); err != nil || me.User.Email != "a@b.c" || calls.Load() != 2 {
		t.Errorf("Me after a 429: %+v, %v, %d calls", me, err, calls.Load())
	}
	if strings.Contains(c.String(), "sv_secret") {
		t.Error("String() shows the key")
	}
	ts.Close()
	_, err := c.Me(context.Background())
	if err == nil || strings.Contains(err.Error(), "sv_secret") {
		t.Errorf("error of an unreachable server: %v", err)
	}
	for _, bad := range []string{"", "localhost:8080", "ftp://x", "http://"} {
		if _, err := client.New(bad, "k"); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
}

func TestErrorOfForeignServer(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		w.Write([]byte("<html>bad gateway</html>"))
	}))
	defer ts.Close()
	_, err := newClient(t, ts.URL, "k").Skill(context.Background(), "x")
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != 502 || ce.Title != "Bad Gateway" || strings.Contains(err.Error(), "<html>") {
		t.Errorf("502 from a proxy: %#v", err)
	}
}

// An upload refused with 429 or 503 is sent again after Retry-After, the
// same bytes each time; a usage batch (not idempotent) is never resent;
// and the retries stop after a bounded number of attempts.
func TestRetryUploadsNotUsage(t *testing.T) {
	var uploads, usage, me atomic.Int32
	var bodies []string
	var mu sync.Mutex
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/api/v1/skills":
			mu.Lock()
			bodies = append(bodies, string(body))
			mu.Unlock()
			if n := uploads.Add(1); n <= 2 {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader([]int{http.StatusTooManyRequests, http.StatusServiceUnavailable}[n-1])
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"created":true,"version":{"number":1}}`))
		case "/api/v1/usage":
			usage.Add(1)
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
		case "/api/v1/me":
			me.Add(1)
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer ts.Close()
	c := newClient(t, ts.URL, "k")
	var retries []client.Retry
	c.OnRetry = func(r client.Retry) { retries = append(retries, r) }
	p, err := c.CreateSkill(context.Background(), []byte("zip bytes"), true, "")
	if err != nil || !p.Created || uploads.Load() != 3 {
		t.Fatalf("upload after 429 and 503: %+v, %v, %d attempts", p, err, uploads.Load())
	}
	for _, b := range bodies {
		if b != "zip bytes" {
			t.Errorf("a retried upload sent %q", b)
		}
	}
	if len(retries) != 2 || retries[0].Status != 429 || retries[1].Status != 503 || retries[0].Path != "/api/v1/skills" {
		t.Errorf("OnRetry saw %+v", retries)
	}
	if _, err := c.RecordUsage(context.Background(), []client.UsageEvent{{Skill: "x", Event: "install"}}); client.StatusOf(err) != 429 || usage.Load() != 1 {
		t.Errorf("usage batch: %v after %d attempts; want one attempt and the 429", err, usage.Load())
	}
	if _, err := c.Me(context.Background()); client.StatusOf(err) != 503 || me.Load() != 8 {
		t.Errorf("a server that never recovers: %v after %d attempts; want 503 after 8", err, me.Load())
	}
}
