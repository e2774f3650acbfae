package model_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/model"
)

// Shorthands for the invalid-payload table.
const (
	req   = model.CodeRequired
	inv   = model.CodeInvalid
	nsup  = model.CodeNotSupported
	unk   = model.CodeUnknownField
	typ   = model.CodeType
	forb  = model.CodeForbidden
	dup   = model.CodeDuplicate
	tlong = model.CodeTooLong
)

// v2 wraps v2 actions and extra top-level JSON into a v2 payload.
func v2(actions string, extra ...string) string {
	s := `{"name": "n", "policyKey": "k", "type": "subscription", "actions": ` + actions
	for _, e := range extra {
		s += ", " + e
	}
	return s + "}"
}

// v1 wraps one v1 action element and extra top-level JSON into a v1 payload.
func v1(action string, extra ...string) string {
	s := `{"name": "n", "type": "subscription", "actions": [` + action + `]`
	for _, e := range extra {
		s += ", " + e
	}
	return s + "}"
}

const (
	anyone2 = `{"type": "anyone"}`
	manual1 = `{"type": "subscription", "subscriptionType": "manual"}`
)

var invalidPolicies = []struct {
	name string
	in   string
	want []problem
}{
	// top level
	{"v2 no name", `{"policyKey": "k", "type": "subscription", "actions": {"type": "anyone"}}`,
		[]problem{{"name", req}}},
	{"v2 no policyKey", `{"name": "n", "type": "subscription", "actions": {"type": "anyone"}}`,
		[]problem{{"policyKey", req}}},
	{"v1 no type", `{"name": "n", "actions": [` + manual1 + `]}`, []problem{{"type", req}}},
	{"v2 bad type", `{"name": "n", "policyKey": "k", "type": "subscriptions", "actions": {"type": "anyone"}}`,
		[]problem{{"type", nsup}}},
	{"no actions", `{"name": "n", "policyKey": "k", "type": "subscription"}`, []problem{{"actions", req}}},
	{"null actions", `{"name": "n", "policyKey": "k", "type": "subscription", "actions": null}`, []problem{{"actions", req}}},
	{"actions a string", `{"name": "n", "policyKey": "k", "type": "subscription", "actions": "anyone"}`,
		[]problem{{"actions", typ}}},
	{"not an object", `["name"]`, []problem{{"", typ}}},
	{"wrong scalar types", v2(anyone2, `"staged": "yes"`, `"template": 1`, `"name": 5`)[0:0] +
		`{"name": 5, "policyKey": "k", "type": "subscription", "actions": {"type": "anyone"}, "staged": "yes", "template": 1}`,
		[]problem{{"name", typ}, {"staged", typ}, {"template", typ}}},
	{"misspelt circumstanceOperator", v2(anyone2, `"circumstanceOperater": "all"`),
		[]problem{{"circumstanceOperater", unk}}},
	{"v1 circumstanceOperator is unknown", v1(manual1, `"circumstanceOperator": "all"`),
		[]problem{{"circumstanceOperator", unk}}},
	{"certification", v2(anyone2, `"certification": {"tags": ["", "x"], "color": "red"}`),
		[]problem{{"certification.text", req}, {"certification.label", req}, {"certification.tags[0]", req}, {"certification.color", unk}}},
	{"duplicate key", `{"name": "n", "policyKey": "k", "name": "m", "type": "subscription", "actions": {"type": "anyone"}}`,
		[]problem{{"name", dup}}},
	{"data policy actions a string", `{"name": "n", "policyKey": "k", "type": "data", "actions": "mask"}`,
		[]problem{{"actions", typ}}},

	// v1 actions
	{"v1 two actions", `{"name": "n", "type": "subscription", "actions": [` + manual1 + `, ` + manual1 + `]}`,
		[]problem{{"actions", inv}}},
	{"v1 no action", `{"name": "n", "type": "subscription", "actions": []}`, []problem{{"actions", inv}}},
	{"v1 action not an object", `{"name": "n", "type": "subscription", "actions": ["manual"]}`,
		[]problem{{"actions[0]", typ}}},
	{"v1 action type", v1(`{"type": "data", "subscriptionType": "manual"}`), []problem{{"actions[0].type", nsup}}},
	{"v1 action without type", v1(`{"subscriptionType": "manual"}`), []problem{{"actions[0].type", req}}},
	{"v1 subscriptionType", v1(`{"type": "subscription", "subscriptionType": "sometimes"}`),
		[]problem{{"actions[0].subscriptionType", nsup}}},
	{"v1 no subscriptionType", v1(`{"type": "subscription"}`), []problem{{"actions[0].subscriptionType", req}}},
	{"v1 v2 words", v1(`{"type": "subscription", "subscriptionType": "approval", "approvals": [{"requiredPermissions": "OWNER"}]}`),
		[]problem{{"actions[0].approvals[0].requiredPermissions", unk}, {"actions[0].approvals[0].requiredPermission", req}}},
	{"v1 exceptions without policy", v1(`{"type": "subscription", "subscriptionType": "automatic",
		"exceptions": {"operator": "and", "conditions": [{"type": "groups", "group": {"name": "g"}}]}}`),
		[]problem{{"actions[0].exceptions", forb}}},
	{"v1 policy without exceptions", v1(`{"type": "subscription", "subscriptionType": "policy"}`),
		[]problem{{"actions[0].exceptions", req}}},
	{"v1 conditions", v1(`{"type": "subscription", "subscriptionType": "policy", "exceptions": {"operator": "and",
		"conditions": [{"type": "roles"}, {"type": "groups", "group": {}}, {"type": "authorizations", "authorization": {"auth": "a"}}, {}]}}`),
		[]problem{{"actions[0].exceptions.conditions[0].type", nsup}, {"actions[0].exceptions.conditions[1].group.name", req},
			{"actions[0].exceptions.conditions[2].authorization.value", req}, {"actions[0].exceptions.conditions[3].type", req}}},
	{"v1 exceptions operator", v1(`{"type": "subscription", "subscriptionType": "policy", "exceptions": {"operator": "all",
		"conditions": [{"type": "groups", "group": {"name": "g"}}]}}`),
		[]problem{{"actions[0].exceptions.operator", nsup}}},
	{"v1 empty exceptions", v1(`{"type": "subscription", "subscriptionType": "policy", "exceptions": {}}`),
		[]problem{{"actions[0].exceptions.operator", req}, {"actions[0].exceptions.conditions", req}}},
	{"v1 entitlements is v2", v1(`{"type": "subscription", "subscriptionType": "policy", "advanced": "@isInGroups('a')",
		"entitlements": {"operator": "all", "groups": ["g"]}}`),
		[]problem{{"actions[0].entitlements", unk}}},

	// v2 actions
	{"v2 action type", v2(`{"type": "everyone"}`), []problem{{"actions.type", nsup}}},
	{"v2 no action type", v2(`{"automaticSubscription": true}`), []problem{{"actions.type", req}}},
	{"v2 accessGrant", v2(`{"type": "anyone", "accessGrant": "ADMIN"}`), []problem{{"actions.accessGrant", nsup}}},
	{"v2 approval without approvals", v2(`{"type": "approval"}`), []problem{{"actions.approvals", req}}},
	{"v2 approvals with anyone", v2(`{"type": "anyone", "approvals": [{"requiredPermissions": "OWNER"}]}`),
		[]problem{{"actions.approvals", forb}}},
	{"v2 approval permissions", v2(`{"type": "approval", "approvals": [{"requiredPermissions": "OWNER"},
		{"requiredPermissions": "ADMIN"}, {"specificApproverRequired": "no"}, "x"]}`),
		[]problem{{"actions.approvals[1].requiredPermissions", nsup}, {"actions.approvals[2].specificApproverRequired", typ},
			{"actions.approvals[2].requiredPermissions", req}, {"actions.approvals[3]", typ}}},
	{"v2 entitlements neither", v2(`{"type": "entitlements", "advanced": ""}`), []problem{{"actions.entitlements", req}}},
	{"v2 entitlements and advanced on others", v2(`{"type": "manual", "advanced": "@isInGroups('a')",
		"entitlements": {"operator": "any", "groups": ["g"]}}`),
		[]problem{{"actions.entitlements", forb}, {"actions.advanced", forb}}},
	{"v2 entitlements content", v2(`{"type": "entitlements", "entitlements": {"operator": "both", "groups": []}}`),
		[]problem{{"actions.entitlements.operator", nsup}, {"actions.entitlements", req}}},
	{"v2 entitlements items", v2(`{"type": "entitlements", "entitlements": {"groups": ["", 3],
		"attributes": [{"name": "a"}, {"value": "b"}, {"name": "c", "value": "d", "op": "eq"}]}}`),
		[]problem{{"actions.entitlements.operator", req}, {"actions.entitlements.groups[0]", req},
			{"actions.entitlements.groups[1]", typ}, {"actions.entitlements.attributes[0].value", req},
			{"actions.entitlements.attributes[1].name", req}, {"actions.entitlements.attributes[2].op", unk}}},
	{"v2 advanced not a string", v2(`{"type": "entitlements", "advanced": 5}`), []problem{{"actions.advanced", typ}}},
	{"v2 v1 words", v2(`{"type": "entitlements", "subscriptionType": "policy", "automaticSubscriptions": true,
		"exceptions": {}, "entitlements": {"operator": "any", "groups": ["g"]}}`),
		[]problem{{"actions.automaticSubscriptions", unk}, {"actions.exceptions", unk}, {"actions.subscriptionType", unk}}},

	// circumstances
	{"v2 circumstanceOperator", v2(anyone2, `"circumstanceOperator": "most"`), []problem{{"circumstanceOperator", nsup}}},
	{"v2 circumstances not a list", v2(anyone2, `"circumstances": {"type": "tags"}`), []problem{{"circumstances", typ}}},
	{"circumstance without type", v2(anyone2, `"circumstances": [{"tag": "a"}]`), []problem{{"circumstances[0].type", req}}},
	{"circumstance type", v2(anyone2, `"circumstances": [{"type": "color", "tag": "a"}, {"type": 3}]`),
		[]problem{{"circumstances[0].type", nsup}, {"circumstances[1].type", typ}}},
	{"fields of other types", v2(anyone2, `"circumstances": [{"type": "tags", "regex": "x"}, {"type": null, "server": "s"}]`),
		[]problem{{"circumstances[0].tag", req}, {"circumstances[0].regex", unk}, {"circumstances[1].server", unk}}},
	{"v2 tag is a string", v2(anyone2, `"circumstances": [{"type": "tags", "tag": {"name": "a"}}]`),
		[]problem{{"circumstances[0].tag", typ}}},
	{"v1 tag is an object", v1(manual1, `"circumstances": [{"type": "tags", "tag": "a"}]`),
		[]problem{{"circumstances[0].tag", typ}}},
	{"v1 tag object", v1(manual1, `"circumstances": [{"type": "columnTags", "columnTag": {"displayName": "A", "hasLeafNodes": "no", "color": 1}}]`),
		[]problem{{"circumstances[0].columnTag.hasLeafNodes", typ}, {"circumstances[0].columnTag.color", unk},
			{"circumstances[0].columnTag.name", req}}},
	{"v1 mixed operators", v1(manual1, `"circumstances": [{"operator": "and", "type": "server", "server": "a"},
		{"type": "server", "server": "b"}, {"operator": "or", "type": "server", "server": "c"}]`),
		[]problem{{"circumstances[2].operator", inv}}},
	{"v1 operator", v1(manual1, `"circumstances": [{"operator": "xor", "type": "server", "server": "a"}]`),
		[]problem{{"circumstances[0].operator", nsup}}},
	{"columnRegex", v2(anyone2, `"circumstances": [{"type": "columnRegex"}, {"type": "columnRegex", "regex": 5, "caseInsensitive": "y"}]`),
		[]problem{{"circumstances[0].regex", req}, {"circumstances[1].regex", typ}, {"circumstances[1].caseInsensitive", typ}}},
	{"time", v2(anyone2, `"circumstances": [{"type": "time", "startDate": "tomorrow"}, {"type": "time", "startDate": "2024-02-01",
		"endDate": "2024-01-31T23:59:59Z"}, {"type": "time", "endDate": "2024-01-01"}, {"type": "time", "startDate": "2024-01-01", "endDate": "2024-01-01"}]`),
		[]problem{{"circumstances[0].startDate", inv}, {"circumstances[1].endDate", inv}, {"circumstances[2].startDate", req},
			{"circumstances[3].endDate", inv}}},
	{"domains", v2(anyone2, `"circumstances": [{"type": "domains", "domains": []}, {"type": "domains", "domains": [{}, {"id": true}, {"id": "1", "url": "x"}]}]`),
		[]problem{{"circumstances[0].domains", req}, {"circumstances[1].domains[0]", req}, {"circumstances[1].domains[1].id", typ},
			{"circumstances[1].domains[2].url", unk}}},
	{"server", v2(anyone2, `"circumstances": [{"type": "server"}, {"type": "server", "server": ""}]`),
		[]problem{{"circumstances[0].server", req}, {"circumstances[1].server", req}}},
	{"v1 staged owner-selected", v1(manual1, `"circumstances": null`, `"staged": true`), []problem{{"staged", forb}}},
	{"v2 staged owner-selected", v2(anyone2, `"circumstances": [{"type": "null"}]`, `"staged": true`), []problem{{"staged", forb}}},

	// YAML
	{"yaml v2 typos and types", `
name: pol
policyKey: k
type: subscription
actions:
  type: approval
  approvals:
    - requiredPermissions: ADMIN
      specificApproverRequired: true
  acessGrant: WRITE
circumstances:
  - type: tags
    tag: [a]
`, []problem{{"actions.acessGrant", unk}, {"actions.approvals[0].requiredPermissions", nsup}, {"circumstances[0].tag", typ}}},
	{"yaml v1 everything wrong", `
type: subscriptions
staged: true
actions:
  - type: subscription
    subscriptionType: policy
    accessGrant: read
    exceptions:
      operator: and
      conditions:
        - type: groups
          group: {name: ""}
circumstances:
  - operator: and
    type: time
    startDate: 2024-13-01
  - operator: or
    type: null
`, []problem{{"actions[0].accessGrant", nsup}, {"actions[0].exceptions.conditions[0].group.name", req},
		{"circumstances[0].startDate", inv}, {"circumstances[1].operator", inv}, {"name", req}, {"staged", forb}, {"type", nsup}}},
	{"yaml syntax", "name: [a\n", []problem{{"", inv}}},
	{"yaml duplicate key", "name: a\nname: b\n", []problem{{"", dup}}},
	{"yaml scalar", "just text", []problem{{"", typ}}},
	{"empty", "", []problem{{"", typ}}},
}

