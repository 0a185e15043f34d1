package gitserve_test

import (
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestGitIsolation: another tenant's key is refused on a tenant's host, the
// same URL on each host shows that host's tenant only, a member's clone
// lacks other members' private skills, an anonymous clone holds only public
// published skills, and no object of an invisible skill is in any pack.
func TestGitIsolation(t *testing.T) {
	s := start(t)
	acme, globex := s.Tenant("acme"), s.Tenant("globex")
	publicDiscovery(t, s, acme, true)
	admin, member := adminOf(acme), memberOf(acme)
	create(t, s, admin, "acme-public", "public", true)
	create(t, s, admin, "acme-tenant", "tenant", true)
	create(t, s, admin, "acme-admin-private", "private", true)
	create(t, s, member, "acme-member-private", "private", true)
	create(t, s, admin, "acme-public-draft", "public", false)
	create(t, s, adminOf(globex), "globex-tenant", "tenant", true)
	publicDiscovery(t, s, globex, true)
	create(t, s, adminOf(globex), "globex-public", "public", true)
	publicDiscovery(t, s, globex, false)
	everything := []string{"acme-public", "acme-tenant", "acme-admin-private", "acme-member-private", "acme-public-draft", "globex-tenant", "globex-public"}

	get := func(slug, path, key string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", s.URL+path+"/info/refs?service=git-upload-pack", nil)
		req.Host = strings.TrimPrefix(repoURL(s, slug, ""), "http://")
		if key != "" {
			req.SetBasicAuth("anyone", key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	// Tenant B's key on A's host: 401 with a Basic challenge, on both URLs.
	for _, p := range []string{"/git/skills.git", "/git/auth/skills.git"} {
		if r := get("acme", p, globex.Admin.Key); r.StatusCode != 401 || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic realm=") {
			t.Errorf("globex key at acme %s: %d %q; want 401 with a Basic challenge", p, r.StatusCode, r.Header.Get("WWW-Authenticate"))
		}
	}
	// Anonymous where public discovery is off, and on the auth URL: 401.
	if r := get("globex", "/git/skills.git", ""); r.StatusCode != 401 || r.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("anonymous at globex (public discovery off): %d; want 401 with a challenge", r.StatusCode)
	}
	if r := get("acme", "/git/auth/skills.git", ""); r.StatusCode != 401 || r.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("anonymous at acme's auth URL: %d; want 401 with a challenge", r.StatusCode)
	}
	if r := get("acme", "/git/skills.git", "not-a-key"); r.StatusCode != 401 {
		t.Errorf("bad key: %d; want 401", r.StatusCode)
	}

	cases := []struct {
		name, slug, path string
		keys             map[string]string
		want             []string
	}{
		{"anonymous at acme", "acme", "/git/skills.git", map[string]string{"acme": ""}, []string{"acme-public"}},
		// git sends credentials only when asked: at a tenant with public
		// discovery on, members use the URL that always asks.
		{"acme member with a key, public URL", "acme", "/git/skills.git", map[string]string{"acme": acme.Member.Key}, []string{"acme-public"}},
		{"acme member", "acme", "/git/auth/skills.git", map[string]string{"acme": acme.Member.Key}, []string{"acme-member-private", "acme-public", "acme-tenant"}},
		// An admin sees every skill of the tenant; drafts stay out.
		{"acme admin", "acme", "/git/auth/skills.git", map[string]string{"acme": acme.Admin.Key}, []string{"acme-admin-private", "acme-member-private", "acme-public", "acme-tenant"}},
		{"globex member, same URL", "globex", "/git/skills.git", map[string]string{"globex": globex.Member.Key}, []string{"globex-public", "globex-tenant"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, s, tc.keys)
			dir := c.clone(repoURL(s, tc.slug, tc.path))
			if got := skillsIn(t, dir); !slices.Equal(got, tc.want) {
				t.Errorf("skills %v; want %v", got, tc.want)
			}
			// A mirror clone asks for every ref; its pack is every object the
			// server offers this caller. Walk them all.
			mirror := filepath.Join(t.TempDir(), "mirror.git")
			c.run("", "git", "clone", "--quiet", "--mirror", repoURL(s, tc.slug, tc.path), mirror)
			objects := c.git(mirror, "cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype)")
			for _, line := range strings.Split(objects, "\n") {
				id, typ, _ := strings.Cut(line, " ")
				content := c.run(mirror, "git", "cat-file", "-p", id)
				for _, name := range everything {
					if slices.Contains(tc.want, name) {
						continue
					}
					if strings.Contains(content, "marker-"+name+"-") || strings.Contains(content, name+"/") ||
						strings.Contains(content, "\t"+name+"\n") || strings.Contains(content, `"`+name+`"`) {
						t.Errorf("%s %s names invisible skill %s:\n%s", typ, id, name, content)
					}
				}
			}
			for _, ref := range strings.Fields(c.git(mirror, "for-each-ref", "--format=%(refname)")) {
				for _, name := range everything {
					if !slices.Contains(tc.want, name) && strings.Contains(ref, "/"+name+"/") {
						t.Errorf("ref %s names invisible skill %s", ref, name)
					}
				}
			}
		})
	}
}
