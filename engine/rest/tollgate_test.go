package rest_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

func TestTollgateCatalogAndDirectory(t *testing.T) {
	t.Parallel()
	h, e := newHandler(t)
	put := func(key, path, body string) answer {
		return do(t, h, call{method: "PUT", path: path, key: key, contentType: jsonCT, body: body})
	}
	del := func(key, path string) answer { return do(t, h, call{method: "DELETE", path: path, key: key}) }

	// Users: USER_ADMIN or GOVERNANCE; the key is write-only and hashed.
	a := put(umaKey, "/tollgate/v1/users/8", `{"name": "Creator", "apiKey": "creator-key", "permissions": ["CREATE_DATA_SOURCE"]}`)
	require.Equal(t, 200, a.status, a.raw)
	assert.JSONEq(t, `{"id": 8, "name": "Creator", "permissions": ["CREATE_DATA_SOURCE"]}`, a.raw)
	u, ok := e.Snapshot().User(8)
	require.True(t, ok)
	assert.Equal(t, model.HashAPIKey("creator-key"), u.APIKeyHash)
	assert.Equal(t, 403, put(unaKey, "/tollgate/v1/users/9", `{bad json`).status, "403 before 400")
	assert.Equal(t, 400, put(umaKey, "/tollgate/v1/users/9", `{"id": 10, "name": "x"}`).status, "the body's id must be the path's")
	assert.Equal(t, 400, put(umaKey, "/tollgate/v1/users/9", `{"name": "x", "apiKey": ""}`).status)
	assert.Equal(t, 404, put(umaKey, "/tollgate/v1/users/09", `{"name": "x"}`).status, "ids are canonical")
	// A PUT without a key keeps the user's key (it is never answered, so a client
	// cannot send it back).
	require.Equal(t, 200, put(umaKey, "/tollgate/v1/users/8", `{"name": "Creator", "permissions": ["CREATE_DATA_SOURCE"], "groups": ["makers"]}`).status)
	u, _ = e.Snapshot().User(8)
	assert.Equal(t, model.HashAPIKey("creator-key"), u.APIKeyHash)
	assert.Equal(t, []string{"makers"}, u.Groups)

	// Data sources: CREATE_DATA_SOURCE creates, an owner replaces, GOVERNANCE does both.
	a = put("creator-key", "/tollgate/v1/dataSources/20", `{"name": "new", "owners": [8], "tags": ["Sensitive"], "createdAt": "2026-01-01"}`)
	require.Equal(t, 200, a.status, a.raw)
	assert.JSONEq(t, `{"id": 20, "name": "new", "owners": [8], "tags": ["Sensitive"], "createdAt": "2026-01-01T00:00:00Z"}`, a.raw)
	assert.Equal(t, []int64{20, 7}, appliedIDs(t, e, 2, 7, 20), "the approval policy applies to the new data source")
	assert.Equal(t, 403, put(unaKey, "/tollgate/v1/dataSources/21", `{"name": "x"}`).status)
	assert.Equal(t, 403, put("creator-key", "/tollgate/v1/dataSources/6", `{"name": "x"}`).status, "not an owner of 6")
	a = put(ownerKey, "/tollgate/v1/dataSources/6", `{"name": "patients", "owners": [2], "tags": []}`)
	require.Equal(t, 200, a.status, a.raw)
	assert.Equal(t, 400, put(govKey, "/tollgate/v1/dataSources/22", `{"name": ""}`).status)
	assert.Equal(t, 403, del(unaKey, "/tollgate/v1/dataSources/20").status)
	assert.Equal(t, 404, del(govKey, "/tollgate/v1/dataSources/99").status)
	a = del("creator-key", "/tollgate/v1/dataSources/20")
	require.Equal(t, 200, a.status, a.raw)
	assert.JSONEq(t, `{"id": 20, "deleted": true}`, a.raw)
	_, ok = e.Snapshot().DataSource(20)
	assert.False(t, ok)

	// Groups.
	a = put(govKey, "/tollgate/v1/groups/2", `{"name": "Auditors", "attributes": {"clearance": ["high"]}}`)
	require.Equal(t, 200, a.status, a.raw)
	assert.JSONEq(t, `{"id": 2, "name": "Auditors", "attributes": {"clearance": ["high"]}}`, a.raw)
	assert.Equal(t, 403, put(ownerKey, "/tollgate/v1/groups/3", `{"name": "x"}`).status)
	assert.Equal(t, 200, del(umaKey, "/tollgate/v1/groups/2").status)
	assert.Equal(t, 404, del(umaKey, "/tollgate/v1/groups/2").status)

	// Deleting a user: their key authenticates nobody.
	require.Equal(t, 200, del(umaKey, "/tollgate/v1/users/8").status)
	assert.Equal(t, 401, do(t, h, call{method: "GET", path: "/policy/global", key: "creator-key"}).status)
}

