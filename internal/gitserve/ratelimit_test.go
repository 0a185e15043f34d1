package gitserve_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/testserver"
)

// TestGitRateLimit: the git endpoint applies the API's per-key rate limit,
// and a push is refused before any credential is asked for.
func TestGitRateLimit(t *testing.T) {
	s := testserver.Start(t, testserver.Options{BaseDomain: baseDomain, RateLimit: 1, Mount: testserver.MountGit})
	acme := s.Tenant("acme")
	host := strings.TrimPrefix(repoURL(s, "acme", ""), "http://")
	codes := map[int]int{}
	for range 6 {
		req, _ := http.NewRequest("GET", s.URL+"/git/skills.git/info/refs?service=git-upload-pack", nil)
		req.Host = host
		req.SetBasicAuth("git", acme.Member.Key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes[resp.StatusCode]++
		if resp.StatusCode == 429 && resp.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	if codes[200] == 0 || codes[429] == 0 {
		t.Errorf("statuses %v; want some 200 then 429 at 1 request/s", codes)
	}
	for _, rq := range []struct{ method, path string }{
		{"GET", "/git/skills.git/info/refs?service=git-receive-pack"},
		{"POST", "/git/skills.git/git-receive-pack"},
		{"POST", "/git/auth/skills.git/git-receive-pack"},
	} {
		method, p := rq.method, rq.path
		req, _ := http.NewRequest(method, s.URL+p, nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Errorf("%s %s: %d; want 403", method, p, resp.StatusCode)
		}
	}
}
