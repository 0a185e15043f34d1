package bench

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/testserver"
)

// TestRemoteComparesServers: --url with two running servers measures the
// point read of each in alternating slices and reports the second's as a
// ratio of the first's; bad --url/--key combinations are refused.
func TestRemoteComparesServers(t *testing.T) {
	ctx := context.Background()
	var urls, keys []string
	for _, slug := range []string{"first", "second"} {
		s := testserver.Start(t, testserver.Options{})
		tn := s.Tenant(slug)
		a, err := s.Svc.Authenticate(ctx, tn.Admin.Key, service.RequestMeta{})
		if err != nil {
			t.Fatal(err)
		}
		md := "---\nname: remote-skill\ndescription: A skill to read.\n---\n# Remote\n"
		if _, err := s.Svc.CreateSkill(ctx, a, []bundle.File{{Path: "SKILL.md", Data: []byte(md)}}, service.PublishOptions{Publish: true}); err != nil {
			t.Fatal(err)
		}
		urls, keys = append(urls, s.URL), append(keys, tn.Admin.Key)
	}
	cfg := Config{URL: strings.Join(urls, ","), Key: strings.Join(keys, ","), Clients: []int{8}, Duration: 300 * time.Millisecond, Scenarios: []string{ScenarioAPI}}
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ratio, ok := rep.Values["remote.point_read_vs_first.server_2.clients_8"]
	if !ok || ratio <= 0 {
		t.Fatalf("no ratio of the second server's point read: %v", rep.Values)
	}
	var points int
	for _, st := range rep.Stats {
		if strings.HasPrefix(st.Name, "GET /api/v1/skills/{name} at ") && st.Errors == 0 && st.PerSec > 0 {
			points++
		}
	}
	if points != 2 {
		t.Fatalf("point reads measured without errors: %d, want 2: %+v", points, rep.Stats)
	}
	if len(rep.Checks) != 1 || !strings.Contains(rep.Checks[0].Name, "within 2x") {
		t.Fatalf("checks %+v", rep.Checks)
	}

	for _, bad := range []Config{
		{URL: strings.Join(urls, ","), Key: "a,b,c"},
		{URL: "http://example.com", Key: "k"},
		{URL: urls[0], Key: ""},
	} {
		bad.Clients, bad.Duration, bad.Scenarios = []int{1}, time.Millisecond, []string{ScenarioAPI}
		if _, err := Run(ctx, bad); err == nil {
			t.Errorf("--url %q --key %q accepted", bad.URL, bad.Key)
		}
	}
}
