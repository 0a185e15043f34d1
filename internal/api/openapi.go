package api

import (
	_ "embed"
	"net/http"
)

// openAPI documents every route of routes(); TestOpenAPIMatchesRoutes
// keeps the two equal.
//
//go:embed openapi.json
var openAPI []byte

func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPI)
}
