package rest_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/engine/rest"
	"github.com/tollgate-dev/tollgate/model"
)

// The seed's API key authenticates the governance user.
const seedKey = "846e9e43c86a4ct1be14290d95127d13f"

// fixture: 1 Taylor (GOVERNANCE, the seed key), 2 Olive (owner of 6), 3 Casey
// (has=write), 4 Una (nothing), 5 Uma (USER_ADMIN). Data source 6 (Discovered,
// an NPI column) and 7 (Sensitive). Policy 1 is an owner-selected manual policy,
// policy 2 an approval policy on Sensitive (USER_ADMIN).
const fixture = `
name: rest fixture
now: 2026-01-01T00:00:00Z
users:
  - {id: 1, name: Taylor, apiKey: ` + seedKey + `, permissions: [GOVERNANCE]}
  - {id: 2, name: Olive, apiKey: key-2}
  - {id: 3, name: Casey, apiKey: key-3, attributes: {has: [write]}}
  - {id: 4, name: Una, apiKey: key-4}
  - {id: 5, name: Uma, apiKey: key-5, permissions: [USER_ADMIN]}
groups:
  - {id: 1, name: Analysts}
dataSources:
  - id: 6
    name: patients
    owners: [2]
    tags: [Discovered]
    columns: [{name: npi, tags: [Discovered.Healthcare NPI]}]
  - {id: 7, name: payments, owners: [2], tags: [Sensitive]}
policies:
  - type: subscription
    name: Owner selected
    actions: [{type: subscription, subscriptionType: manual}]
    circumstances: null
  - name: Sensitive approval
    policyKey: sensitive-approval
    type: subscription
    actions:
      type: approval
      approvals: [{requiredPermissions: USER_ADMIN, specificApproverRequired: false}]
    circumstances: [{type: tags, tag: Sensitive}]
`

var now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newEngine(t testing.TB) *engine.Engine {
	t.Helper()
	b, err := model.DecodeBundle([]byte(fixture), model.DefaultLimits())
	require.NoError(t, err)
	e := engine.New(engine.WithClock(func() time.Time { return now }))
	require.NoError(t, e.ApplyBundle(b))
	return e
}

func newHandler(t testing.TB, opts ...rest.Option) (http.Handler, *engine.Engine) {
	t.Helper()
	e := newEngine(t)
	return rest.NewHandler(e, rest.EngineKeys(e), opts...), e
}

type call struct {
	method, path string
	key          string // Authorization; "" sends none
	contentType  string // "" sends none
	body         string
}

type answer struct {
	status int
	raw    string
	body   map[string]any // nil when the answer is not an object
	value  any
}

// list returns the answer as a JSON array.
func (a answer) list() ([]any, bool) { l, ok := a.value.([]any); return l, ok }

func (a answer) message() string { s, _ := a.body["message"].(string); return s }

func do(t testing.TB, h http.Handler, c call) answer {
	t.Helper()
	req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
	if c.key != "" {
		req.Header.Set("Authorization", c.key)
	}
	if c.contentType != "" {
		req.Header.Set("Content-Type", c.contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	a := answer{status: rec.Code, raw: rec.Body.String()}
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"), "every answer is JSON")
	var v any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &v), "body: %s", rec.Body.String())
	a.body, _ = v.(map[string]any)
	a.value = v
	if a.status >= 400 {
		assert.EqualValues(t, a.status, a.body["statusCode"], "error body statusCode")
		assert.NotEmpty(t, a.body["error"])
		assert.NotEmpty(t, a.body["message"])
	}
	return a
}

const (
	jsonCT = "application/json"
	yamlCT = "application/yaml"
)

// The seed payloads.
const (
	seedV2Anyone = `name: Anyone
policyKey: subscription anyone
type: subscription
actions:
  type: anyone
  automaticSubscription: false
  description: Rationale
circumstances:
  - type: tags
    tag: Discovered
`
	seedV1Write = `{
    "type": "subscription",
    "name": "Allow users with specific entitlements to have write access",
    "actions": [{
      "type": "subscription",
      "subscriptionType": "policy",
      "accessGrant": "WRITE",
      "exceptions": {
        "operator": "and",
        "conditions": [{
          "type": "authorizations",
          "authorization": {"auth": "has", "value": "write"}
        }]
      }
    }],
    "staged": false
}`
	seedV1Put = `{
    "type": "subscription",
    "name": "Manual global write policy",
    "template": true,
    "actions": [{
      "type": "subscription",
      "subscriptionType": "manual",
      "description": "This updated policy only applies to data sources tagged Discovered.Healthcare NPI.",
      "accessGrant": "WRITE"
    }],
    "staged": false,
    "circumstances": [{
      "operator": "or",
      "type": "columnTags",
      "columnTag": {
        "name": "Discovered.Healthcare NPI",
        "displayName": "Discovered . Healthcare NPI",
        "hasLeafNodes": false
      }
    }]
}`
	seedGrant = `{"profileId": 3, "state": "subscribed", "accessGrant": "WRITE"}`
)

