package engine_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

// With 13 applicable policies Explain lists every verdict, the granting one
// included, and the no-policy reason of the level nothing applies at; Decide keeps
// its first MaxReasons.
func TestExplainListsEveryReason(t *testing.T) {
	t.Parallel()
	b, err := model.DecodeBundle([]byte(`
name: explain
users: [{id: 1, name: Gov, permissions: [GOVERNANCE]}, {id: 2, name: Ana}]
dataSources: [{id: 10, name: ten, tags: [T]}]
`), model.DefaultLimits())
	require.NoError(t, err)
	e := engine.New()
	require.NoError(t, e.ApplyBundle(b))
	for i := 1; i <= 13; i++ {
		action := `{"type": "entitlements", "shareResponsibility": true, "automaticSubscription": true, "entitlements": {"operator": "all", "groups": ["nobody"]}}`
		if i == 13 {
			action = `{"type": "anyone", "shareResponsibility": true, "automaticSubscription": true}`
		}
		p, err := model.DecodePolicy([]byte(fmt.Sprintf(`{"name": "p%d", "policyKey": "p%d", "type": "subscription",
			"actions": %s, "circumstances": [{"type": "tags", "tag": "T"}]}`, i, i, action)), model.DefaultLimits())
		require.NoError(t, err)
		_, _, err = e.CreatePolicy(engine.As(1), p, engine.WriteOptions{})
		require.NoError(t, err)
	}
	d, all := e.Explain(2, 10)
	assert.Equal(t, engine.LevelRead, d.Grant)
	require.Len(t, all, 14, "13 verdicts at READ and no policy at WRITE")
	assert.Equal(t, engine.Reason{Kind: engine.ReasonNoPolicy, Level: model.Write, Detail: "no subscription policy applies at WRITE"}, all[0])
	var granting []engine.Reason
	for _, r := range all[1:] {
		assert.Equal(t, engine.ReasonPolicy, r.Kind)
		if r.Outcome == "satisfied" {
			granting = append(granting, r)
		}
	}
	require.Len(t, granting, 1)
	assert.Equal(t, "p13", granting[0].PolicyKey)
	assert.Equal(t, model.Read, granting[0].Level)

	dec := e.Decide(2, 10)
	assert.Equal(t, d.Grant, dec.Grant)
	assert.Equal(t, d.Read, dec.Read)
	assert.Len(t, dec.Reasons(), engine.MaxReasons, "Decide keeps the first MaxReasons")
	assert.Equal(t, all[:engine.MaxReasons], dec.Reasons())
	_, unknown := e.Explain(9, 10)
	assert.Equal(t, []engine.Reason{{Kind: engine.ReasonUnknown, Detail: "unknown user"}}, unknown)
}
