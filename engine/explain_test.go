package engine_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"

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

// Law: Explain decides exactly as Decide does, and Decide's reasons are the first
// MaxReasons of Explain's.
func TestPropertyExplainAgreesWithDecide(t *testing.T) {
	t.Parallel()
	params := gopter.DefaultTestParametersWithSeed(20260101)
	params.MinSuccessfulTests = 30
	props := gopter.NewProperties(params)
	props.Property("Explain = Decide with every reason", prop.ForAll(func(seed int64) string {
		s := newRandomEngine(t, seed, 30).Snapshot()
		for u := int64(0); u <= 7; u++ {
			for ds := int64(0); ds <= 9; ds++ {
				d := s.Decide(u, ds)
				x, all := s.Explain(u, ds)
				if d.Grant != x.Grant || d.Read != x.Read || d.Write != x.Write || d.Discoverable != x.Discoverable {
					return fmt.Sprintf("user %d ds %d: Decide %+v, Explain %+v", u, ds, d, x)
				}
				n := min(len(all), engine.MaxReasons)
				if !reflect.DeepEqual(d.Reasons(), append([]engine.Reason(nil), all[:n]...)) && !(n == 0 && d.Reasons() == nil) {
					return fmt.Sprintf("user %d ds %d: Decide's reasons %v are not the first of %v", u, ds, d.Reasons(), all)
				}
				if len(all) == 0 {
					return fmt.Sprintf("user %d ds %d: no reason at all", u, ds)
				}
			}
		}
		return ""
	}, gen.Int64()))
	props.TestingRun(t)
}
