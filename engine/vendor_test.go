package engine_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

// noTags and anyTag select data sources by whether they carry any tag (on the
// data source or a column); a v1 group given by id alone is the directory group of
// that id when the policy is written.
func TestNoTagsAnyTagAndGroupIDs(t *testing.T) {
	t.Parallel()
	b, err := model.DecodeBundle([]byte(`
name: vendor
groups: [{id: 7, name: analysts}]
users:
  - {id: 1, name: Gov, permissions: [GOVERNANCE]}
  - {id: 2, name: Ana, groups: [analysts]}
  - {id: 3, name: Bo}
dataSources:
  - {id: 10, name: bare}
  - {id: 11, name: tagged, tags: [PII]}
  - {id: 12, name: column tagged, columns: [{name: c, tags: [Discovered]}]}
`), model.DefaultLimits())
	require.NoError(t, err)
	e := engine.New()
	require.NoError(t, e.ApplyBundle(b))
	create := func(body string) (*model.Policy, error) {
		p, err := model.DecodePolicy([]byte(body), model.DefaultLimits())
		require.NoError(t, err)
		out, _, err := e.CreatePolicy(engine.As(1), p, engine.WriteOptions{})
		return out, err
	}
	_, err = create(`{"name": "untagged", "policyKey": "untagged", "type": "subscription",
		"actions": {"type": "anyone", "automaticSubscription": true}, "circumstances": [{"type": "noTags"}]}`)
	require.NoError(t, err)
	out, err := create(`{"name": "tagged by group id", "type": "subscription",
		"actions": [{"type": "subscription", "subscriptionType": "policy", "automaticSubscription": true, "accessGrant": "WRITE",
			"exceptions": {"operator": "or", "conditions": [{"type": "groups", "group": {"id": 7, "iam": "okta"}}]}}],
		"circumstances": [{"type": "anyTag", "operator": "or"}]}`)
	require.NoError(t, err)
	assert.Equal(t, []string{"analysts"}, out.Action.Entitlements.Groups, "the id names the directory group")

	for _, c := range []struct {
		user, ds int64
		want     engine.Level
	}{
		{3, 10, engine.LevelRead}, {3, 11, engine.LevelNone}, {3, 12, engine.LevelNone},
		{2, 10, engine.LevelRead}, {2, 11, engine.LevelWrite}, {2, 12, engine.LevelWrite},
	} {
		assert.Equal(t, c.want, e.Decide(c.user, c.ds).Grant, "user %d on %d", c.user, c.ds)
	}
	// Tagging the bare data source moves it from noTags to anyTag.
	require.NoError(t, e.PutDataSource(engine.As(1), &model.DataSource{ID: 10, Name: "bare", Tags: []string{"New"}}))
	assert.Equal(t, engine.LevelNone, e.Decide(3, 10).Grant)
	assert.Equal(t, engine.LevelWrite, e.Decide(2, 10).Grant)

	_, err = create(`{"name": "unknown group id", "type": "subscription",
		"actions": [{"type": "subscription", "subscriptionType": "policy",
			"exceptions": {"operator": "or", "conditions": [{"type": "groups", "group": {"id": 99}}]}}]}`)
	require.ErrorIs(t, err, model.ErrInvalid)
	assert.Contains(t, err.Error(), "group id 99")
}
