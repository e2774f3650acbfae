package rest

import (
	_ "embed"
	"net/http"
)

// openAPI is the OpenAPI 3 document of every endpoint (the tests check the
// handler's real requests and answers against it, and that every route is in it).
//
//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the OpenAPI 3 document (JSON) the handler serves at
// GET /openapi.json.
func OpenAPI() []byte { return append([]byte(nil), openAPI...) }

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(openAPI)
}
