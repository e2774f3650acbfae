package model_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/model"
)

// The vendor's own v1 field lists are accepted; the informational parts are kept
// and echoed in v1 responses, never used to decide.
func TestVendorFieldsV1(t *testing.T) {
	t.Parallel()
	body := `{"name": "vendor", "type": "subscription",
		"ownerRestrictions": {"users": [{"id": 3}], "groups": []},
		"actions": [{"type": "subscription", "subscriptionType": "policy",
			"approvals": [],
			"exceptions": {"operator": "or", "conditions": [
				{"type": "groups", "group": {"name": "group01", "iam": "okta"}, "field": "groups"},
				{"type": "groups", "group": {"id": 7}},
				{"type": "authorizations", "authorization": {"auth": "dept", "value": "eng", "iam": "ldap"}, "field": "authorizations"}]}}],
		"circumstances": [
			{"type": "tags", "operator": "or", "tag": {"name": "PII", "source": "curated"}},
			{"type": "columnTags", "operator": "or", "columnTag": {"name": "Discovered.Name", "displayName": "Name", "hasLeafNodes": false, "source": "curated"}},
			{"type": "columnRegex", "operator": "or", "columnRegex": {"regex": "^ssn$", "caseInsensitive": true}},
			{"type": "noTags", "operator": "or"},
			{"type": "anyTag", "operator": "or"}]}`
	p, err := model.DecodePolicy([]byte(body), model.DefaultLimits())
	require.NoError(t, err)
	e := p.Action.Entitlements
	require.NotNil(t, e)
	assert.Equal(t, []string{"group01", ""}, e.Groups, "a group given by id alone has no name until an engine resolves it")
	assert.Equal(t, []model.ConditionInfo{{IAM: "okta", Field: "groups"}, {GroupID: 7}}, e.GroupInfo)
	assert.Equal(t, []model.ConditionInfo{{IAM: "ldap", Field: "authorizations"}}, e.AttributeInfo)
	require.Len(t, p.Circumstances, 5)
	assert.Equal(t, "curated", p.Circumstances[0].TagSource)
	assert.Equal(t, "curated", p.Circumstances[1].TagSource)
	assert.Equal(t, "^ssn$", p.Circumstances[2].Regex)
	assert.True(t, p.Circumstances[2].CaseInsensitive)
	assert.Equal(t, model.CircumstanceNoTags, p.Circumstances[3].Type)
	assert.Equal(t, model.CircumstanceAnyTag, p.Circumstances[4].Type)
	assert.JSONEq(t, `{"users": [{"id": 3}], "groups": []}`, string(p.OwnerRestrictions))

	out, err := model.EncodePolicy(p, model.DialectV1)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(out, &got))
	assert.Equal(t, map[string]any{"users": []any{map[string]any{"id": 3.0}}, "groups": []any{}}, got["ownerRestrictions"])
	circs := got["circumstances"].([]any)
	assert.Equal(t, map[string]any{"type": "columnRegex", "operator": "or",
		"columnRegex": map[string]any{"regex": "^ssn$", "caseInsensitive": true}}, circs[2], "v1 answers the vendor's columnRegex form")
	assert.Equal(t, map[string]any{"name": "PII", "source": "curated"}, circs[0].(map[string]any)["tag"])
	assert.Equal(t, map[string]any{"type": "noTags", "operator": "or"}, circs[3])
	conds := got["actions"].([]any)[0].(map[string]any)["exceptions"].(map[string]any)["conditions"].([]any)
	assert.Equal(t, map[string]any{"type": "groups", "group": map[string]any{"name": "group01", "iam": "okta"}, "field": "groups"}, conds[0])
	assert.Equal(t, map[string]any{"type": "authorizations", "field": "authorizations",
		"authorization": map[string]any{"auth": "dept", "value": "eng", "iam": "ldap"}}, conds[2])

	// The v1 answer decodes back to the same policy.
	back, err := model.DecodePolicy(out, model.DefaultLimits())
	require.NoError(t, err)
	assert.Equal(t, p.Circumstances, back.Circumstances)
	assert.Equal(t, p.Action.Entitlements, back.Action.Entitlements)
	assert.Equal(t, p.OwnerRestrictions, back.OwnerRestrictions)

	// v2 keeps the flat regex form and takes noTags and anyTag too.
	v2out, err := model.EncodePolicy(p, model.DialectV2)
	require.NoError(t, err)
	assert.Contains(t, string(v2out), `{"type":"columnRegex","regex":"^ssn$","caseInsensitive":true}`)
	assert.Contains(t, string(v2out), `{"type":"noTags"},{"type":"anyTag"}`)
}

