package mcpserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// serveRPCErrors serves r with h and turns the SDK's plain-text refusals
// into JSON-RPC error responses with the same HTTP status. For requests
// before protocol 2026-07-28 the SDK answers an unknown method, malformed
// JSON or a bad header with http.Error (text/plain), which JSON-RPC
// clients cannot read; every protocol version gets a JSON-RPC error here.
func serveRPCErrors(h http.Handler, w http.ResponseWriter, r *http.Request) {
	var body []byte
	if r.Method == http.MethodPost && r.Body != nil {
		var err error
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, mcp.DefaultMaxRequestBodyBytes))
		if err != nil {
			status := http.StatusBadRequest
			if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
				status = http.StatusRequestEntityTooLarge
			}
			writeRPCError(w, status, nil, jsonrpc.CodeInvalidRequest, "cannot read the request body: "+err.Error())
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	rw := &rpcErrorWriter{ResponseWriter: w}
	h.ServeHTTP(rw, r)
	if rw.status != 0 {
		msg := strings.TrimSpace(rw.text.String())
		writeRPCError(w, rw.status, requestID(body), rpcCode(msg, body), msg)
	}
}

// rpcErrorWriter holds back a plain-text error response (status >= 400
// with a text/plain type, as http.Error writes) and passes everything else
// through, streams included.
type rpcErrorWriter struct {
	http.ResponseWriter
	status int
	text   bytes.Buffer
}

func (w *rpcErrorWriter) WriteHeader(status int) {
	if w.status == 0 && status >= 400 && strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		w.status = status
		return
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *rpcErrorWriter) Write(p []byte) (int, error) {
	if w.status != 0 {
		return w.text.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

// Flush keeps event streams flowing; Unwrap lets http.ResponseController
// reach the connection (write deadlines).
func (w *rpcErrorWriter) Flush() {
	if w.status == 0 {
		http.NewResponseController(w.ResponseWriter).Flush()
	}
}

func (w *rpcErrorWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// rpcCode picks the JSON-RPC code for one of the SDK's refusals.
func rpcCode(msg string, body []byte) int64 {
	switch {
	case strings.Contains(msg, "JSON RPC not handled"): // the SDK's words for an unknown method
		return jsonrpc.CodeMethodNotFound
	case strings.Contains(strings.ToLower(msg), "unsupported protocol version"):
		return mcp.CodeUnsupportedProtocolVersion
	case len(body) > 0 && !json.Valid(body):
		return jsonrpc.CodeParseError
	}
	return jsonrpc.CodeInvalidRequest
}

// requestID is the id of a single request in body, or nil (JSON null)
// when there is none to answer to.
func requestID(body []byte) json.RawMessage {
	var m struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(body, &m) != nil {
		return nil
	}
	return m.ID
}

func writeRPCError(w http.ResponseWriter, status int, id json.RawMessage, code int64, msg string) {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   jsonrpc.Error   `json:"error"`
	}{"2.0", id, jsonrpc.Error{Code: code, Message: msg}})
}
