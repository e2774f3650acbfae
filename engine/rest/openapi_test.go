package rest_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine/rest"
)

func loadOpenAPI(t *testing.T) (*openapi3.T, routers.Router) {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(rest.OpenAPI())
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()), "the document is valid OpenAPI 3")
	router, err := legacy.NewRouter(doc)
	require.NoError(t, err)
	return doc, router
}

// Every registered route is in the document, with its method; and nothing else.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	t.Parallel()
	doc, _ := loadOpenAPI(t)
	h, _ := newHandler(t)
	routes := rest.Routes(h)
	require.NotEmpty(t, routes)
	documented := 0
	for _, p := range doc.Paths.Map() {
		documented += len(p.Operations())
	}
	for _, route := range routes {
		method, path, ok := strings.Cut(route, " ")
		require.True(t, ok, "route %q has a method", route)
		item := doc.Paths.Find(path)
		require.NotNil(t, item, "route %s is missing from openapi.json", route)
		assert.NotNil(t, item.GetOperation(method), "route %s: method missing from openapi.json", route)
	}
	assert.Equal(t, len(routes), documented, "the document describes exactly the registered routes")
}

// validated sends a request through the handler and checks the request and the
// answer against the document.
func validated(t *testing.T, router routers.Router, h http.Handler, method, target, key, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, "http://tollgate.test"+target, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	route, params, err := router.FindRoute(req)
	require.NoError(t, err, "%s %s is documented", method, target)
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	require.NoError(t, openapi3filter.ValidateRequest(context.Background(), in), "%s %s: the request matches the document", method, target)
	// ValidateRequest read the body; send a fresh request.
	req2 := httptest.NewRequest(method, target, strings.NewReader(body))
	req2.Header = req.Header.Clone()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req2)
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.Code, Header: rec.Header(),
		Body: io.NopCloser(bytes.NewReader(rec.Body.Bytes())), Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	assert.NoError(t, openapi3filter.ValidateResponse(context.Background(), out), "%s %s: the %d answer matches the document: %.300s",
		method, target, rec.Code, rec.Body.String())
	return rec
}

