package mcpserver

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"

	"github.com/google/uuid"

	"github.com/skillvault/skillvault/internal/service"
)

// toolScopes are the scopes a tool needs beyond read. A call without them
// is answered at the HTTP level with 403 and an insufficient_scope
// challenge (MCP authorization, "Scope Challenge Handling"), so an OAuth
// client can ask the person for more. TestWriteToolsNeedWrite keeps this
// in step with the tools' annotations.
var toolScopes = map[string]string{
	"rate_skill":    "write",
	"record_usage":  "write",
	"publish_skill": "write",
}

// maxPeek bounds how much of a request body is read to find its method.
const maxPeek = 1 << 20

// missingScope returns the scope a JSON-RPC tools/call in r's body needs
// and a lacks, or "". The body is restored for the transport. Only OAuth
// callers are challenged: they can ask the person for more (step-up); an
// API key cannot, and keeps getting the tool's own "forbidden" answer.
func missingScope(r *http.Request, a service.Actor) string {
	if a.GrantID == uuid.Nil || r.Method != http.MethodPost || r.Body == nil {
		return ""
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxPeek))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(data), r.Body), r.Body}
	if err != nil {
		return ""
	}
	var msg struct {
		Method string `json:"method"`
		Params struct {
			Name string `json:"name"`
		} `json:"params"`
	}
	if json.Unmarshal(data, &msg) != nil || msg.Method != "tools/call" {
		return ""
	}
	need := toolScopes[msg.Params.Name]
	if need == "" || slices.Contains(a.Scopes, need) {
		return ""
	}
	return need
}

// refuseScope answers a call the credential's scopes do not cover.
func refuseScope(w http.ResponseWriter, r *http.Request, scope string) {
	w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="`+scope+`", resource_metadata="`+metadataURL(r)+
		`", error_description="this call needs the `+scope+` scope"`)
	problem(w, r, http.StatusForbidden, "/problems/forbidden", "Insufficient scope", "this call needs the "+scope+" scope, which the credential lacks")
}
