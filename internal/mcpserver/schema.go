package mcpserver

import (
	"fmt"
	"slices"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// addTool registers a tool whose input and output schemas write every
// array as a plain "array". Inferred from Go, a slice becomes
// type ["null","array"] (a nil slice marshals as null), which strict
// validators such as the MCP Inspector's --strict mode flag; the tools
// never send null for an array, and an optional array is simply absent.
func addTool[In, Out any](s *mcp.Server, tool *mcp.Tool, h mcp.ToolHandlerFor[In, Out]) {
	tool.InputSchema = plainSchema[In]()
	tool.OutputSchema = plainSchema[Out]()
	mcp.AddTool(s, tool, h)
}

func plainSchema[T any]() *jsonschema.Schema {
	s, err := jsonschema.For[T](nil)
	if err != nil {
		panic(fmt.Sprintf("schema of %T: %v", *new(T), err))
	}
	plainArrays(s)
	return s
}

func plainArrays(s *jsonschema.Schema) {
	if s == nil {
		return
	}
	if slices.Equal(s.Types, []string{"null", "array"}) {
		s.Types, s.Type = nil, "array"
	}
	plainArrays(s.Items)
	plainArrays(s.AdditionalProperties)
	for _, p := range s.Properties {
		plainArrays(p)
	}
}