// keys of the fixture's users.
const (
	govKey   = seedKey
	ownerKey = "key-2"
	caseyKey = "key-3"
	unaKey   = "key-4"
	umaKey   = "key-5"
)

type endpointCase struct {
	name    string
	setup   []call // calls run first, each must succeed
	call    call
	status  int
	body    map[string]any // top-level fields that must be equal (JSON numbers as float64)
	message string         // substring of the error message
	check   func(t *testing.T, h http.Handler, e *engine.Engine, a answer)
}

func runCases(t *testing.T, cases []endpointCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, e := newHandler(t)
			for _, s := range tc.setup {
				a := do(t, h, s)
				require.Equal(t, http.StatusOK, a.status, "setup %s %s: %s", s.method, s.path, a.raw)
			}
			a := do(t, h, tc.call)
			require.Equal(t, tc.status, a.status, "answer: %s", a.raw)
			for k, v := range tc.body {
				assert.Equal(t, v, a.body[k], "field %s in %s", k, a.raw)
			}
			if tc.message != "" {
				assert.Contains(t, a.message(), tc.message)
			}
			if tc.check != nil {
				tc.check(t, h, e, a)
			}
		})
	}
}

func TestCreatePolicyV2(t *testing.T) {
	t.Parallel()
	post := func(key, ct, body string) call {
		return call{method: "POST", path: "/api/v2/policy", key: key, contentType: ct, body: body}
	}
	runCases(t, []endpointCase{
		{name: "yaml seed", call: post(govKey, yamlCT, seedV2Anyone), status: 200,
			body: map[string]any{"policyKey": "subscription anyone", "name": "Anyone", "id": 3.0, "circumstanceOperator": "any"},
			check: func(t *testing.T, _ http.Handler, _ *engine.Engine, a answer) {
				actions := a.body["actions"].(map[string]any)
				assert.Equal(t, "anyone", actions["type"])
				assert.Equal(t, "Rationale", actions["description"])
				assert.Equal(t, "READ", actions["accessGrant"])
			}},
		{name: "text/yaml", call: post(govKey, "text/yaml; charset=utf-8", seedV2Anyone), status: 200},
		{name: "json v1 body answers v2", call: post(govKey, jsonCT, seedV1Write), status: 200,
			check: func(t *testing.T, _ http.Handler, _ *engine.Engine, a answer) {
				actions, ok := a.body["actions"].(map[string]any)
				require.True(t, ok, "v2 shape: actions is an object: %s", a.raw)
				assert.Equal(t, "entitlements", actions["type"])
				assert.Equal(t, "WRITE", actions["accessGrant"])
			}},
		{name: "no content type is json", call: post(govKey, "", `{"name":"n","policyKey":"k","type":"subscription","actions":{"type":"anyone"}}`), status: 200},
		{name: "dry run", call: call{method: "POST", path: "/api/v2/policy?dryRun=true", key: govKey, contentType: yamlCT, body: seedV2Anyone},
			status: 200, body: map[string]any{"id": nil, "policyKey": "subscription anyone"},
			check: func(t *testing.T, h http.Handler, e *engine.Engine, a answer) {
				impact, ok := a.body["impact"].(map[string]any)
				require.True(t, ok, "impact: %s", a.raw)
				assert.Equal(t, []any{6.0}, impact["dataSourcesAdded"])
				assert.Equal(t, []any{}, impact["dataSourcesRemoved"])
				assert.Equal(t, []any{}, impact["users"], "anyone without automatic subscription changes no grant")
				assert.False(t, hasPolicy(e, 3), "a dry run stores nothing")
				// and uses up no id
				b := do(t, h, post(govKey, yamlCT, seedV2Anyone))
				assert.Equal(t, 3.0, b.body["id"])
			}},
		{name: "dry run false", call: call{method: "POST", path: "/api/v2/policy?dryRun=false&reCertify=false", key: govKey, contentType: yamlCT, body: seedV2Anyone},
			status: 200, body: map[string]any{"id": 3.0}},
		{name: "400 every field", call: post(govKey, jsonCT, `{"type":"subscription","actions":{"type":"approval"},"circumstanceOperater":"all"}`),
			status: 400, message: "circumstanceOperater",
			check: func(t *testing.T, _ http.Handler, _ *engine.Engine, a answer) {
				assert.Contains(t, a.message(), "name")
				assert.Contains(t, a.message(), "policyKey")
				assert.Contains(t, a.message(), "approvals")
				assert.Equal(t, "Bad Request", a.body["error"])
			}},
		{name: "400 malformed json", call: post(govKey, jsonCT, `{"name": `), status: 400, message: "JSON"},
		{name: "400 invalid UTF-8 names the field", call: post(govKey, jsonCT, "{\"name\":\"n\xff\",\"policyKey\":\"k\",\"type\":\"subscription\",\"actions\":{\"type\":\"anyone\"}}"),
			status: 400, message: "name: is not valid UTF-8"},
		{name: "400 invalid UTF-8 deep in a list", call: post(govKey, jsonCT, "{\"name\":\"n\",\"policyKey\":\"k\",\"type\":\"subscription\",\"actions\":{\"type\":\"anyone\"},\"circumstances\":[{\"type\":\"tags\",\"tag\":\"ok\"},{\"type\":\"tags\",\"tag\":\"\xed\xa0\x80\"}]}"),
			status: 400, message: "circumstances[1].tag: is not valid UTF-8"},
		{name: "400 invalid UTF-8 in a key", call: post(govKey, jsonCT, "{\"actions\":{\"ty\xc0\xafpe\":1}}"), status: 400, message: "actions.ty"},
		{name: "400 invalid UTF-8 in yaml", call: post(govKey, yamlCT, "name: \"n\xff\"\n"), status: 400, message: "UTF-8"},
		{name: "400 yaml duplicate key", call: post(govKey, yamlCT, "name: a\nname: b\npolicyKey: k\ntype: subscription\nactions: {type: anyone}\n"), status: 400, message: "already set"},
		{name: "400 yaml sent as json", call: post(govKey, jsonCT, seedV2Anyone), status: 400, message: "JSON"},
		{name: "400 empty body names the required fields", call: post(govKey, jsonCT, ``), status: 400, message: "policyKey"},
		{name: "400 case variant of a known parameter", call: call{method: "POST", path: "/api/v2/policy?dryrun=true", key: govKey, contentType: yamlCT, body: seedV2Anyone},
			status: 400, message: "query.dryrun"},
		{name: "400 non-boolean flag", call: call{method: "POST", path: "/api/v2/policy?dryRun=yes", key: govKey, contentType: yamlCT, body: seedV2Anyone},
			status: 400, message: "query.dryRun"},
		{name: "400 repeated flag", call: call{method: "POST", path: "/api/v2/policy?dryRun=true&dryRun=false", key: govKey, contentType: yamlCT, body: seedV2Anyone},
			status: 400, message: "query.dryRun"},
		{name: "401 no key", call: post("", yamlCT, seedV2Anyone), status: 401, body: map[string]any{"error": "Unauthorized"}},
		{name: "401 unknown key", call: post("nope", yamlCT, seedV2Anyone), status: 401},
		{name: "401 before 403", call: post("key-99", "text/plain", "x"), status: 401},
		{name: "403 not governance", call: post(unaKey, yamlCT, seedV2Anyone), status: 403, body: map[string]any{"error": "Forbidden"}},
		{name: "403 before 400 and 415", call: post(unaKey, "text/plain", "{"), status: 403},
		{name: "422 duplicate key", setup: []call{post(govKey, yamlCT, seedV2Anyone)}, call: post(govKey, yamlCT, seedV2Anyone),
			status: 422, body: map[string]any{"error": "Unprocessable Entity", "validation": []any{map[string]any{"code": "unique", "path": "policyKey",
				"message": `conflict: policyKey "subscription anyone" is already used by policy 3`}}}},
		{name: "422 key of the fixture", call: post(govKey, jsonCT, `{"name":"x","policyKey":"sensitive-approval","type":"subscription","actions":{"type":"anyone"}}`), status: 422},
		{name: "415", call: post(govKey, "text/plain", seedV2Anyone), status: 415, body: map[string]any{"error": "Unsupported Media Type"}},
		{name: "415 malformed content type", call: post(govKey, "application/", seedV2Anyone), status: 415},
	})
}

