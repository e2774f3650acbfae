package model_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/model"
)

func TestDecodeBundleSeed(t *testing.T) {
	t.Parallel()
	b, err := model.DecodeBundle(readSeed(t, "bundle-write-policies.yaml"), model.Limits{})
	require.NoError(t, err)
	now := time.Date(2023, 10, 11, 14, 43, 0, 0, time.UTC)
	assert.Equal(t, "write policies seed", b.Name)
	assert.Equal(t, now, b.Now)
	require.Len(t, b.Groups, 1)
	assert.Equal(t, model.Group{ID: 1, Name: "writers", Attributes: map[string][]string{"has": {"write"}}}, b.Groups[0])
	require.Len(t, b.Users, 2)
	assert.Equal(t, model.User{ID: 2, Name: "Taylor", Permissions: []model.Permission{model.Governance}}, b.Users[0],
		"a user without apiKey has no key (no key-<id> default outside the scenario runner)")
	// sha256("casey-key"), computed independently with sha256sum.
	assert.Equal(t, "85cef948599effe1766bb45d71970b3cb8c80924820dbbb2072a5df4b50ac83a", b.Users[1].APIKeyHash)
	require.Len(t, b.DataSources, 2)
	ds := b.DataSources[0]
	assert.Equal(t, []model.Domain{{ID: "12", Name: "Healthcare"}}, ds.Domains, "numeric ids are kept as strings")
	assert.Equal(t, time.Date(2023, 10, 1, 0, 0, 0, 0, time.UTC), ds.CreatedAt)
	assert.Equal(t, []model.Column{{Name: "npi", Tags: []string{"Discovered.Healthcare NPI"}}, {Name: "provider_name"}}, ds.Columns)
	assert.Equal(t, now, b.DataSources[1].CreatedAt, "createdAt defaults to the bundle's now")
	assert.Equal(t, []model.DisabledPolicy{{PolicyKey: "Allow users with specific entitlements to have write access",
		Reason: "sales data is read-only"}}, b.DataSources[1].DisabledPolicies)
	require.Len(t, b.Policies, 3)
	var second map[string]any
	require.NoError(t, json.Unmarshal(b.Policies[1], &second))
	v, present := second["circumstances"]
	assert.True(t, present, "an explicit circumstances: null stays")
	assert.Nil(t, v)
	for i, raw := range b.Policies {
		_, err := model.DecodePolicy(raw, model.Limits{})
		require.NoError(t, err, "policies[%d]", i)
	}
	assert.Equal(t, []model.Grant{
		{DataSourceID: 6, ProfileID: 3, State: model.RecordSubscribed, AccessGrant: model.Write},
		{DataSourceID: 7, GroupID: 1, State: model.RecordExpert, AccessGrant: model.Read,
			Expiration: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
	}, b.Grants)
	assert.Nil(t, b.State)
}

func TestBundleRoundTrip(t *testing.T) {
	t.Parallel()
	b, err := model.DecodeBundle(readSeed(t, "bundle-write-policies.yaml"), model.Limits{})
	require.NoError(t, err)
	b.State = json.RawMessage(`{"version":1,"records":[]}`)
	out, err := model.EncodeBundle(b)
	require.NoError(t, err)
	again, err := model.EncodeBundle(b)
	require.NoError(t, err)
	assert.Equal(t, string(out), string(again), "deterministic")
	keys := []string{`"name"`, `"description"`, `"now"`, `"groups"`, `"users"`, `"dataSources"`, `"policies"`, `"grants"`, `"state"`}
	last := -1
	for _, k := range keys {
		i := strings.Index(string(out), "\n  "+k+":")
		require.Greater(t, i, last, "key %s in order", k)
		last = i
	}
	back, err := model.DecodeBundle(out, model.Limits{})
	require.NoError(t, err)
	assert.Equal(t, b, back)
}

func TestBundleMinimal(t *testing.T) {
	t.Parallel()
	b, err := model.DecodeBundle([]byte("name: x\n"), model.Limits{})
	require.NoError(t, err)
	assert.Equal(t, &model.Bundle{Name: "x", Now: model.DefaultBundleNow()}, b)
	out, err := model.EncodeBundle(b)
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"x","now":"2026-01-01T00:00:00Z"}`, string(out))
}

func TestDecodeBundleInvalid(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   string
		want []problem
	}{
		{"no name", `{}`, []problem{{"name", model.CodeRequired}}},
		{"unknown keys", "name: x\nsteps: []\nexpect: {}\n", []problem{
			{"expect", model.CodeUnknownField}, {"steps", model.CodeUnknownField}}},
		{"bad now", "name: x\nnow: yesterday\n", []problem{{"now", model.CodeInvalid}}},
		{"groups", "name: x\ngroups: [{id: 0, name: a}, {id: 2, name: a}, {id: 2, name: b, attributes: {k: v}}, 5]\n", []problem{
			{"groups[0].id", model.CodeRequired}, {"groups[1].name", model.CodeDuplicate},
			{"groups[2].attributes[\"k\"]", model.CodeType}, {"groups[2].id", model.CodeDuplicate},
			{"groups[3]", model.CodeType}}},
		{"users", `{"name": "x", "users": [{"id": 1, "name": "a", "apiKey": "k", "permissions": ["OWNER"], "groups": [""]},
			{"id": 1, "apiKey": "k", "nick": "b"}, {"id": 2.5, "name": "c"}, {"id": -3, "name": "d"}]}`, []problem{
			{"users[0].permissions[0]", model.CodeNotSupported}, {"users[0].groups[0]", model.CodeRequired},
			{"users[1].nick", model.CodeUnknownField}, {"users[1].name", model.CodeRequired},
			{"users[1].id", model.CodeDuplicate}, {"users[1].apiKey", model.CodeInvalid},
			{"users[2].id", model.CodeInvalid}, {"users[3].id", model.CodeInvalid}}},
		{"credentials", `{"name": "x", "users": [{"id": 1, "name": "a", "apiKey": ""},
			{"id": 2, "name": "b", "apiKey": "k", "apiKeyHash": "` + strings.Repeat("a", 64) + `"},
			{"id": 3, "name": "c", "apiKeyHash": "` + strings.Repeat("A", 64) + `"},
			{"id": 4, "name": "d", "apiKeyHash": "abc"}, {"id": 5, "name": "e", "apiKey": 7}]}`, []problem{
			{"users[0].apiKey", model.CodeRequired}, {"users[1].apiKeyHash", model.CodeForbidden},
			{"users[2].apiKeyHash", model.CodeInvalid}, {"users[3].apiKeyHash", model.CodeInvalid},
			{"users[4].apiKey", model.CodeType}}},
		{"data sources", `{"name": "x", "dataSources": [
			{"id": 1, "name": "a", "owners": [0, "x"], "tags": [""], "columns": [{"tags": ["t"]}], "domains": [{}, {"id": true}],
			 "createdAt": "soon", "selectedPolicies": [""], "disabledPolicies": [{"reason": "r"}], "region": "eu"},
			{"id": 1}]}`, []problem{
			{"dataSources[0].owners[1]", model.CodeType}, {"dataSources[0].domains[1].id", model.CodeType},
			{"dataSources[0].createdAt", model.CodeInvalid}, {"dataSources[0].region", model.CodeUnknownField},
			{"dataSources[0].owners[0]", model.CodeInvalid}, {"dataSources[0].tags[0]", model.CodeRequired},
			{"dataSources[0].columns[0].name", model.CodeRequired}, {"dataSources[0].domains[0]", model.CodeRequired},
			{"dataSources[0].selectedPolicies[0]", model.CodeRequired},
			{"dataSources[0].disabledPolicies[0].policyKey", model.CodeRequired},
			{"dataSources[1].name", model.CodeRequired}, {"dataSources[1].id", model.CodeDuplicate}}},
		{"grants", `{"name": "x", "grants": [{"dataSourceId": 1, "profileId": 2, "groupId": 3, "state": "subscribed"},
			{"profileId": 2, "state": "pending", "accessGrant": "ALL"}, {"dataSourceId": 1, "state": "owner", "expiration": "never"}]}`, []problem{
			{"grants[0].groupId", model.CodeForbidden},
			{"grants[1].dataSourceId", model.CodeRequired}, {"grants[1].state", model.CodeNotSupported},
			{"grants[1].accessGrant", model.CodeNotSupported},
			{"grants[2].expiration", model.CodeInvalid}, {"grants[2].profileId", model.CodeRequired}}},
		{"not an object", `[1]`, []problem{{"", model.CodeType}}},
		{"lists", "name: x\npolicies: 3\nusers: {}\n", []problem{{"policies", model.CodeType}, {"users", model.CodeType}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := model.DecodeBundle([]byte(tc.in), model.Limits{})
			require.Nil(t, b)
			require.ErrorIs(t, err, model.ErrInvalid)
			assert.ElementsMatch(t, tc.want, problems(err), "%v", err)
		})
	}
}

func TestValidateGoBuilt(t *testing.T) {
	t.Parallel()
	assert.Nil(t, model.ValidateUser(&model.User{ID: 1, Name: "a", APIKeyHash: model.HashAPIKey("k"), Permissions: []model.Permission{model.CreateDataSource}}, "u"))
	assert.Equal(t, []problem{{"u.id", model.CodeRequired}, {"u.name", model.CodeRequired},
		{`u.attributes[""]`, model.CodeRequired}, {`u.attributes[""][0]`, model.CodeRequired}},
		problems(model.ValidateUser(&model.User{Attributes: map[string][]string{"": {""}}}, "u")))
	assert.Nil(t, model.ValidateGroup(&model.Group{ID: 3, Name: "g"}, ""))
	assert.Equal(t, []problem{{"id", model.CodeInvalid}, {"name", model.CodeRequired}},
		problems(model.ValidateGroup(&model.Group{ID: -1}, "")))
	assert.Nil(t, model.ValidateDataSource(&model.DataSource{ID: 1, Name: "d", Domains: []model.Domain{{Name: "x"}}}, "ds"))
	assert.Equal(t, []problem{{"ds.id", model.CodeRequired}, {"ds.domains[0]", model.CodeRequired}},
		problems(model.ValidateDataSource(&model.DataSource{Name: "d", Domains: []model.Domain{{}}}, "ds")))
	assert.Len(t, model.ValidateDataSource(nil, "ds"), 1)
}

// TestEncodeBundleElementsMatchesEncodeBundle: each element is the compacted bytes
// EncodeBundle writes for it.
func TestEncodeBundleElementsMatchesEncodeBundle(t *testing.T) {
	t.Parallel()
	b := &model.Bundle{
		Name:   "b",
		Groups: []model.Group{{ID: 1, Name: "g<&>", Attributes: map[string][]string{"b": {"2"}, "a": {"1", "é"}}}},
		Users: []model.User{{ID: 2, Name: "u", Permissions: []model.Permission{model.Governance}, Groups: []string{"g<&>"},
			Attributes: map[string][]string{"k": {"v"}}}, {ID: 3, Name: "v"}},
		DataSources: []model.DataSource{{ID: 4, Name: "ds \"q\"", Owners: []int64{2}, Tags: []string{"A.B"},
			Columns: []model.Column{{Name: "c", Tags: []string{"T"}}, {Name: "d"}},
			Domains: []model.Domain{{ID: "d1", Name: "Sales"}}, Server: "s", Database: "db", Schema: "sc", Table: "t",
			CreatedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), SelectedPolicies: []string{"p"},
			DisabledPolicies: []model.DisabledPolicy{{PolicyKey: "q", Reason: "r"}}}},
	}
	raw, err := model.EncodeBundle(b)
	require.NoError(t, err)
	var parts struct{ Groups, Users, DataSources []json.RawMessage }
	require.NoError(t, json.Unmarshal(raw, &parts))
	groups, users, dss, err := model.EncodeBundleElements(b)
	require.NoError(t, err)
	for _, c := range []struct{ want, got []json.RawMessage }{{parts.Groups, groups}, {parts.Users, users}, {parts.DataSources, dss}} {
		require.Len(t, c.got, len(c.want))
		for i := range c.want {
			var buf bytes.Buffer
			require.NoError(t, json.Compact(&buf, c.want[i]))
			assert.Equal(t, buf.String(), string(c.got[i]))
		}
	}
}
