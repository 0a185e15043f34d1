package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/skillvault/skillvault/internal/bundle"
	"github.com/skillvault/skillvault/internal/mcpserver"
	"github.com/skillvault/skillvault/internal/service"
	"github.com/skillvault/skillvault/internal/testserver"
)

// mcpTestServer runs a real server with /mcp mounted as serve mounts it.
func mcpTestServer(t *testing.T) *testserver.Server {
	t.Helper()
	return testserver.Start(t, testserver.Options{Mount: testserver.MountMCP})
}

// headerTransport sends fixed headers with every request.
type headerTransport map[string]string

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h {
		r.Header.Set(k, v)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// toolNames connects an SDK client to url with headers and lists the tools.
func toolNames(t *testing.T, url string, headers map[string]string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tr := &mcp.StreamableClientTransport{Endpoint: url, HTTPClient: &http.Client{Transport: headerTransport(headers)}, DisableStandaloneSSE: true}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "config-test", Version: "1"}, nil).Connect(ctx, tr, nil)
	if err != nil {
		t.Fatalf("connect with the printed configuration: %v", err)
	}
	defer cs.Close()
	res, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	return names
}

// TestMCPConfig: every agent's printed configuration has the exact shape
// the agent reads, never contains the key, and the remote ones connect to
// the real /mcp endpoint once the key is put where they say.
func TestMCPConfig(t *testing.T) {
	s := mcpTestServer(t)
	acme := s.Tenant("acme")
	c := newCLI(t, s.URL, acme.Member.Key)
	wantTools := []string{"get_skill", "list_skills", "publish_skill", "rate_skill", "read_skill_file", "record_usage", "search_skills"}
	noKey := func(r result) {
		t.Helper()
		if strings.Contains(r.stdout, acme.Member.Key) || strings.Contains(r.stderr, acme.Member.Key) {
			t.Fatalf("the printed configuration contains the API key: %v", r)
		}
	}

	t.Run("stdio", func(t *testing.T) {
		for _, agent := range []string{"claude-desktop", "cursor", "vscode"} {
			r := c.must("mcp", "config", "--agent", agent, "--command", "/opt/bin/skillvault")
			noKey(r)
			var f struct {
				MCPServers map[string]struct {
					Type    string            `json:"type"`
					Command string            `json:"command"`
					Args    []string          `json:"args"`
					Env     map[string]string `json:"env"`
				} `json:"mcpServers"`
				Servers map[string]struct {
					Type    string            `json:"type"`
					Command string            `json:"command"`
					Args    []string          `json:"args"`
					Env     map[string]string `json:"env"`
				} `json:"servers"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &f); err != nil {
				t.Fatalf("%s: not JSON: %v", agent, r)
			}
			e, ok := f.MCPServers["skillvault"]
			if agent == "vscode" {
				e, ok = f.Servers["skillvault"]
				if e.Type != "stdio" {
					t.Fatalf("vscode entry type %q, want stdio", e.Type)
				}
			}
			if !ok || e.Command != "/opt/bin/skillvault" || !slices.Equal(e.Args, []string{"mcp"}) || e.Env["SKILLVAULT_SERVER"] != s.URL {
				t.Fatalf("%s stdio configuration: %s", agent, r.stdout)
			}
		}
		r := c.must("mcp", "config", "--agent", "claude-code", "--command", "/opt/my tools/skillvault", "--name", "vault")
		want := "claude mcp add --transport stdio vault --env SKILLVAULT_SERVER=" + s.URL + " -- '/opt/my tools/skillvault' mcp\n"
		if r.stdout != want {
			t.Fatalf("claude-code stdio command:\n%s\nwant:\n%s", r.stdout, want)
		}
	})

	t.Run("remote", func(t *testing.T) {
		mcpURL := s.URL + "/mcp"
		// Cursor: ${env:SKILLVAULT_API_KEY} in the header.
		r := c.must("mcp", "config", "--agent", "cursor", "--remote")
		noKey(r)
		var cursor struct {
			MCPServers map[string]struct {
				URL     string            `json:"url"`
				Headers map[string]string `json:"headers"`
			} `json:"mcpServers"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &cursor); err != nil {
			t.Fatal(err)
		}
		ce := cursor.MCPServers["skillvault"]
		if ce.URL != mcpURL || ce.Headers["Authorization"] != "Bearer ${env:SKILLVAULT_API_KEY}" {
			t.Fatalf("cursor remote configuration: %s", r.stdout)
		}
		auth := strings.ReplaceAll(ce.Headers["Authorization"], "${env:SKILLVAULT_API_KEY}", acme.Member.Key)
		if got := toolNames(t, ce.URL, map[string]string{"Authorization": auth}); !slices.Equal(got, wantTools) {
			t.Fatalf("tools through cursor's configuration: %v", got)
		}

		// VS Code: a password prompt referenced from the header.
		r = c.must("mcp", "config", "--agent", "vscode", "--remote")
		noKey(r)
		var vs struct {
			Inputs []struct {
				Type, ID string
				Password bool
			} `json:"inputs"`
			Servers map[string]struct {
				Type    string            `json:"type"`
				URL     string            `json:"url"`
				Headers map[string]string `json:"headers"`
			} `json:"servers"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &vs); err != nil {
			t.Fatal(err)
		}
		ve := vs.Servers["skillvault"]
		if len(vs.Inputs) != 1 || !vs.Inputs[0].Password || vs.Inputs[0].Type != "promptString" || ve.Type != "http" || ve.URL != mcpURL ||
			ve.Headers["Authorization"] != "Bearer ${input:"+vs.Inputs[0].ID+"}" {
			t.Fatalf("vscode remote configuration: %s", r.stdout)
		}
		auth = strings.ReplaceAll(ve.Headers["Authorization"], "${input:"+vs.Inputs[0].ID+"}", acme.Member.Key)
		if got := toolNames(t, ve.URL, map[string]string{"Authorization": auth}); !slices.Equal(got, wantTools) {
			t.Fatalf("tools through vscode's configuration: %v", got)
		}

		// Claude Code: one command with the header from the shell.
		r = c.must("mcp", "config", "--agent", "claude-code", "--remote")
		noKey(r)
		want := "claude mcp add --transport http skillvault " + mcpURL + " --header \"Authorization: Bearer $SKILLVAULT_API_KEY\"\n"
		if r.stdout != want {
			t.Fatalf("claude-code remote command:\n%s\nwant:\n%s", r.stdout, want)
		}
		if got := toolNames(t, mcpURL, map[string]string{"Authorization": "Bearer " + acme.Member.Key}); !slices.Equal(got, wantTools) {
			t.Fatalf("tools through claude-code's configuration: %v", got)
		}

		// Claude Desktop: mcp-remote with the header from its env.
		r = c.must("mcp", "config", "--agent", "claude-desktop", "--remote")
		noKey(r)
		var cd struct {
			MCPServers map[string]struct {
				Command string            `json:"command"`
				Args    []string          `json:"args"`
				Env     map[string]string `json:"env"`
			} `json:"mcpServers"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &cd); err != nil {
			t.Fatal(err)
		}
		de := cd.MCPServers["skillvault"]
		if de.Command != "npx" || !slices.Equal(de.Args, []string{"-y", "mcp-remote", mcpURL, "--header", "Authorization:${SKILLVAULT_AUTH_HEADER}"}) ||
			!strings.HasPrefix(de.Env["SKILLVAULT_AUTH_HEADER"], "Bearer ") {
			t.Fatalf("claude-desktop remote configuration: %s", r.stdout)
		}
	})

	t.Run("server from login, flag wins", func(t *testing.T) {
		stored := newCLI(t, "", "")
		if _, err := saveConfig(&env{getenv: func(k string) string { return stored.vars[k] }},
			clientConfig{Server: "https://stored.example.com/", APIKey: "sv_x"}); err != nil {
			t.Fatal(err)
		}
		r := stored.must("mcp", "config", "--agent", "cursor", "--remote")
		if !strings.Contains(r.stdout, `"url": "https://stored.example.com/mcp"`) {
			t.Fatalf("stored server not used: %v", r)
		}
		r = stored.must("mcp", "config", "--agent", "cursor", "--remote", "--server", "https://flag.example.com")
		if !strings.Contains(r.stdout, `"url": "https://flag.example.com/mcp"`) {
			t.Fatalf("--server did not win: %v", r)
		}
	})

	t.Run("errors", func(t *testing.T) {
		none := newCLI(t, "", "")
		if r := none.run("mcp", "config", "--agent", "cursor"); r.code != exitFail || !strings.Contains(r.stderr, "--server") || r.stdout != "" {
			t.Fatalf("no server: %v", r)
		}
		for _, args := range [][]string{{"--agent", "emacs"}, {}, {"--agent", "cursor", "extra"}, {"--agent", "cursor", "--name", "a b"}} {
			if r := c.run(append([]string{"mcp", "config"}, args...)...); r.code != exitUsage || r.stdout != "" {
				t.Fatalf("mcp config %v: %v, want usage error", args, r)
			}
		}
		if r := c.run("mcp", "config", "--agent", "cursor", "--server", "ftp://x"); r.code != exitFail {
			t.Fatalf("bad server URL: %v", r)
		}
	})
}

// TestMCPStdioCommand runs `skillvault mcp` in-process on pipes against a
// real server and drives it with the SDK client.
func TestMCPStdioCommand(t *testing.T) {
	s := mcpTestServer(t)
	acme, globex := s.Tenant("acme"), s.Tenant("globex")
	c := newCLI(t, s.URL, acme.Member.Key)
	a, err := s.Svc.Authenticate(context.Background(), acme.Member.Key, service.RequestMeta{Source: "api"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Svc.CreateSkill(context.Background(), a, []bundle.File{{Path: "SKILL.md",
		Data: []byte("---\nname: hello-world\ndescription: Greets the world politely.\n---\n# Hello\n")}}, service.PublishOptions{Publish: true}); err != nil {
		t.Fatal(err)
	}

	start := func(vars map[string]string) (*mcp.ClientSession, chan int) {
		t.Helper()
		stdinR, stdinW := io.Pipe()
		stdoutR, stdoutW := io.Pipe()
		var stderr strings.Builder
		e := &env{stdin: stdinR, stdout: stdoutW, stderr: &stderr, getenv: func(k string) string { return vars[k] }, log: slog.New(slog.DiscardHandler)}
		ctx, cancel := context.WithCancel(context.Background())
		code := make(chan int, 1)
		go func() { code <- run(ctx, e, []string{"mcp"}); stdoutW.Close() }()
		cctx, ccancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer ccancel()
		client := mcp.NewClient(&mcp.Implementation{Name: "desktop", Version: "1"}, nil)
		if err := mcp.AddSendingCustomMethod[*mcpserver.ListSkillsParams, *mcpserver.ListSkillsResult](client, mcpserver.MethodListSkills); err != nil {
			t.Fatal(err)
		}
		if err := mcp.AddSendingCustomMethod[*mcpserver.GetSkillParams, *mcpserver.GetSkillResult](client, mcpserver.MethodGetSkill); err != nil {
			t.Fatal(err)
		}
		cs, err := client.Connect(cctx, &mcp.IOTransport{Reader: stdoutR, Writer: stdinW}, nil)
		if err != nil {
			cancel()
			t.Fatalf("connect to skillvault mcp: %v (stderr: %s)", err, stderr.String())
		}
		t.Cleanup(func() { cs.Close(); cancel() })
		return cs, code
	}
	callTool := func(cs *mcp.ClientSession, name string, args map[string]any) *mcp.CallToolResult {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return res
	}

	cs, code := start(c.vars)
	res := callTool(cs, "get_skill", map[string]any{"name": "hello-world"})
	var got mcpserver.SkillOutput
	data, _ := json.Marshal(res.StructuredContent)
	if res.IsError || json.Unmarshal(data, &got) != nil || got.Name != "hello-world" || !strings.Contains(got.SkillMD, "Greets the world politely.") {
		t.Fatalf("get_skill through skillvault mcp: %+v", res)
	}
	// The Skills extension, through the REST client.
	if ext := cs.InitializeResult().Capabilities.Extensions[mcpserver.SkillsExtension]; ext == nil {
		t.Fatalf("skillvault mcp does not declare %s: %+v", mcpserver.SkillsExtension, cs.InitializeResult().Capabilities)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	listed, err := mcp.CallCustomMethod[*mcpserver.ListSkillsParams, *mcpserver.ListSkillsResult](ctx, cs, mcpserver.MethodListSkills, &mcpserver.ListSkillsParams{})
	if err != nil || len(listed.Skills) != 1 || listed.Skills[0].URI != "skill://hello-world/SKILL.md" ||
		listed.Skills[0].Frontmatter["description"] != "Greets the world politely." || len(listed.Skills[0].Resources) != 1 {
		t.Fatalf("skills/list through skillvault mcp: %+v (%v)", listed, err)
	}
	one, err := mcp.CallCustomMethod[*mcpserver.GetSkillParams, *mcpserver.GetSkillResult](ctx, cs, mcpserver.MethodGetSkill, &mcpserver.GetSkillParams{URI: "skill://hello-world/SKILL.md"})
	if err != nil || one.Skill.Resources[0].Digest != listed.Skills[0].Resources[0].Digest {
		t.Fatalf("skills/get through skillvault mcp: %+v (%v)", one, err)
	}
	res = callTool(cs, "publish_skill", map[string]any{"publish": true, "files": []map[string]any{
		{"path": "SKILL.md", "content": "---\nname: from-agent\ndescription: Written by an agent over stdio.\n---\n# From agent\n"}}})
	if res.IsError {
		t.Fatalf("publish through skillvault mcp: %+v", res)
	}
	if r := c.must("list", "--json"); !strings.Contains(r.stdout, "from-agent") {
		t.Fatalf("the published skill is not on the server: %v", r)
	}
	// Closing the client's side ends the command cleanly.
	cs.Close()
	select {
	case n := <-code:
		if n != exitOK {
			t.Fatalf("skillvault mcp exited %d after the client left", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("skillvault mcp did not exit after the client closed stdin")
	}

	// Another tenant's key sees none of it.
	other := newCLI(t, s.URL, globex.Member.Key)
	gs, _ := start(other.vars)
	res = callTool(gs, "get_skill", map[string]any{"name": "hello-world"})
	if !res.IsError {
		t.Fatalf("tenant B read tenant A's skill through skillvault mcp: %+v", res)
	}
	if l, err := mcp.CallCustomMethod[*mcpserver.ListSkillsParams, *mcpserver.ListSkillsResult](ctx, gs, mcpserver.MethodListSkills, &mcpserver.ListSkillsParams{}); err != nil || len(l.Skills) != 0 {
		t.Fatalf("tenant B's skills/list through skillvault mcp: %+v (%v)", l, err)
	}

	// Without any server configured, the command says so and exits 1.
	none := newCLI(t, "", "")
	if r := none.run("mcp"); r.code != exitFail || !strings.Contains(r.stderr, "skillvault login") || r.stdout != "" {
		t.Fatalf("mcp without a server: %v", r)
	}
}
