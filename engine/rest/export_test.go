package rest

import "net/http"

// Routes returns the route patterns h registered (for the OpenAPI coverage test).
func Routes(h http.Handler) []string { return append([]string(nil), h.(*handler).routes...) }
