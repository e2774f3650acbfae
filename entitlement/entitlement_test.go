package entitlement_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/entitlement"
	"github.com/tollgate-dev/tollgate/model"
)

func TestEvaluateActionTypes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		action model.Action
		typ    model.PolicyType
		want   entitlement.Outcome
	}{
		{model.Action{Type: model.ActionAnyone}, model.PolicySubscription, entitlement.Satisfied},
		{model.Action{Type: model.ActionApproval, Approvals: []model.Approval{{RequiredPermission: model.Governance}}}, model.PolicySubscription, entitlement.NeedsApproval},
		{model.Action{Type: model.ActionManual}, model.PolicySubscription, entitlement.NeedsManual},
		{model.Action{Type: model.ActionEntitlements, Entitlements: &model.Entitlements{Groups: []string{"g"}}}, model.PolicySubscription, entitlement.Unsatisfied},
		{model.Action{Type: model.ActionAnyone}, model.PolicyData, entitlement.Unsatisfied},
	}
	for _, c := range cases {
		r, err := entitlement.Compile(&model.Policy{Type: c.typ, Action: c.action})
		require.NoError(t, err)
		v := r.Evaluate(&model.User{ID: 1}, nil, &model.DataSource{ID: 1})
		assert.Equal(t, c.want, v.Outcome, "%s %s", c.typ, c.action.Type)
		assert.NotEmpty(t, v.Reason)
		assert.Empty(t, r.CEL(), "no advanced expression")
	}
	assert.Equal(t, "needs manual grant", entitlement.NeedsManual.String())
	assert.Equal(t, "unsatisfied", entitlement.Outcome(9).String(), "out of range denies")
}

// WithCostLimit bounds an advanced expression's evaluation: over the limit it is
// Unsatisfied with an error wrapping ErrCostLimitExceeded.
func TestWithCostLimit(t *testing.T) {
	t.Parallel()
	p := &model.Policy{Type: model.PolicySubscription, Action: model.Action{Type: model.ActionEntitlements,
		Advanced: "@hasTagAsAttribute('team', 'column')"}}
	ds := &model.DataSource{ID: 1}
	for i := range 200 {
		ds.Columns = append(ds.Columns, model.Column{Name: "c", Tags: []string{"T" + strings.Repeat("x", i%7)}})
	}
	u := &model.User{ID: 1, Attributes: map[string][]string{"team": {"nope"}}}

	r, err := entitlement.Compile(p, entitlement.WithCostLimit(1))
	require.NoError(t, err)
	assert.NotEmpty(t, r.CEL())
	v := r.Evaluate(u, nil, ds)
	assert.Equal(t, entitlement.Unsatisfied, v.Outcome)
	assert.True(t, errors.Is(v.Err, entitlement.ErrCostLimitExceeded), "%v", v.Err)

	r, err = entitlement.Compile(p)
	require.NoError(t, err)
	v = r.Evaluate(u, nil, ds)
	assert.NoError(t, v.Err, "the default limit is ample")
	assert.Equal(t, entitlement.Unsatisfied, v.Outcome, "no tag is a value of team")
}
