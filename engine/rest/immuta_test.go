package rest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

// putGroupMembers makes Casey (3) and Una (4) members of Analysts (group 1).
func putGroupMembers(e *engine.Engine) error {
	return e.PutUsers(engine.As(1), []*model.User{
		{ID: 3, Name: "Casey", APIKeyHash: model.HashAPIKey(caseyKey), Groups: []string{"Analysts"}, Attributes: map[string][]string{"has": {"write"}}},
		{ID: 4, Name: "Una", APIKeyHash: model.HashAPIKey(unaKey), Groups: []string{"Analysts"}},
	})
}

// names lists the name of each element of a policy list answer.
func names(t *testing.T, a answer) []string {
	t.Helper()
	list, ok := a.list()
	require.True(t, ok, "an array: %s", a.raw)
	out := []string{}
	for _, e := range list {
		out = append(out, e.(map[string]any)["name"].(string))
	}
	return out
}

func TestListPolicies(t *testing.T) {
	t.Parallel()
	h, _ := newHandler(t)
	// Policies 3 (template, staged) and 4 (data) besides the fixture's 1 and 2.
	a := do(t, h, call{method: "POST", path: "/api/v2/policy", key: govKey, contentType: jsonCT,
		body: `{"name": "a template", "policyKey": "tpl", "type": "subscription", "template": true, "staged": true, "actions": {"type": "anyone"}}`})
	require.Equal(t, 200, a.status, a.raw)
	a = do(t, h, call{method: "POST", path: "/api/v2/policy", key: govKey, contentType: jsonCT,
		body: `{"name": "masking", "policyKey": "mask", "type": "data", "actions": {"rules": []}}`})
	require.Equal(t, 200, a.status, a.raw)

	tests := []struct {
		query  string
		status int
		want   []string
	}{
		{"", 200, []string{"Owner selected", "Sensitive approval", "a template", "masking"}},
		{"?nameOnly=False", 200, []string{"Owner selected", "Sensitive approval", "a template", "masking"}},
		{"?searchText=SENSITIVE", 200, []string{"Sensitive approval"}},
		{"?searchText=e&nameOnly=false&foo=1", 200, []string{"Owner selected", "Sensitive approval", "a template"}},
		{"?type=data", 200, []string{"masking"}},
		{"?templates=TRUE", 200, []string{"a template"}},
		{"?ignoreStaged=true", 200, []string{"Owner selected", "Sensitive approval", "masking"}},
		{"?sortField=name", 200, []string{"a template", "masking", "Owner selected", "Sensitive approval"}},
		{"?sortField=id&sortOrder=desc", 200, []string{"masking", "a template", "Sensitive approval", "Owner selected"}},
		{"?offset=1&size=2", 200, []string{"Sensitive approval", "a template"}},
		{"?offset=9", 200, []string{}},
		{"?size=0", 200, []string{}},
		{"?sortField=owner", 400, nil},
		{"?sortOrder=up", 400, nil},
		{"?size=-1", 400, nil},
		{"?nameOnly=maybe", 400, nil},
		{"?NameOnly=true", 400, nil},
		{"?size=1&size=2", 400, nil},
		{"?type=global", 400, nil},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			a := do(t, h, call{method: "GET", path: "/policy/global" + tc.query, key: unaKey})
			require.Equal(t, tc.status, a.status, a.raw)
			if tc.status == 200 {
				assert.Equal(t, tc.want, names(t, a))
			}
		})
	}
	// nameOnly=true answers {id, name} only; otherwise the GET shape.
	a = do(t, h, call{method: "GET", path: "/policy/global?nameOnly=True&size=1", key: unaKey})
	require.Equal(t, 200, a.status)
	assert.JSONEq(t, `[{"id": 1, "name": "Owner selected"}]`, a.raw)
	a = do(t, h, call{method: "GET", path: "/policy/global?size=1", key: unaKey})
	one := do(t, h, call{method: "GET", path: "/policy/global/1", key: unaKey})
	assert.JSONEq(t, "["+one.raw+"]", a.raw)
	assert.Equal(t, 401, do(t, h, call{method: "GET", path: "/policy/global"}).status)
}

func TestAppliedTo(t *testing.T) {
	t.Parallel()
	h, _ := newHandler(t)
	a := do(t, h, call{method: "GET", path: "/policy/global/appliedTo/2", key: unaKey})
	require.Equal(t, 200, a.status, a.raw)
	assert.JSONEq(t, `{"count": 1, "dataSourceIds": [7]}`, a.raw)
	a = do(t, h, call{method: "GET", path: "/policy/global/appliedTo/1", key: unaKey})
	assert.JSONEq(t, `{"count": 0, "dataSourceIds": []}`, a.raw, "owner-selected, applied nowhere yet")
	require.Equal(t, 200, do(t, h, call{method: "POST", path: "/policy/global/applyPolicy", key: ownerKey, contentType: jsonCT,
		body: `{"policyId": 1, "dataSourceId": 6}`}).status)
	a = do(t, h, call{method: "GET", path: "/policy/global/appliedTo/1", key: unaKey})
	assert.JSONEq(t, `{"count": 1, "dataSourceIds": [6]}`, a.raw)
	assert.Equal(t, 404, do(t, h, call{method: "GET", path: "/policy/global/appliedTo/9", key: unaKey}).status)
	assert.Equal(t, 404, do(t, h, call{method: "GET", path: "/policy/global/appliedTo/x", key: unaKey}).status)
}

