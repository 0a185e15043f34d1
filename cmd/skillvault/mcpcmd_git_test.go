package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestMCPConfigGitLines: mcp config also names the tenant's git repository
// for the agents' own installers, on standard error, so the configuration
// on standard output stays valid JSON.
func TestMCPConfigGitLines(t *testing.T) {
	c := newCLI(t, "https://acme.skills.example", "")
	r := c.must("mcp", "config", "--agent", "cursor", "--remote")
	var cfg map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &cfg); err != nil {
		t.Fatalf("stdout is not the JSON configuration: %v\n%s", err, r.stdout)
	}
	for _, want := range []string{
		"npx skills add https://acme.skills.example/git/auth/skills.git",
		"claude plugin marketplace add https://acme.skills.example/git/auth/skills.git",
		"git clone https://acme.skills.example/git/auth/skills.git",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}