func TestVendorFieldErrors(t *testing.T) {
	t.Parallel()
	v1 := func(circ string) string {
		return `{"name": "x", "type": "subscription", "actions": [{"type": "subscription", "subscriptionType": "automatic"}],
			"circumstances": [` + circ + `]}`
	}
	tests := []struct {
		name, body string
		want       []problem
	}{
		{"both regex forms", v1(`{"type": "columnRegex", "regex": "a", "columnRegex": {"regex": "b"}}`),
			[]problem{{"circumstances[0].regex", model.CodeForbidden}}},
		{"nested regex missing", v1(`{"type": "columnRegex", "columnRegex": {"caseInsensitive": true}}`),
			[]problem{{"circumstances[0].columnRegex.regex", model.CodeRequired}}},
		{"nested regex unknown field", v1(`{"type": "columnRegex", "columnRegex": {"regex": "a", "flags": "i"}}`),
			[]problem{{"circumstances[0].columnRegex.flags", model.CodeUnknownField}}},
		{"columnRegex object on a tags circumstance", v1(`{"type": "tags", "tag": {"name": "a"}, "columnRegex": {"regex": "a"}}`),
			[]problem{{"circumstances[0].columnRegex", model.CodeUnknownField}}},
		{"noTags takes no tag", v1(`{"type": "noTags", "tag": {"name": "a"}}`),
			[]problem{{"circumstances[0].tag", model.CodeUnknownField}}},
		{"group without name or id", `{"name": "x", "type": "subscription", "actions": [{"type": "subscription",
			"subscriptionType": "policy", "exceptions": {"operator": "or", "conditions": [{"type": "groups", "group": {"iam": "okta"}}]}}]}`,
			[]problem{{"actions[0].exceptions.conditions[0].group.name", model.CodeRequired}}},
		{"group id not positive", `{"name": "x", "type": "subscription", "actions": [{"type": "subscription",
			"subscriptionType": "policy", "exceptions": {"operator": "or", "conditions": [{"type": "groups", "group": {"id": 0, "name": "g"}}]}}]}`,
			[]problem{{"actions[0].exceptions.conditions[0].group.id", model.CodeInvalid}}},
		{"v2 columnRegex has no nested form", `{"name": "x", "policyKey": "x", "type": "subscription", "actions": {"type": "anyone"},
			"circumstances": [{"type": "columnRegex", "columnRegex": {"regex": "a"}}]}`,
			[]problem{{"circumstances[0].columnRegex", model.CodeUnknownField}, {"circumstances[0].regex", model.CodeRequired}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := model.DecodePolicy([]byte(tc.body), model.DefaultLimits())
			require.ErrorIs(t, err, model.ErrInvalid)
			assert.ElementsMatch(t, tc.want, problems(err), "%v", err)
		})
	}
	// approvals' ownerModelId and ownerModelName (v1) are accepted and ignored.
	_, err := model.DecodePolicy([]byte(`{"name": "x", "type": "subscription", "actions": [{"type": "subscription",
		"subscriptionType": "approval", "approvals": [{"requiredPermission": "OWNER", "specificApproverRequired": false,
		"ownerModelId": 5, "ownerModelName": "parent"}]}]}`), model.DefaultLimits())
	assert.NoError(t, err)
}