func TestDecodePolicyInvalid(t *testing.T) {
	t.Parallel()
	require.GreaterOrEqual(t, len(invalidPolicies), 40)
	for _, tc := range invalidPolicies {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := model.DecodePolicy([]byte(tc.in), model.Limits{})
			require.Nil(t, p)
			require.Error(t, err)
			require.ErrorIs(t, err, model.ErrInvalid)
			assert.ElementsMatch(t, tc.want, problems(err), "%v", err)
			for _, e := range model.Errors(err) {
				assert.NotEmpty(t, e.Detail)
				assert.True(t, strings.HasPrefix(e.Error(), e.Path.String()+": "))
			}
			// deterministic, order included
			_, again := model.DecodePolicy([]byte(tc.in), model.Limits{})
			assert.Equal(t, err.Error(), again.Error())
		})
	}
}

func TestErrorMessages(t *testing.T) {
	t.Parallel()
	_, err := model.DecodePolicy([]byte(v2(`{"type": "approval", "approvals": [{"requiredPermissions": "OWNER"},
		{"requiredPermissions": "ADMIN"}]}`)), model.Limits{})
	assert.EqualError(t, err, `actions.approvals[1].requiredPermissions: "ADMIN" is not one of OWNER, USER_ADMIN, GOVERNANCE, AUDIT`)

	// JSON problems come in document order
	_, err = model.DecodePolicy([]byte(`{"type": "x", "actions": {"type": "y"}, "name": ""}`), model.Limits{})
	assert.Equal(t, []problem{{"policyKey", req}, {"type", nsup}, {"actions.type", nsup}, {"name", req}}, problems(err))
}