func TestCreatePolicyV1(t *testing.T) {
	t.Parallel()
	post := func(key, ct, body string) call {
		return call{method: "POST", path: "/policy/global", key: key, contentType: ct, body: body}
	}
	runCases(t, []endpointCase{
		{name: "seed write policy", call: post(govKey, jsonCT, seedV1Write), status: 200,
			body: map[string]any{"policyKey": "Allow users with specific entitlements to have write access",
				"type": "subscription", "staged": false, "deleted": false, "id": 3.0, "createdBy": 1.0, "createdByName": "Taylor"},
			check: func(t *testing.T, _ http.Handler, _ *engine.Engine, a answer) {
				actions, ok := a.body["actions"].([]any)
				require.True(t, ok, "v1 shape: actions is a list: %s", a.raw)
				require.Len(t, actions, 1)
				act := actions[0].(map[string]any)
				assert.Equal(t, "policy", act["subscriptionType"])
				assert.Equal(t, "WRITE", act["accessGrant"])
				assert.Equal(t, []any{}, a.body["circumstances"], "all data sources render as []")
			}},
		{name: "v2 body answers v1", call: post(govKey, yamlCT, seedV2Anyone), status: 200,
			check: func(t *testing.T, _ http.Handler, _ *engine.Engine, a answer) {
				actions, ok := a.body["actions"].([]any)
				require.True(t, ok, "v1 shape: %s", a.raw)
				assert.Equal(t, "automatic", actions[0].(map[string]any)["subscriptionType"])
			}},
		{name: "400 dryRun is not a flag here", call: call{method: "POST", path: "/policy/global?dryRun=true", key: govKey, contentType: jsonCT, body: seedV1Write},
			status: 400, message: "query.dryRun"},
		{name: "400 two operators", call: post(govKey, jsonCT, `{"type":"subscription","name":"x","actions":[{"type":"subscription","subscriptionType":"automatic"}],
			"circumstances":[{"operator":"and","type":"tags","tag":{"name":"A"}},{"operator":"or","type":"tags","tag":{"name":"B"}}]}`), status: 400, message: "circumstances"},
		{name: "401", call: post("", jsonCT, seedV1Write), status: 401},
		{name: "403", call: post(caseyKey, jsonCT, seedV1Write), status: 403},
		{name: "422 duplicate", setup: []call{post(govKey, jsonCT, seedV1Write)}, call: post(govKey, jsonCT, seedV1Write), status: 422},
		{name: "415", call: post(govKey, "application/xml", seedV1Write), status: 415},
	})
}

