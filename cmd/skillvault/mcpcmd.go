package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/skillvault/skillvault/internal/client"
	"github.com/skillvault/skillvault/internal/gitserve"
	"github.com/skillvault/skillvault/internal/mcpserver"
)

func init() {
	register("mcp", "serve Skillvault's MCP tools over stdio to a desktop agent (talks to the server over HTTPS)", mcpStdio)
	register("mcp config", "print the configuration that registers Skillvault's MCP server with an agent", mcpConfig)
}

func mcpStdio(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "mcp", "", `  skillvault login --server https://skills.example.com && skillvault mcp
  SKILLVAULT_SERVER=https://skills.example.com SKILLVAULT_API_KEY=sv_... skillvault mcp
  skillvault mcp config --agent claude-desktop     # what to put in the agent's configuration

Speaks MCP (newline-delimited JSON-RPC) on standard input and output; logs go
to standard error. Every tool call is a request to the Skillvault server with
your API key: no database credentials are needed or used.`)
	if ok, code := parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(e, fs, "unexpected argument %q", fs.Arg(0))
	}
	c, err := connect(e)
	if err != nil {
		return fail(e, "mcp: %v", err)
	}
	c.UserAgent = "skillvault-mcp/" + client.ClientVersion
	// A wrong key or server should show in the agent's MCP log at once;
	// the tools still start, and each call explains the failure.
	check, cancel := context.WithTimeout(ctx, 10*time.Second)
	if _, err := c.Me(check); err != nil {
		e.log.Warn("cannot use the Skillvault server; the tools will report errors until this is fixed", "server", c.Server(), "err", describe(err))
	}
	cancel()
	e.log.Info("serving Skillvault MCP over stdio", "server", c.Server())
	err = mcpserver.ServeStdio(ctx, mcpserver.HTTPBackend{C: c}, io.NopCloser(e.stdin), nopWriteCloser{e.stdout}, e.log)
	if err != nil && ctx.Err() == nil {
		return fail(e, "mcp: %v", err)
	}
	return exitOK
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// agentHelp says where each agent's configuration goes.
var agentHelp = map[string]string{
	"claude-desktop": "add this to claude_desktop_config.json (macOS: ~/Library/Application Support/Claude/, Windows: %APPDATA%\\Claude\\), merging with any servers already there, then restart Claude Desktop",
	"claude-code":    "run this command (add --scope project to share it through .mcp.json)",
	"cursor":         "add this to ~/.cursor/mcp.json (every project) or .cursor/mcp.json (one project), merging with any servers already there",
	"vscode":         "add this to .vscode/mcp.json in your workspace (or run \"MCP: Open User Configuration\"), merging with any servers already there",
}

func mcpConfig(ctx context.Context, e *env, args []string) int {
	fs := newFlags(e, "mcp config", "--agent claude-desktop|claude-code|cursor|vscode [--server URL] [--remote]", `  skillvault mcp config --agent claude-desktop
  skillvault mcp config --agent claude-code --remote --server https://skills.example.com
  skillvault mcp config --agent vscode --remote > .vscode/mcp.json

Without --remote the agent starts "skillvault mcp" on your machine, which uses
the key stored by "skillvault login" (or SKILLVAULT_API_KEY). With --remote the
agent connects to the server's /mcp endpoint itself, sending your API key as
an Authorization header; the printed configuration reads the key from the
environment variable SKILLVAULT_API_KEY (VS Code prompts for it) and never
contains the key itself.`)
	agent := fs.String("agent", "", "claude-desktop, claude-code, cursor or vscode")
	server := fs.String("server", "", "the Skillvault server URL (default: SKILLVAULT_SERVER, or the one stored by skillvault login)")
	remote := fs.Bool("remote", false, "connect the agent to the server's /mcp endpoint instead of running skillvault mcp locally")
	name := fs.String("name", "skillvault", "the name the agent shows for the server")
	command := fs.String("command", "", "path of the skillvault binary the agent runs (default: this one)")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(e, fs, "unexpected argument %q", fs.Arg(0))
	}
	if _, ok := agentHelp[*agent]; !ok {
		return usageError(e, fs, "--agent must be claude-desktop, claude-code, cursor or vscode, not %q", *agent)
	}
	if *name == "" || strings.ContainsAny(*name, " \t\"'") {
		return usageError(e, fs, "--name must be a word without spaces or quotes")
	}
	srv, err := configServer(e, *server)
	if err != nil {
		return fail(e, "mcp config: %v", err)
	}
	if *command == "" {
		if *command, err = os.Executable(); err != nil {
			*command = "skillvault"
		}
	}
	var out string
	if *remote {
		out = remoteConfig(*agent, *name, srv+mcpserver.Path)
	} else {
		out = stdioConfig(*agent, *name, *command, srv)
	}
	fmt.Fprint(e.stdout, out)
	fmt.Fprintf(e.stderr, "%s: %s.\n", *agent, agentHelp[*agent])
	fmt.Fprintf(e.stderr, "Agents can also install the skills with their own installers (git asks for a password: give your API key):\n  %s\n",
		strings.Join(gitserve.RepoCommands(gitserve.RepoURL(srv, false)), "\n  "))
	switch {
	case *remote && *agent == "claude-desktop":
		fmt.Fprintln(e.stderr, "Claude Desktop reaches remote servers through mcp-remote (needs Node.js): replace <your API key> with your key.")
	case *remote && *agent != "vscode":
		fmt.Fprintln(e.stderr, "Set SKILLVAULT_API_KEY to your API key in the environment the agent starts from.")
	case !*remote:
		fmt.Fprintln(e.stderr, "The key is the one stored by skillvault login (run it first), or add SKILLVAULT_API_KEY to env.")
	}
	return exitOK
}

