package mcpserver

import (
	"context"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestWriteToolsNeedWrite keeps toolScopes in step with the tools: every
// tool that is not read-only needs the write scope at the HTTP level (so
// a read-only OAuth token gets an insufficient_scope challenge), and no
// read-only tool does.
func TestWriteToolsNeedWrite(t *testing.T) {
	ctx := context.Background()
	srv := NewServer(func(context.Context, *mcp.RequestExtra) (Backend, error) { return nil, nil }, Options{})
	st, ct := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	res, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Tools) == 0 {
		t.Fatal("no tools listed")
	}
	for _, tool := range res.Tools {
		readOnly := tool.Annotations != nil && tool.Annotations.ReadOnlyHint
		if got := toolScopes[tool.Name]; readOnly && got != "" || !readOnly && got != "write" {
			t.Errorf("tool %s (read-only %v) needs scope %q in toolScopes", tool.Name, readOnly, got)
		}
	}
}