func TestGetPolicy(t *testing.T) {
	t.Parallel()
	get := func(key, path string) call { return call{method: "GET", path: path, key: key, contentType: jsonCT} }
	runCases(t, []endpointCase{
		{name: "owner-selected in v1 shape", call: get(unaKey, "/policy/global/1"), status: 200,
			body: map[string]any{"id": 1.0, "policyKey": "Owner selected", "circumstances": nil, "template": false,
				"systemGenerated": false, "metadata": nil, "clonedFrom": nil, "ownerRestrictions": nil}},
		{name: "seed PUT then GET", setup: []call{{method: "PUT", path: "/policy/global/1", key: govKey, contentType: jsonCT, body: seedV1Put}},
			call: get(unaKey, "/policy/global/1"), status: 200,
			body: map[string]any{"name": "Manual global write policy", "template": true, "policyKey": "Owner selected"},
			check: func(t *testing.T, _ http.Handler, _ *engine.Engine, a answer) {
				c := a.body["circumstances"].([]any)[0].(map[string]any)
				assert.Equal(t, "columnTags", c["type"])
				assert.Equal(t, "Discovered.Healthcare NPI", c["columnTag"].(map[string]any)["name"])
			}},
		{name: "401", call: get("", "/policy/global/1"), status: 401},
		{name: "404 unknown", call: get(unaKey, "/policy/global/99"), status: 404, body: map[string]any{"error": "Not Found"}},
		{name: "404 not a number", call: get(unaKey, "/policy/global/abc"), status: 404},
		{name: "404 zero", call: get(unaKey, "/policy/global/0"), status: 404},
		{name: "unknown query parameters are ignored", call: get(unaKey, "/policy/global/1?x=1&policyId=1"), status: 200},
		{name: "404 after delete", setup: []call{{method: "DELETE", path: "/policy/global/1", key: govKey}},
			call: get(unaKey, "/policy/global/1"), status: 404},
	})
}

func TestUpdatePolicy(t *testing.T) {
	t.Parallel()
	put := func(key, path, ct, body string) call {
		return call{method: "PUT", path: path, key: key, contentType: ct, body: body}
	}
	runCases(t, []endpointCase{
		{name: "seed PUT", call: put(govKey, "/policy/global/1", jsonCT, seedV1Put), status: 200,
			body: map[string]any{"id": 1.0, "name": "Manual global write policy", "policyKey": "Owner selected", "template": true},
			check: func(t *testing.T, _ http.Handler, _ *engine.Engine, a answer) {
				act := a.body["actions"].([]any)[0].(map[string]any)
				assert.Equal(t, "manual", act["subscriptionType"])
				assert.Equal(t, "WRITE", act["accessGrant"])
				assert.Equal(t, "This updated policy only applies to data sources tagged Discovered.Healthcare NPI.", act["description"])
			}},
		{name: "yaml body, reCertify", call: put(govKey, "/policy/global/2?reCertify=true", yamlCT, seedV2Anyone), status: 200,
			body: map[string]any{"policyKey": "subscription anyone"}},
		{name: "400", call: put(govKey, "/policy/global/1", jsonCT, `{"type":"subscription"}`), status: 400, message: "name"},
		{name: "400 dryRun is not a flag here", call: put(govKey, "/policy/global/1?dryRun=true", jsonCT, seedV1Put), status: 400},
		{name: "401", call: put("", "/policy/global/1", jsonCT, seedV1Put), status: 401},
		{name: "403", call: put(ownerKey, "/policy/global/1", jsonCT, seedV1Put), status: 403},
		{name: "403 before 404", call: put(ownerKey, "/policy/global/99", jsonCT, seedV1Put), status: 403},
		{name: "404", call: put(govKey, "/policy/global/99", jsonCT, seedV1Put), status: 404},
		{name: "404 before 400", call: put(govKey, "/policy/global/99", jsonCT, `{`), status: 404},
		{name: "422 key taken", call: put(govKey, "/policy/global/1", yamlCT, "name: x\npolicyKey: sensitive-approval\ntype: subscription\nactions: {type: anyone}\n"), status: 422},
		{name: "415", call: put(govKey, "/policy/global/1", "text/csv", seedV1Put), status: 415},
	})
}