// configServer picks the server for a printed configuration: the flag,
// then SKILLVAULT_SERVER, then the stored login.
func configServer(e *env, flagServer string) (string, error) {
	s := flagServer
	if s == "" {
		s = e.getenv("SKILLVAULT_SERVER")
	}
	if s == "" {
		cfg, err := loadConfig(e)
		if err != nil {
			return "", err
		}
		s = cfg.Server
	}
	if s == "" {
		return "", fmt.Errorf("no server: pass --server URL, set SKILLVAULT_SERVER, or run skillvault login --server URL")
	}
	return client.NormalizeServer(s)
}

// The agents' configuration entries, with fields in the order people
// expect to read them.
type (
	stdioEntry struct {
		Type    string            `json:"type,omitempty"`
		Command string            `json:"command"`
		Args    []string          `json:"args"`
		Env     map[string]string `json:"env,omitempty"`
	}
	httpEntry struct {
		Type    string            `json:"type,omitempty"`
		URL     string            `json:"url"`
		Headers map[string]string `json:"headers"`
	}
	promptInput struct {
		Type        string `json:"type"`
		ID          string `json:"id"`
		Description string `json:"description"`
		Password    bool   `json:"password"`
	}
	mcpServersFile struct {
		MCPServers map[string]any `json:"mcpServers"`
	}
	vscodeFile struct {
		Inputs  []promptInput  `json:"inputs,omitempty"`
		Servers map[string]any `json:"servers"`
	}
)

func stdioConfig(agent, name, command, server string) string {
	e := stdioEntry{Command: command, Args: []string{"mcp"}, Env: map[string]string{"SKILLVAULT_SERVER": server}}
	switch agent {
	case "claude-code":
		// --env takes several values: it goes after the name, ended by --.
		return fmt.Sprintf("claude mcp add --transport stdio %s --env SKILLVAULT_SERVER=%s -- %s mcp\n", name, shellQuote(server), shellQuote(command))
	case "vscode":
		e.Type = "stdio"
		return jsonText(vscodeFile{Servers: map[string]any{name: e}})
	default: // claude-desktop, cursor
		return jsonText(mcpServersFile{MCPServers: map[string]any{name: e}})
	}
}

func remoteConfig(agent, name, url string) string {
	switch agent {
	case "claude-code":
		// --header takes several values: it goes last.
		return fmt.Sprintf("claude mcp add --transport http %s %s --header \"Authorization: Bearer $SKILLVAULT_API_KEY\"\n", name, shellQuote(url))
	case "cursor":
		return jsonText(mcpServersFile{MCPServers: map[string]any{name: httpEntry{URL: url,
			Headers: map[string]string{"Authorization": "Bearer ${env:SKILLVAULT_API_KEY}"}}}})
	case "vscode":
		return jsonText(vscodeFile{
			Inputs: []promptInput{{Type: "promptString", ID: "skillvault-api-key", Description: "Skillvault API key", Password: true}},
			Servers: map[string]any{name: httpEntry{Type: "http", URL: url,
				Headers: map[string]string{"Authorization": "Bearer ${input:skillvault-api-key}"}}}})
	default: // claude-desktop: its configuration file holds local commands only
		return jsonText(mcpServersFile{MCPServers: map[string]any{name: stdioEntry{Command: "npx",
			Args: []string{"-y", "mcp-remote", url, "--header", "Authorization:${SKILLVAULT_AUTH_HEADER}"},
			Env:  map[string]string{"SKILLVAULT_AUTH_HEADER": "Bearer <your API key>"}}}})
	}
}

func jsonText(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	enc.Encode(v)
	return b.String()
}

// shellQuote quotes s for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@%+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