// Response-only fields are accepted at the top level (a GET response can be PUT
// back) and nowhere else.
func TestResponseOnlyFields(t *testing.T) {
	t.Parallel()
	p, err := model.DecodePolicy([]byte(v2(anyone2, `"id": 9`, `"createdBy": "x"`, `"createdByName": null`,
		`"createdAt": 1`, `"updatedAt": {}`, `"deleted": true`, `"systemGenerated": false`, `"clonedFrom": 3`,
		`"metadata": {"a": 1}`, `"ownerRestrictions": []`)), model.Limits{})
	require.NoError(t, err)
	assert.Zero(t, p.ID)
	assert.False(t, p.Deleted)
	_, err = model.DecodePolicy([]byte(v2(`{"type": "anyone", "id": 3}`)), model.Limits{})
	assert.Equal(t, []problem{{"actions.id", unk}}, problems(err))
}

// DecodePolicyDraft returns the policy as far as it decodes beside the structural
// problems, so that a caller can compile what is sound; DecodePolicy returns nil.
func TestDecodePolicyDraft(t *testing.T) {
	t.Parallel()
	body := []byte(`{"name": "p", "policyKey": "p", "type": "subscription", "bogus": 1,
		"actions": {"type": "entitlements", "advanced": "@isInGroups('a')"},
		"circumstances": [{"type": "columnRegex", "regex": "(", "tag": "x"}]}`)
	p, errs := model.DecodePolicyDraft(body, model.Limits{})
	assert.ElementsMatch(t, []problem{{"bogus", unk}, {"circumstances[0].tag", unk}}, problems(errs))
	require.NotNil(t, p)
	require.Len(t, p.Circumstances, 1)
	assert.Equal(t, "(", p.Circumstances[0].Regex)
	assert.Equal(t, "@isInGroups('a')", p.Action.Advanced)
	assert.Equal(t, model.DialectV2, p.Dialect)

	got, err := model.DecodePolicy(body, model.Limits{})
	assert.Nil(t, got)
	assert.Equal(t, errs, model.Errors(err))

	p, errs = model.DecodePolicyDraft([]byte(`[1, 2]`), model.Limits{})
	assert.Nil(t, p, "not an object: nothing to compile")
	assert.NotEmpty(t, errs)
}
