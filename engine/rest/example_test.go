package rest_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/engine/rest"
	"github.com/tollgate-dev/tollgate/model"
)

// ExampleNewHandler serves the API over an engine and creates the seed's "Anyone"
// policy from a YAML body.
func ExampleNewHandler() {
	b, err := model.DecodeBundle([]byte(`
name: example
users:
  - {id: 1, name: Taylor, apiKey: secret-key, permissions: [GOVERNANCE]}
dataSources:
  - {id: 6, name: patients, tags: [Discovered]}
`), model.DefaultLimits())
	if err != nil {
		panic(err)
	}
	e := engine.New(engine.WithClock(func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }))
	if err := e.ApplyBundle(b); err != nil {
		panic(err)
	}
	h := rest.NewHandler(e, rest.EngineKeys(e))

	req := httptest.NewRequest("POST", "/api/v2/policy", strings.NewReader(`name: Anyone
policyKey: subscription anyone
type: subscription
actions:
  type: anyone
circumstances:
  - type: tags
    tag: Discovered
`))
	req.Header.Set("Authorization", "secret-key")
	req.Header.Set("Content-Type", "application/yaml")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	var got struct {
		ID        int64  `json:"id"`
		PolicyKey string `json:"policyKey"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &got)
	fmt.Println(rec.Code, got.ID, got.PolicyKey)

	// Without an API key: 401 in the API's error shape.
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/policy/global/1", nil))
	fmt.Println(rec.Code, rec.Body.String())
	// Output:
	// 200 1 subscription anyone
	// 401 {"statusCode":401,"error":"Unauthorized","message":"missing Authorization header (an API key, or Bearer and a token or key)"}
}