func TestDeletePolicy(t *testing.T) {
	t.Parallel()
	del := func(key, path string) call { return call{method: "DELETE", path: path, key: key, contentType: jsonCT} }
	runCases(t, []endpointCase{
		{name: "deleted", call: del(govKey, "/policy/global/2"), status: 200,
			body: map[string]any{"id": 2.0, "deleted": true, "policyKey": "sensitive-approval"},
			check: func(t *testing.T, h http.Handler, e *engine.Engine, _ answer) {
				assert.False(t, hasPolicy(e, 2))
				assert.Equal(t, 404, do(t, h, del(govKey, "/policy/global/2")).status)
				// the key may be reused
				b := do(t, h, call{method: "POST", path: "/api/v2/policy", key: govKey, contentType: yamlCT,
					body: "name: again\npolicyKey: sensitive-approval\ntype: subscription\nactions: {type: anyone}\n"})
				assert.Equal(t, 200, b.status, b.raw)
			}},
		{name: "401", call: del("", "/policy/global/2"), status: 401},
		{name: "403", call: del(unaKey, "/policy/global/2"), status: 403},
		{name: "404", call: del(govKey, "/policy/global/42"), status: 404},
		{name: "400 dryRun on a delete", call: del(govKey, "/policy/global/2?force=true&dryRun=true"), status: 400},
	})
}

func TestApplyPolicy(t *testing.T) {
	t.Parallel()
	apply := func(key, body string) call {
		return call{method: "POST", path: "/policy/global/applyPolicy", key: key, contentType: jsonCT, body: body}
	}
	runCases(t, []endpointCase{
		{name: "owner applies", call: apply(ownerKey, `{"policyId": 1, "dataSourceId": 6}`), status: 200,
			body: map[string]any{"policyId": 1.0, "dataSourceId": 6.0},
			check: func(t *testing.T, _ http.Handler, e *engine.Engine, _ answer) {
				ps, err := e.AppliedPolicies(6)
				require.NoError(t, err)
				var keys []string
				for _, p := range ps {
					keys = append(keys, p.Key)
				}
				assert.Contains(t, keys, "Owner selected")
			}},
		{name: "governance applies (yaml)", call: call{method: "POST", path: "/policy/global/applyPolicy", key: govKey, contentType: yamlCT,
			body: "policyId: 1\ndataSourceId: 7\n"}, status: 200},
		{name: "400 not owner-selected", call: apply(ownerKey, `{"policyId": 2, "dataSourceId": 6}`), status: 400},
		{name: "400 malformed", call: apply(ownerKey, `{"policyId": "one"}`), status: 400, message: "policyId"},
		{name: "400 unknown field", call: apply(ownerKey, `{"policyId": 1, "dataSourceId": 6, "x": 1}`), status: 400, message: "x"},
		{name: "401", call: apply("", `{"policyId": 1, "dataSourceId": 6}`), status: 401},
		{name: "403 not an owner", call: apply(unaKey, `{"policyId": 1, "dataSourceId": 6}`), status: 403},
		{name: "404 policy", call: apply(ownerKey, `{"policyId": 9, "dataSourceId": 6}`), status: 404, message: "policy"},
		{name: "403 before 404 policy", call: apply(unaKey, `{"policyId": 9, "dataSourceId": 6}`), status: 403},
		{name: "404 data source before owner check", call: apply(unaKey, `{"policyId": 1, "dataSourceId": 99}`), status: 404, message: "data source"},
		{name: "415", call: call{method: "POST", path: "/policy/global/applyPolicy", key: ownerKey, contentType: "text/plain", body: "{}"}, status: 415},
	})
}