// appliedIDs lists the given data sources a policy applies to (by AppliedPolicies).
func appliedIDs(t *testing.T, e *engine.Engine, policy int64, ds ...int64) []int64 {
	t.Helper()
	var out []int64
	for i := len(ds) - 1; i >= 0; i-- {
		ps, err := e.AppliedPolicies(ds[i])
		if err != nil {
			continue
		}
		for _, p := range ps {
			if p.ID == policy {
				out = append(out, ds[i])
			}
		}
	}
	return out
}

func TestDecisionBulkListsAndExport(t *testing.T) {
	t.Parallel()
	h, _ := newHandler(t)
	get := func(key, path string) answer { return do(t, h, call{method: "GET", path: path, key: key}) }
	// Casey gets a WRITE grant on 6.
	require.Equal(t, 200, do(t, h, call{method: "POST", path: "/dataSource/6/access", key: ownerKey, contentType: jsonCT, body: seedGrant}).status)

	a := get(caseyKey, "/tollgate/v1/decision?user=3&dataSource=6")
	require.Equal(t, 200, a.status, a.raw)
	assert.Equal(t, "WRITE", a.body["grant"])
	assert.Equal(t, "subscribed", a.body["read"])
	assert.Equal(t, "subscribed", a.body["write"])
	assert.Contains(t, a.body, "revision")
	reasons := a.body["reasons"].([]any)
	assert.Contains(t, reasons, map[string]any{"kind": "record", "level": "WRITE", "recordId": 1.0, "detail": "manual grant"})
	assert.Contains(t, reasons, map[string]any{"kind": "noPolicy", "level": "READ", "detail": "no subscription policy applies at READ"})

	for _, c := range []struct {
		key, path string
		status    int
	}{
		{ownerKey, "/tollgate/v1/decision?user=3&dataSource=6", 200},
		{govKey, "/tollgate/v1/decision?user=4&dataSource=7", 200},
		{unaKey, "/tollgate/v1/decision?user=3&dataSource=6", 403},
		{umaKey, "/tollgate/v1/decision?user=3&dataSource=6", 403},
		{govKey, "/tollgate/v1/decision?user=3", 400},
		{govKey, "/tollgate/v1/decision?user=x&dataSource=6", 400},
		{govKey, "/tollgate/v1/decision?User=3&user=3&dataSource=6", 400},
		{govKey, "/tollgate/v1/decision?user=3&dataSource=99", 404},
		{govKey, "/tollgate/v1/decision?user=99&dataSource=6", 404},
		{caseyKey, "/tollgate/v1/users/3/dataSources", 200},
		{unaKey, "/tollgate/v1/users/3/dataSources", 403},
		{govKey, "/tollgate/v1/users/3/dataSources?level=ADMIN", 400},
		{govKey, "/tollgate/v1/users/99/dataSources", 404},
		{ownerKey, "/tollgate/v1/dataSources/6/users?level=WRITE", 200},
		{caseyKey, "/tollgate/v1/dataSources/6/users", 403},
		{govKey, "/tollgate/v1/dataSources/99/users", 404},
		{govKey, "/tollgate/v1/export", 200},
		{umaKey, "/tollgate/v1/export", 403},
	} {
		assert.Equal(t, c.status, get(c.key, c.path).status, "%s as %s", c.path, c.key)
	}
	a = get(caseyKey, "/tollgate/v1/users/3/dataSources?level=WRITE")
	assert.JSONEq(t, `{"dataSourceIds": [6]}`, a.raw)
	a = get(govKey, "/tollgate/v1/dataSources/6/users?level=WRITE")
	assert.JSONEq(t, `{"userIds": [3]}`, a.raw)
	a = get(govKey, "/tollgate/v1/dataSources/6/users")
	assert.JSONEq(t, `{"userIds": [2, 3]}`, a.raw, "the owner reads too")

	a = get(govKey, "/tollgate/v1/export")
	require.Equal(t, 200, a.status)
	assert.NotContains(t, a.raw, seedKey, "keys are exported as hashes")
	assert.Contains(t, a.raw, model.HashAPIKey(seedKey))
	b, err := model.DecodeBundle([]byte(a.raw), engine.BundleLimits(model.DefaultLimits()))
	require.NoError(t, err, "the export is a bundle")
	assert.Len(t, b.Users, 5)
	assert.True(t, strings.Contains(a.raw, `"state"`))
}