func TestOpenAPIValidatesRealTraffic(t *testing.T) {
	t.Parallel()
	_, router := loadOpenAPI(t)
	h, _ := newHandler(t)
	steps := []struct {
		method, target, key, body string
		status                    int
	}{
		{"POST", "/bim/apikey/authenticate", "", `{"apikey": "key-3"}`, 200},
		{"POST", "/bim/apikey/authenticate", "", `{"apikey": "nope"}`, 401},
		{"GET", "/healthz", "", "", 200},
		{"GET", "/readyz", "", "", 200},
		{"GET", "/metrics", "", "", 200},
		{"GET", "/openapi.json", "", "", 200},
		{"POST", "/api/v2/policy?dryRun=True", govKey, `{"name": "Anyone", "policyKey": "anyone", "type": "subscription",
			"actions": {"type": "anyone", "automaticSubscription": true}, "circumstances": [{"type": "tags", "tag": "Discovered"}]}`, 200},
		{"POST", "/api/v2/policy", govKey, `{"name": "Anyone", "policyKey": "anyone", "type": "subscription",
			"actions": {"type": "anyone", "automaticSubscription": true}, "circumstances": [{"type": "tags", "tag": "Discovered"}]}`, 200},
		{"POST", "/policy/global", govKey, seedV1Write, 200},
		{"POST", "/policy/global", govKey, seedV1Write, 422},
		{"GET", "/policy/global?nameOnly=False&searchText=a&sortField=name&sortOrder=desc&offset=0&size=10", unaKey, "", 200},
		{"GET", "/policy/global?nameOnly=true", unaKey, "", 200},
		{"GET", "/policy/global/4", unaKey, "", 200},
		{"GET", "/policy/global/appliedTo/3", unaKey, "", 200},
		{"PUT", "/policy/global/4?reCertify=false", govKey, seedV1Put, 200},
		{"POST", "/policy/global/applyPolicy", ownerKey, `{"policyId": 1, "dataSourceId": 6}`, 200},
		{"POST", "/dataSource/6/access", ownerKey, seedGrant, 200},
		{"POST", "/dataSource/7/access", unaKey, `{}`, 200},
		{"GET", "/dataSource/7/access?states=pending&memberTypes=profile&sortField=createdAt&expandGroups=false", ownerKey, "", 200},
		{"GET", "/subscription/getPendingRequestsForUser?size=5", umaKey, "", 200},
		{"POST", "/subscription/approve", umaKey, `{"requests": [{"id": 2}]}`, 200},
		{"POST", "/subscription/deny", umaKey, `{"requests": [{"id": 2, "denialReasoning": "no"}]}`, 200},
		{"PUT", "/dataSource/6/access/1", ownerKey, `{"state": "denied"}`, 200},
		{"DELETE", "/dataSource/7/unsubscribe", unaKey, "", 200},
		{"PUT", "/tollgate/v1/users/9", umaKey, `{"name": "Nine", "apiKey": "nine"}`, 200},
		{"PUT", "/tollgate/v1/groups/4", umaKey, `{"name": "Four"}`, 200},
		{"PUT", "/tollgate/v1/dataSources/8", govKey, `{"name": "eight", "tags": ["Discovered"]}`, 200},
		{"GET", "/tollgate/v1/decision?user=3&dataSource=8", govKey, "", 200},
		{"GET", "/tollgate/v1/decision?user=3&dataSource=8", unaKey, "", 403},
		{"GET", "/tollgate/v1/users/3/dataSources?level=READ", caseyKey, "", 200},
		{"GET", "/tollgate/v1/dataSources/8/users?level=WRITE", govKey, "", 200},
		{"GET", "/tollgate/v1/changes?since=0&limit=5", govKey, "", 200},
		{"GET", "/tollgate/v1/export", govKey, "", 200},
		{"DELETE", "/tollgate/v1/dataSources/8", govKey, "", 200},
		{"DELETE", "/tollgate/v1/groups/4", umaKey, "", 200},
		{"DELETE", "/tollgate/v1/users/9", umaKey, "", 200},
		{"DELETE", "/policy/global/4", govKey, "", 200},
		{"GET", "/policy/global/4", unaKey, "", 404},
	}
	for _, s := range steps {
		rec := validated(t, router, h, s.method, s.target, s.key, s.body)
		assert.Equal(t, s.status, rec.Code, "%s %s: %.300s", s.method, s.target, rec.Body.String())
		assert.NotEmpty(t, rec.Header().Get("X-Tollgate-Revision"), "%s %s carries the revision", s.method, s.target)
	}
}

func TestMetricsCountRequests(t *testing.T) {
	t.Parallel()
	h, _ := newHandler(t)
	do(t, h, call{method: "GET", path: "/policy/global/1", key: unaKey})
	do(t, h, call{method: "GET", path: "/policy/global/99", key: unaKey})
	do(t, h, call{method: "POST", path: "/dataSource/6/access", key: ownerKey, contentType: jsonCT, body: seedGrant})
	do(t, h, call{method: "GET", path: "/tollgate/v1/decision?user=3&dataSource=6", key: govKey})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	require.Equal(t, 200, rec.Code)
	text := rec.Body.String()
	for _, want := range []string{
		`tollgate_http_requests_total{method="GET",route="GET /policy/global/{policyId}",status="200"} 1`,
		`tollgate_http_requests_total{method="GET",route="GET /policy/global/{policyId}",status="404"} 1`,
		`tollgate_http_request_duration_seconds_count{method="GET",route="GET /policy/global/{policyId}"} 2`,
		`tollgate_writes_total{route="POST /dataSource/{id}/access"} 1`,
		`tollgate_decisions_total{grant="WRITE"} 1`,
		`tollgate_revision `,
	} {
		assert.Contains(t, text, want)
	}
}