func TestAccess(t *testing.T) {
	t.Parallel()
	access := func(key, path, body string) call {
		return call{method: "POST", path: path, key: key, contentType: jsonCT, body: body}
	}
	runCases(t, []endpointCase{
		{name: "seed manual WRITE grant", call: access(ownerKey, "/dataSource/6/access", seedGrant), status: 200,
			body: map[string]any{"isSubscriptionOverride": true, "id": 1.0, "modelId": "6", "modelType": "datasource",
				"state": "subscribed", "admin": 2.0, "denialReasoning": nil, "profile": 3.0, "group": nil,
				"policy": false, "expiration": nil, "acknowledgeRequired": false, "accessGrant": "WRITE", "approved": true},
			check: func(t *testing.T, _ http.Handler, e *engine.Engine, a answer) {
				assert.Contains(t, a.body, "metadata")
				assert.Equal(t, "2026-01-01T00:00:00.000Z", a.body["createdAt"])
				d := e.Decide(3, 6)
				assert.Equal(t, engine.LevelWrite, d.Grant)
			}},
		{name: "yaml grant by governance", call: call{method: "POST", path: "/dataSource/6/access", key: govKey, contentType: yamlCT,
			body: "profileId: 4\nstate: subscribed\nexpiration: 2026-02-01\n"}, status: 200,
			body: map[string]any{"profile": 4.0, "admin": 1.0, "expiration": "2026-02-01T00:00:00.000Z", "accessGrant": "READ"}},
		{name: "request without a body", call: call{method: "POST", path: "/dataSource/7/access", key: unaKey}, status: 200,
			body: map[string]any{"state": "pending", "profile": 4.0}},
		{name: "request pending", call: access(unaKey, "/dataSource/7/access", `{}`), status: 200,
			body: map[string]any{"state": "pending", "approved": false, "policy": true, "isSubscriptionOverride": false, "profile": 4.0}},
		{name: "400 request for another profile", call: access(unaKey, "/dataSource/7/access", `{"profileId": 3}`), status: 400},
		{name: "400 bad state", call: access(ownerKey, "/dataSource/6/access", `{"profileId": 3, "state": "boss"}`), status: 400, message: "state"},
		{name: "400 unknown field", call: access(ownerKey, "/dataSource/6/access", `{"profile": 3}`), status: 400, message: "profile"},
		{name: "401", call: access("", "/dataSource/6/access", seedGrant), status: 401},
		{name: "401 before 404", call: access("", "/dataSource/99/access", seedGrant), status: 401},
		{name: "403 grant by non-owner", call: access(caseyKey, "/dataSource/6/access", seedGrant), status: 403,
			check: func(t *testing.T, _ http.Handler, e *engine.Engine, _ answer) {
				assert.Empty(t, e.Records(), "a refused call stores nothing")
			}},
		{name: "403 request nobody may make", call: access(unaKey, "/dataSource/6/access", `{}`), status: 403},
		{name: "404 data source", call: access(ownerKey, "/dataSource/99/access", seedGrant), status: 404},
		{name: "404 data source before owner check", call: access(caseyKey, "/dataSource/99/access", seedGrant), status: 404},
		{name: "404 data source before 400", call: access(caseyKey, "/dataSource/99/access", `{`), status: 404},
		{name: "404 not a number", call: access(ownerKey, "/dataSource/six/access", seedGrant), status: 404},
		{name: "415", call: call{method: "POST", path: "/dataSource/6/access", key: ownerKey, contentType: "multipart/form-data", body: seedGrant}, status: 415},
	})
}

func TestChangeRecord(t *testing.T) {
	t.Parallel()
	grant := call{method: "POST", path: "/dataSource/6/access", key: ownerKey, contentType: jsonCT, body: seedGrant}
	request := call{method: "POST", path: "/dataSource/7/access", key: unaKey, contentType: jsonCT, body: `{}`}
	change := func(key, path, body string) call {
		return call{method: "PUT", path: path, key: key, contentType: jsonCT, body: body}
	}
	runCases(t, []endpointCase{
		{name: "revoke", setup: []call{grant}, call: change(ownerKey, "/dataSource/6/access/1", `{"state": "denied"}`), status: 200,
			body: map[string]any{"id": 1.0, "state": "denied"},
			check: func(t *testing.T, _ http.Handler, e *engine.Engine, _ answer) {
				assert.Equal(t, engine.LevelNone, e.Decide(3, 6).Grant)
			}},
		{name: "approve outright", setup: []call{request}, call: change(govKey, "/dataSource/7/access/1", `{"state": "subscribed", "expiration": "2026-03-01"}`),
			status: 200, body: map[string]any{"state": "subscribed", "approved": true, "expiration": "2026-03-01T00:00:00.000Z"}},
		{name: "400", setup: []call{grant}, call: change(ownerKey, "/dataSource/6/access/1", `{"state": "maybe"}`), status: 400, message: "state"},
		{name: "401", setup: []call{grant}, call: change("", "/dataSource/6/access/1", `{"state": "denied"}`), status: 401},
		{name: "403", setup: []call{grant}, call: change(caseyKey, "/dataSource/6/access/1", `{"state": "denied"}`), status: 403},
		{name: "404 record", call: change(ownerKey, "/dataSource/6/access/5", `{"state": "denied"}`), status: 404},
		{name: "403 before 404 record", call: change(caseyKey, "/dataSource/6/access/5", `{"state": "denied"}`), status: 403},
		{name: "403 before 400", setup: []call{grant}, call: change(caseyKey, "/dataSource/6/access/1", `{`), status: 403},
		{name: "403 before 415", setup: []call{grant}, call: call{method: "PUT", path: "/dataSource/6/access/1", key: caseyKey, contentType: "text/plain", body: "x"}, status: 403},
		{name: "owner by grant may change", setup: []call{grant, {method: "POST", path: "/dataSource/6/access", key: ownerKey, contentType: jsonCT, body: `{"profileId": 4, "state": "owner"}`}},
			call: change(unaKey, "/dataSource/6/access/1", `{"state": "denied"}`), status: 200},
		{name: "404 record of another data source", setup: []call{grant}, call: change(ownerKey, "/dataSource/7/access/1", `{"state": "denied"}`), status: 404},
		{name: "404 data source", setup: []call{grant}, call: change(ownerKey, "/dataSource/9/access/1", `{"state": "denied"}`), status: 404},
		{name: "404 before 400", call: change(ownerKey, "/dataSource/6/access/5", `{`), status: 404},
		{name: "415", setup: []call{grant}, call: call{method: "PUT", path: "/dataSource/6/access/1", key: ownerKey, contentType: "text/html", body: "{}"}, status: 415},
	})
}

