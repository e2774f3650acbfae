package rest_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tollgate-dev/tollgate/engine/rest"
)

// FuzzRESTBody sends arbitrary bodies with each media type to the policy and access
// endpoints: the handler never panics, never answers 5xx, and always answers JSON.
func FuzzRESTBody(f *testing.F) {
	for _, seed := range []string{seedV2Anyone, seedV1Write, seedV1Put, seedGrant, `{}`, `[]`, `null`, `{"requests": [{"id": 1}]}`,
		"a: [b\n", `{"actions": {"type": "entitlements", "advanced": "@hasAttribute('a'"}}`,
		`{"name":"x","policyKey":"x","type":"subscription","actions":{"type":"anyone"},"circumstances":[{"type":"columnRegex","regex":"(a+)+$"}]}`} {
		for ep := range endpoints {
			for ct := range contentTypes {
				f.Add(uint8(ep), uint8(ct), []byte(seed))
			}
		}
	}
	quiet := rest.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	e := newEngine(f)
	h := rest.NewHandler(e, rest.EngineKeys(e), quiet, rest.WithMaxBodyBytes(64<<10))
	f.Fuzz(func(t *testing.T, ep, ct uint8, body []byte) {
		c := endpoints[int(ep)%len(endpoints)]
		req := httptest.NewRequest(c.method, c.path, strings.NewReader(string(body)))
		req.Header.Set("Authorization", c.key)
		if typ := contentTypes[int(ct)%len(contentTypes)]; typ != "" {
			req.Header.Set("Content-Type", typ)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s answered %d: %s", c.method, c.path, rec.Code, rec.Body.String())
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s answered a body that is not JSON: %q", c.method, c.path, rec.Body.String())
		}
	})
}

var endpoints = []call{
	{method: "POST", path: "/api/v2/policy?dryRun=true", key: govKey},
	{method: "POST", path: "/api/v2/policy", key: govKey},
	{method: "POST", path: "/policy/global", key: govKey},
	{method: "PUT", path: "/policy/global/1", key: govKey},
	{method: "POST", path: "/dataSource/6/access", key: ownerKey},
	{method: "POST", path: "/dataSource/7/access", key: unaKey},
	{method: "PUT", path: "/dataSource/6/access/1", key: ownerKey},
	{method: "POST", path: "/policy/global/applyPolicy", key: ownerKey},
	{method: "POST", path: "/subscription/approve", key: umaKey},
	{method: "POST", path: "/subscription/deny", key: umaKey},
}

var contentTypes = []string{"application/json", "application/yaml", "text/yaml", "", "text/plain"}
