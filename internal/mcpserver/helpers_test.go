package mcpserver_test

import (
	"context"
	"encoding/json"
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

// start runs a real server with the MCP endpoint mounted as serve mounts it.
func start(t *testing.T) *testserver.Server {
	t.Helper()
	return testserver.Start(t, testserver.Options{Mount: testserver.MountMCP})
}

// keyTransport adds an API key to every request.
type keyTransport struct{ key string }

func (k keyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+k.key)
	return http.DefaultTransport.RoundTrip(r)
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// connect opens an MCP session over HTTP with key, at the SDK's newest
// protocol version (2026-07-28: sessionless).
func connect(t *testing.T, s *testserver.Server, key string) *mcp.ClientSession {
	t.Helper()
	return connectAt(t, s, key, "")
}

// connectAt is connect at a protocol version ("" for the newest); versions
// before 2026-07-28 open a session with initialize.
func connectAt(t *testing.T, s *testserver.Server, key, version string) *mcp.ClientSession {
	t.Helper()
	tr := &mcp.StreamableClientTransport{Endpoint: s.URL + "/mcp", HTTPClient: &http.Client{Transport: keyTransport{key}},
		DisableStandaloneSSE: true}
	cs, err := newClient(t, "test").Connect(ctxT(t), tr, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatalf("connect at %q: %v", version, err)
	}
	if version != "" && cs.InitializeResult().ProtocolVersion != version {
		t.Fatalf("asked for protocol %s, got %s", version, cs.InitializeResult().ProtocolVersion)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// newClient is an SDK client that can send the Skills extension's methods.
func newClient(t *testing.T, name string) *mcp.Client {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: name, Version: "1"}, nil)
	for _, err := range []error{
		mcp.AddSendingCustomMethod[*mcpserver.ListSkillsParams, *mcpserver.ListSkillsResult](c, mcpserver.MethodListSkills),
		mcp.AddSendingCustomMethod[*mcpserver.GetSkillParams, *mcpserver.GetSkillResult](c, mcpserver.MethodGetSkill),
		mcp.AddSendingCustomMethod[*mcpserver.ReadDirectoryParams, *mcpserver.ReadDirectoryResult](c, mcpserver.MethodReadDirectory),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// call calls a tool that must succeed and decodes its structured output.
func call[T any](t *testing.T, cs *mcp.ClientSession, tool string, args map[string]any) T {
	t.Helper()
	res, err := cs.CallTool(ctxT(t), &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", tool, err)
	}
	if res.IsError {
		t.Fatalf("%s(%v): tool error: %s", tool, args, text(res))
	}
	var out T
	data, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("%s: decode %s: %v", tool, data, err)
	}
	return out
}

// callErr calls a tool that must fail with a tool error (not a protocol
// error) and returns its message.
func callErr(t *testing.T, cs *mcp.ClientSession, tool string, args map[string]any) string {
	t.Helper()
	res, err := cs.CallTool(ctxT(t), &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s: protocol error %v, want a tool error", tool, err)
	}
	if !res.IsError {
		t.Fatalf("%s(%v) succeeded, want a tool error: %s", tool, args, text(res))
	}
	msg := text(res)
	if strings.Contains(msg, "goroutine") || strings.Contains(msg, ".go:") {
		t.Fatalf("%s: tool error shows internals: %s", tool, msg)
	}
	return msg
}

func text(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

func wantContains(t *testing.T, what, got string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(got, s) {
			t.Fatalf("%s: %q does not contain %q", what, got, s)
		}
	}
}

// actor authenticates key as the service would.
func actor(t *testing.T, s *testserver.Server, key string) service.Actor {
	t.Helper()
	a, err := s.Svc.Authenticate(context.Background(), key, service.RequestMeta{Source: "api"})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// skillFiles is a small valid bundle with a text script and a binary file.
func skillFiles(name, desc string) []bundle.File {
	return []bundle.File{
		{Path: "SKILL.md", Data: []byte("---\nname: " + name + "\ndescription: " + desc + "\n---\n# " + name + "\n\nRun scripts/extract.py on the input.\n")},
		{Path: "scripts/extract.py", Data: []byte("print('extract')\n")},
		{Path: "assets/logo.png", Data: []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")},
	}
}

// publish stores a published skill as the key's user.
func publish(t *testing.T, s *testserver.Server, key string, files []bundle.File, visibility string) service.Published {
	t.Helper()
	p, err := s.Svc.CreateSkill(context.Background(), actor(t, s, key), files, service.PublishOptions{Publish: true, Visibility: visibility, Category: "documents", Tags: []string{"docs"}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func names(skills []mcpserver.SkillSummary) []string {
	var out []string
	for _, s := range skills {
		out = append(out, s.Name)
	}
	slices.Sort(out)
	return out
}