// ids lists the record ids (and profiles) of a hits answer.
func hits(t *testing.T, a answer) (count float64, ids [][2]float64) {
	t.Helper()
	require.Equal(t, 200, a.status, a.raw)
	for _, h := range a.body["hits"].([]any) {
		m := h.(map[string]any)
		p, _ := m["profile"].(float64)
		ids = append(ids, [2]float64{m["id"].(float64), p})
	}
	return a.body["count"].(float64), ids
}

func TestAccessListsPendingAndUnsubscribe(t *testing.T) {
	t.Parallel()
	h, e := newHandler(t)
	require.NoError(t, putGroupMembers(e))
	// Records on data source 7 (Sensitive, owned by 2): 1 a manual grant to Casey,
	// 2 a group grant to Analysts (Casey and Una), 3 Una's pending request.
	for _, c := range []call{
		{method: "POST", path: "/dataSource/7/access", key: ownerKey, contentType: jsonCT, body: `{"profileId": 3, "state": "subscribed"}`},
		{method: "POST", path: "/dataSource/7/access", key: ownerKey, contentType: jsonCT, body: `{"groupId": 1, "state": "subscribed"}`},
		{method: "POST", path: "/dataSource/7/access", key: unaKey, contentType: jsonCT, body: `{}`},
	} {
		a := do(t, h, c)
		require.Equal(t, 200, a.status, a.raw)
	}
	list := func(key, q string) answer {
		return do(t, h, call{method: "GET", path: "/dataSource/7/access" + q, key: key})
	}
	n, got := hits(t, list(ownerKey, ""))
	assert.Equal(t, 3.0, n)
	assert.Equal(t, [][2]float64{{1, 3}, {2, 0}, {3, 4}}, got, "an owner sees every record")
	n, got = hits(t, list(unaKey, ""))
	assert.Equal(t, 1.0, n)
	assert.Equal(t, [][2]float64{{3, 4}}, got, "anyone else sees their own")
	_, got = hits(t, list(umaKey, "?states=pending"))
	assert.Equal(t, [][2]float64{{3, 4}}, got, "USER_ADMIN sees all; states filters")
	_, got = hits(t, list(govKey, "?states=subscribed,denied&memberTypes=profile"))
	assert.Equal(t, [][2]float64{{1, 3}}, got)
	_, got = hits(t, list(govKey, "?memberTypes=group&expandGroups=TRUE"))
	assert.Equal(t, [][2]float64{{2, 3}, {2, 4}}, got, "a group record once per member")
	_, got = hits(t, list(govKey, "?approved=false"))
	assert.Equal(t, [][2]float64{{3, 4}}, got)
	_, got = hits(t, list(govKey, "?searchText=CASEY"))
	assert.Equal(t, [][2]float64{{1, 3}}, got, "searchText matches the profile or group name")
	n, got = hits(t, list(govKey, "?sortOrder=desc&size=2&offset=0"))
	assert.Equal(t, 3.0, n, "count is before paging")
	assert.Equal(t, [][2]float64{{3, 4}, {2, 0}}, got)
	for _, bad := range []string{"?states=active", "?memberTypes=robot", "?approved=1", "?sortField=name", "?Size=1"} {
		assert.Equal(t, 400, list(govKey, bad).status, bad)
	}
	assert.Equal(t, 404, do(t, h, call{method: "GET", path: "/dataSource/99/access", key: govKey}).status)

	// Pending requests the caller may approve or deny now.
	_, got = hits(t, do(t, h, call{method: "GET", path: "/subscription/getPendingRequestsForUser", key: umaKey}))
	assert.Equal(t, [][2]float64{{3, 4}}, got, "USER_ADMIN fills the slot")
	_, got = hits(t, do(t, h, call{method: "GET", path: "/subscription/getPendingRequestsForUser?profileId=3", key: umaKey}))
	assert.Empty(t, got)
	_, got = hits(t, do(t, h, call{method: "GET", path: "/subscription/getPendingRequestsForUser", key: unaKey}))
	assert.Empty(t, got, "never one's own request")
	_, got = hits(t, do(t, h, call{method: "GET", path: "/subscription/getPendingRequestsForUser", key: caseyKey}))
	assert.Empty(t, got, "no slot Casey could fill")
	assert.Equal(t, 400, do(t, h, call{method: "GET", path: "/subscription/getPendingRequestsForUser?profileId=x", key: umaKey}).status)

	// Unsubscribe ends the caller's own records there; group grants stay.
	a := do(t, h, call{method: "DELETE", path: "/dataSource/7/unsubscribe", key: caseyKey})
	require.Equal(t, 200, a.status, a.raw)
	assert.JSONEq(t, `{"count": 1}`, a.raw)
	a = do(t, h, call{method: "DELETE", path: "/dataSource/7/unsubscribe", key: unaKey})
	assert.JSONEq(t, `{"count": 1}`, a.raw, "a pending request ends too")
	r1, _ := e.Snapshot().Record(1)
	assert.Equal(t, "denied", string(r1.State))
	assert.Equal(t, "unsubscribed", r1.DenialReasoning)
	r2, _ := e.Snapshot().Record(2)
	assert.Equal(t, "subscribed", string(r2.State), "the group grant is untouched")
	assert.Equal(t, "READ", e.Decide(3, 7).Grant.String(), "Casey keeps READ through the group")
	a = do(t, h, call{method: "DELETE", path: "/dataSource/7/unsubscribe", key: caseyKey})
	assert.JSONEq(t, `{"count": 0}`, a.raw)
	assert.Equal(t, 404, do(t, h, call{method: "DELETE", path: "/dataSource/99/unsubscribe", key: caseyKey}).status)
	assert.Equal(t, http.StatusBadRequest, do(t, h, call{method: "DELETE", path: "/dataSource/7/unsubscribe?dryRun=true", key: caseyKey}).status)
}