func TestApproveDeny(t *testing.T) {
	t.Parallel()
	request := call{method: "POST", path: "/dataSource/7/access", key: unaKey, contentType: jsonCT, body: `{}`}
	post := func(path, key, body string) call {
		return call{method: "POST", path: path, key: key, contentType: jsonCT, body: body}
	}
	runCases(t, []endpointCase{
		{name: "approve", setup: []call{request}, call: post("/subscription/approve", umaKey, `{"requests": [{"id": 1}]}`), status: 200,
			body: map[string]any{"failures": []any{}},
			check: func(t *testing.T, _ http.Handler, e *engine.Engine, _ answer) {
				assert.Equal(t, engine.LevelRead, e.Decide(4, 7).Grant)
			}},
		{name: "approve failures per entry", setup: []call{request}, call: post("/subscription/approve", umaKey, `{"requests": [{"id": 1}, {"id": 77}]}`), status: 200,
			check: func(t *testing.T, _ http.Handler, e *engine.Engine, a answer) {
				fs := a.body["failures"].([]any)
				require.Len(t, fs, 1, a.raw)
				assert.Equal(t, 77.0, fs[0].(map[string]any)["id"])
				assert.NotEmpty(t, fs[0].(map[string]any)["reason"])
				assert.Equal(t, engine.LevelRead, e.Decide(4, 7).Grant)
			}},
		{name: "approve refused: not allowed", setup: []call{request}, call: post("/subscription/approve", caseyKey, `{"requests": [{"id": 1}]}`), status: 200,
			check: func(t *testing.T, _ http.Handler, e *engine.Engine, a answer) {
				assert.Len(t, a.body["failures"], 1)
				assert.Equal(t, engine.LevelNone, e.Decide(4, 7).Grant)
			}},
		{name: "approve 400 no requests", call: post("/subscription/approve", umaKey, `{}`), status: 400, message: "requests"},
		{name: "approve 400 entry without id", call: post("/subscription/approve", umaKey, `{"requests": [{}]}`), status: 400, message: "requests[0].id"},
		{name: "approve 400 invalid UTF-8 key", call: post("/subscription/approve", umaKey, "{\"requests\": [{\"id\": 1, \"x\xff\": 1}]}"), status: 400, message: "requests[0].x"},
		{name: "approve 400 yaml duplicate id", setup: []call{request}, call: call{method: "POST", path: "/subscription/approve", key: umaKey, contentType: yamlCT,
			body: "requests:\n  - id: 3\n    id: 1\n"}, status: 400, message: "already set",
			check: func(t *testing.T, _ http.Handler, e *engine.Engine, _ answer) {
				assert.Equal(t, model.RecordPending, e.Records()[0].State, "nothing approved")
			}},
		{name: "approve 401", call: post("/subscription/approve", "", `{"requests": [{"id": 1}]}`), status: 401},
		{name: "approve 415", call: call{method: "POST", path: "/subscription/approve", key: umaKey, contentType: "text/plain", body: `{"requests": []}`}, status: 415},
		{name: "deny", setup: []call{request}, call: post("/subscription/deny", umaKey, `{"requests": [{"id": 1, "denialReasoning": "no"}]}`), status: 200,
			body: map[string]any{"failures": []any{}},
			check: func(t *testing.T, _ http.Handler, e *engine.Engine, _ answer) {
				recs := e.Records()
				require.Len(t, recs, 1)
				assert.Equal(t, model.RecordDenied, recs[0].State)
				assert.Equal(t, "no", recs[0].DenialReasoning)
			}},
		{name: "deny yaml", setup: []call{request}, call: call{method: "POST", path: "/subscription/deny", key: umaKey, contentType: yamlCT,
			body: "requests:\n  - id: 1\n    denialReasoning: not now\n"}, status: 200},
		{name: "deny 400 without reason", setup: []call{request}, call: post("/subscription/deny", umaKey, `{"requests": [{"id": 1}]}`), status: 400, message: "denialReasoning",
			check: func(t *testing.T, _ http.Handler, e *engine.Engine, _ answer) {
				assert.Equal(t, model.RecordPending, e.Records()[0].State, "a malformed body changes nothing")
			}},
		{name: "deny 401", call: post("/subscription/deny", "nope", `{"requests": [{"id": 1, "denialReasoning": "no"}]}`), status: 401},
		{name: "deny every entry fails", call: post("/subscription/deny", umaKey, `{"requests": [{"id": 5, "denialReasoning": "no"}]}`), status: 200,
			check: func(t *testing.T, _ http.Handler, _ *engine.Engine, a answer) { assert.Len(t, a.body["failures"], 1) }},
	})
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	h, _ := newHandler(t)
	a := do(t, h, call{method: "GET", path: "/nothing/here", key: govKey})
	assert.Equal(t, 404, a.status)
	assert.Contains(t, a.message(), "/nothing/here")

	req := httptest.NewRequest("PATCH", "/policy/global/1", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, 405, rec.Code)
	assert.Contains(t, rec.Header().Get("Allow"), "GET")
	assert.Contains(t, rec.Body.String(), `"statusCode":405`)
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	h, e := newHandler(t, rest.WithMaxBodyBytes(512))
	big := `{"name": "` + strings.Repeat("x", 600) + `", "policyKey": "k", "type": "subscription", "actions": {"type": "anyone"}}`
	a := do(t, h, call{method: "POST", path: "/api/v2/policy", key: govKey, contentType: jsonCT, body: big})
	assert.Equal(t, http.StatusRequestEntityTooLarge, a.status)
	assert.Equal(t, "Payload Too Large", a.body["error"])
	assert.Contains(t, a.message(), "512 bytes")
	assert.False(t, hasPolicy(e, 3))

	a = do(t, h, call{method: "POST", path: "/dataSource/6/access", key: ownerKey, contentType: jsonCT, body: `{"profileId": 3, "state": "subscribed"` + strings.Repeat(" ", 600) + `}`})
	assert.Equal(t, http.StatusRequestEntityTooLarge, a.status)

	// The default limit is 1 MiB.
	h2, _ := newHandler(t)
	huge := `{"name": "` + strings.Repeat("y", rest.DefaultMaxBodyBytes) + `"}`
	a = do(t, h2, call{method: "POST", path: "/api/v2/policy", key: govKey, contentType: jsonCT, body: huge})
	assert.Equal(t, http.StatusRequestEntityTooLarge, a.status)
}

