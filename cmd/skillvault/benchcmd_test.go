package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skillvault/skillvault/internal/bench"
	"github.com/skillvault/skillvault/internal/testcorpus"
	"github.com/skillvault/skillvault/internal/testserver"
)

func runBench(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" },
		log: slog.New(slog.DiscardHandler)}
	code := run(context.Background(), e, append([]string{"bench"}, args...))
	return code, stdout.String(), stderr.String()
}

// TestBenchCommand runs every scenario of `skillvault bench` at a tiny
// size and checks the table and the JSON file: every scenario measured
// something without errors, every target has a figure, and the data set
// is consistent afterwards.
func TestBenchCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "bench.json")
	code, stdout, stderr := runBench(t, "--quiet", "--duration", "300ms", "--out", out,
		"--tenants", "5", "--other-skills", "5", "--skills", "60", "--versions", "1", "--ratings", "1", "--usage", "2",
		"--clients", "1,8", "--batch", "50",
		"--search-tenants", "3", "--search-skills", "40", "--search-big", "30", "--search-small", "5")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"scenario", "database.Read scope", "GET /api/v1/skills/{name}", "POST /api/v1/usage", "empty data folder to ready", "target"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("the table lacks %q:\n%s", want, stdout)
		}
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep bench.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("bench.json: %v", err)
	}
	if rep.Machine.CPUs < 1 || rep.Machine.PostgreSQL == "" || rep.Machine.Date == "" {
		t.Errorf("machine not described: %+v", rep.Machine)
	}
	seen := map[string]bool{}
	for _, s := range rep.Stats {
		seen[s.Scenario] = true
		if s.Ops < 1 || s.Errors > 0 || s.PerSec <= 0 || s.P50ms <= 0 && s.Scenario != bench.ScenarioColdStart {
			t.Errorf("%s/%s (%d clients): %d ops, %d errors, %.1f/s, p50 %.3f ms: %s", s.Scenario, s.Name, s.Clients, s.Ops, s.Errors, s.PerSec, s.P50ms, s.FirstErr)
		}
	}
	for _, sc := range bench.AllScenarios {
		if !seen[sc] {
			t.Errorf("no figures for scenario %s", sc)
		}
	}
	targets := []string{"scoped point read", "API GET skill", "tenant count: GET skill", "tenant count: search", "hybrid search p95", "hybrid search p50", "cold start", "anonymous SKILL.md", "first list page"}
	for _, want := range targets {
		found := false
		for _, c := range rep.Checks {
			if strings.HasPrefix(c.Name, want) {
				found = true
				if math.IsNaN(c.Value) || math.IsInf(c.Value, 0) || c.Value <= 0 {
					t.Errorf("target %q has no real figure: %+v", c.Name, c)
				}
			}
		}
		if !found {
			t.Errorf("no figure for the target %q", want)
		}
	}
	if v, ok := rep.Values["main.consistency_problems"]; !ok || v != 0 {
		t.Errorf("consistency problems after the run: %v (present %t); notes: %v", v, ok, rep.Notes)
	}
	if v := rep.Values["search.vector_cache_bytes"]; v <= 0 {
		t.Errorf("vector cache memory not reported: %v", v)
	}
}

func TestBenchFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--scenarios", "scope,warp"}, `unknown scenario "warp"`},
		{[]string{"--clients", "1,0"}, "--clients"},
		{[]string{"--url", "http://192.0.2.1:8080", "--key", "sv_x", "--out", ""}, "loopback"},
		{[]string{"--url", "http://127.0.0.1:1", "--out", ""}, "--key"},
		{[]string{"--url", "https://127.0.0.1:8443", "--key", "sv_x", "--out", ""}, "plain http://"},
	} {
		code, _, stderr := runBench(t, tc.args...)
		if code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("bench %v: exit %d, stderr %q; want a failure mentioning %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestBenchRemote measures a running server through --url: the API read
// scenario runs against the skills the key can list, without errors.
func TestBenchRemote(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	acme := s.Tenant("acme")
	c := newCLI(t, s.URL, acme.Member.Key)
	for _, dir := range testcorpus.Fixtures(t)[:2] {
		c.must("push", dir)
	}
	out := filepath.Join(t.TempDir(), "bench.json")
	code, stdout, stderr := runBench(t, "--quiet", "--url", s.URL, "--key", acme.Member.Key, "--scenarios", "api",
		"--clients", "1,2", "--duration", "200ms", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep bench.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Stats) != 4 {
		t.Fatalf("%d measurements, want GET skill and search at 1 and 2 clients:\n%s", len(rep.Stats), stdout)
	}
	for _, st := range rep.Stats {
		if st.Ops < 1 || st.Errors > 0 {
			t.Errorf("%s (%d clients): %d ops, %d errors: %s", st.Name, st.Clients, st.Ops, st.Errors, st.FirstErr)
		}
	}
}
