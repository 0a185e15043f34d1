package mcpserver_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// rpcResponse is a JSON-RPC error response.
type rpcResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Error   *struct {
		Code    int64  `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// postRPC sends body to /mcp with key and extra headers.
func postRPC(t *testing.T, url, key, body string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", url+"/mcp", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+key)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

const modernMeta = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}`

// TestRPCErrorBodies: over Streamable HTTP, at every protocol version, an
// unknown method, malformed JSON, a message that is not JSON-RPC and an
// unsupported version header get a JSON-RPC error body (not text/plain)
// with the request's id where there is one.
func TestRPCErrorBodies(t *testing.T) {
	s := start(t)
	acme := s.Tenant("acme")
	legacy := connectAt(t, s, acme.Member.Key, "2025-06-18")

	type want struct {
		id   string
		code int64
	}
	for _, c := range []struct {
		name   string
		header map[string]string
		body   string
		want   want
	}{
		{"unknown method in a 2025-06-18 session", map[string]string{"Mcp-Session-Id": legacy.ID(), "Mcp-Protocol-Version": "2025-06-18"},
			`{"jsonrpc":"2.0","id":7,"method":"nope/nothing","params":{}}`, want{"7", -32601}},
		{"malformed JSON in a 2025-06-18 session", map[string]string{"Mcp-Session-Id": legacy.ID(), "Mcp-Protocol-Version": "2025-06-18"},
			`{"jsonrpc":"2.0","id":8,"method":`, want{"null", -32700}},
		{"unknown method, 2025-11-25, no session", map[string]string{"Mcp-Protocol-Version": "2025-11-25"},
			`{"jsonrpc":"2.0","id":"a","method":"skills/nothing","params":{}}`, want{`"a"`, -32601}},
		{"not JSON-RPC, 2025-11-25", map[string]string{"Mcp-Protocol-Version": "2025-11-25"},
			`{"hello":"world"}`, want{"null", -32600}},
		{"unknown method, 2026-07-28", map[string]string{"Mcp-Protocol-Version": "2026-07-28"},
			`{"jsonrpc":"2.0","id":9,"method":"nope/nothing","params":{` + modernMeta + `}}`, want{"9", -32601}},
		{"malformed JSON, 2026-07-28", map[string]string{"Mcp-Protocol-Version": "2026-07-28"},
			`not json at all`, want{"null", -32700}},
		{"unsupported version header", map[string]string{"Mcp-Protocol-Version": "1999-01-01"},
			`{"jsonrpc":"2.0","id":10,"method":"tools/list","params":{}}`, want{"10", -32022}},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, data := postRPC(t, s.URL, acme.Member.Key, c.body, c.header)
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") || resp.StatusCode < 400 {
				t.Fatalf("status %d, content type %q, body %s: want a JSON-RPC error", resp.StatusCode, ct, data)
			}
			var r rpcResponse
			if err := json.Unmarshal(data, &r); err != nil || r.JSONRPC != "2.0" || r.Error == nil || r.Error.Code != c.want.code ||
				string(r.ID) != c.want.id || r.Error.Message == "" {
				t.Fatalf("body %s (%v), want error code %d for id %s", data, err, c.want.code, c.want.id)
			}
		})
	}
	// The session still works after the refusals.
	if _, err := legacy.ListTools(ctxT(t), nil); err != nil {
		t.Fatalf("the session broke after refused requests: %v", err)
	}
}

// TestToolSchemasAreStrict: no tool schema writes a type as a list (the
// SDK's ["null","array"] for Go slices), which strict validators refuse.
func TestToolSchemasAreStrict(t *testing.T) {
	s := start(t)
	cs := connect(t, s, s.Tenant("acme").Member.Key)
	res, err := cs.ListTools(ctxT(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	arrays := 0
	var walk func(tool, at string, v any)
	walk = func(tool, at string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if k == "type" {
					if _, list := x.([]any); list {
						t.Errorf("%s: %s has type %v, want one type", tool, at, x)
					}
					if x == "array" {
						arrays++
					}
				}
				walk(tool, at+"/"+k, x)
			}
		case []any:
			for _, x := range v {
				walk(tool, at, x)
			}
		}
	}
	for _, tool := range res.Tools {
		for name, schema := range map[string]any{"input": tool.InputSchema, "output": tool.OutputSchema} {
			data, _ := json.Marshal(schema)
			var generic any
			json.Unmarshal(data, &generic)
			walk(tool.Name, name, generic)
		}
	}
	if arrays < 9 {
		t.Fatalf("found %d array schemas, want every array of the tools (at least 9)", arrays)
	}
}