func TestPanicRecovered(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	h := rest.NewHandler(e, rest.AuthenticatorFunc(func(string) (int64, bool) { panic("boom") }),
		rest.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	req := httptest.NewRequest("GET", "/policy/global/1", nil)
	req.Header.Set("Authorization", "k")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, 500, rec.Code)
	assert.Contains(t, rec.Body.String(), "internal error")
}

func TestImpactResponse(t *testing.T) {
	t.Parallel()
	got := rest.ImpactResponse(&engine.Impact{
		DataSourcesAdded: []int64{9, 3},
		Users: []engine.UserImpact{
			{ProfileID: 4, DataSourceID: 2, Before: engine.LevelNone, After: engine.LevelRead},
			{ProfileID: 1, DataSourceID: 9, Before: engine.LevelRead, After: engine.LevelWrite},
			{ProfileID: 1, DataSourceID: 3, Before: engine.LevelWrite, After: engine.LevelNone},
		},
	})
	data, err := json.Marshal(got)
	require.NoError(t, err)
	assert.JSONEq(t, `{"dataSourcesAdded":[3,9],"dataSourcesRemoved":[],"users":[
		{"profileId":1,"dataSourceId":3,"before":"WRITE","after":"NONE"},
		{"profileId":1,"dataSourceId":9,"before":"READ","after":"WRITE"},
		{"profileId":4,"dataSourceId":2,"before":"NONE","after":"READ"}]}`, string(data))
	empty, _ := json.Marshal(rest.ImpactResponse(nil))
	assert.JSONEq(t, `{"dataSourcesAdded":[],"dataSourcesRemoved":[],"users":[]}`, string(empty))
}
