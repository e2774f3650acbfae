package rule_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/rule"
	"github.com/tollgate-dev/tollgate/model"
)

func TestEvaluateActionTypes(t *testing.T) {
	t.Parallel()
	approvals := []model.Approval{{RequiredPermission: model.Owner}, {RequiredPermission: model.Governance, SpecificApproverRequired: true}}
	cases := []struct {
		name   string
		policy *model.Policy
		want   rule.Outcome
		reason string
	}{
		{"anyone", policy(1, model.Action{Type: model.ActionAnyone}), rule.Satisfied, "anyone"},
		{"approval", policy(1, model.Action{Type: model.ActionApproval, Approvals: approvals}), rule.NeedsApproval, "needs approval"},
		{"manual", policy(1, model.Action{Type: model.ActionManual}), rule.NeedsManual, "needs a manual grant"},
		{"entitlements met", entitled(model.All, []string{"finance"}, nil, ""), rule.Satisfied, `group "finance"`},
		{"entitlements not met", entitled(model.All, []string{"hr"}, nil, ""), rule.Unsatisfied, "entitlements not met"},
		{"entitlements and advanced true", entitled(model.All, []string{"finance"}, nil, "@hasAttribute('dept', 'finance')"),
			rule.Satisfied, `group "finance"; advanced expression true`},
		{"entitlements and advanced false", entitled(model.All, []string{"finance"}, nil, "@hasAttribute('dept', 'hr')"),
			rule.Unsatisfied, "advanced expression false"},
		{"entitlements false skips advanced", entitled(model.All, []string{"hr"}, nil, "@hasAttribute('dept', 'finance')"),
			rule.Unsatisfied, "entitlements not met"},
		{"advanced only true", advancedPolicy("@isInGroups('finance')"), rule.Satisfied, "advanced expression true"},
		{"advanced only false", advancedPolicy("@isInGroups('hr')"), rule.Unsatisfied, "advanced expression false"},
		{"entitlements without conditions denies", entitled(model.All, nil, nil, ""), rule.Unsatisfied, "entitlements not met"},
		{"data policy denies", &model.Policy{ID: 1, Type: model.PolicyData, Action: model.Action{Type: model.ActionAnyone}},
			rule.Unsatisfied, "data policy: no subscription rule"},
		{"unknown policy type denies", &model.Policy{ID: 1, Type: "weird", Action: model.Action{Type: model.ActionAnyone}},
			rule.Unsatisfied, `unknown policy type "weird"`},
		{"unknown action type denies", policy(1, model.Action{Type: "everyone"}), rule.Unsatisfied, `unknown action type "everyone"`},
	}
	s := subject([]string{"finance"})
	res := rule.NewResource(&model.DataSource{ID: 1})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := rule.Compile(tc.policy)
			require.NoError(t, err)
			v := r.Evaluate(s, res)
			assert.Equal(t, tc.want, v.Outcome)
			assert.Equal(t, tc.reason, v.Reason)
			assert.NoError(t, v.Err)
		})
	}
}

func TestEntitlementsAllAny(t *testing.T) {
	t.Parallel()
	groups := []string{"finance", "eng"}
	pairs := attrs("dept", "finance", "level", "3")
	cases := []struct {
		name   string
		op     model.Operator
		groups []string
		attrs  []model.Attribute
		user   *rule.Subject
		want   rule.Outcome
		reason string
	}{
		{"all: every group and attribute", model.All, groups, pairs,
			subject([]string{"finance", "eng"}, "level", "3"), rule.Satisfied,
			`group "finance" and group "eng" and attribute dept=finance and attribute level=3`},
		{"all: a group missing", model.All, groups, pairs,
			subject([]string{"finance"}, "level", "3"), rule.Unsatisfied, "entitlements not met"},
		{"all: an attribute missing", model.All, groups, pairs,
			subject([]string{"finance", "eng"}), rule.Unsatisfied, "entitlements not met"},
		{"all: attribute value differs", model.All, nil, attrs("level", "3"),
			subject(nil, "level", "4"), rule.Unsatisfied, "entitlements not met"},
		{"any: only an attribute", model.Any, groups, pairs,
			subject(nil, "level", "3"), rule.Satisfied, "attribute level=3"},
		{"any: only a group", model.Any, groups, pairs,
			subject([]string{"eng"}), rule.Satisfied, `group "eng"`},
		{"any: first satisfied condition is the reason", model.Any, groups, pairs,
			subject([]string{"eng"}, "level", "3"), rule.Satisfied, `group "eng"`},
		{"any: nothing", model.Any, groups, pairs,
			subject([]string{"analysts"}, "level", "2"), rule.Unsatisfied, "entitlements not met"},
		{"all: attribute inherited from a group", model.All, nil, attrs("dept", "finance", "clearance", "secret"),
			subject([]string{"finance"}), rule.Satisfied, "attribute dept=finance and attribute clearance=secret"},
		{"any: inherited attribute", model.Any, []string{"hr"}, attrs("region", "emea"),
			subject([]string{"analysts"}), rule.Satisfied, "attribute region=emea"},
		{"empty operator means all", "", []string{"finance", "eng"}, nil,
			subject([]string{"finance"}), rule.Unsatisfied, "entitlements not met"},
		{"all: many conditions are summarised", model.All, []string{"a", "b", "c"}, attrs("x", "1", "y", "2"),
			subject([]string{"a", "b", "c"}, "x", "1", "y", "2"), rule.Satisfied, "all 5 entitlements"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := rule.Compile(entitled(tc.op, tc.groups, tc.attrs, ""))
			require.NoError(t, err)
			v := r.Evaluate(tc.user, nil)
			assert.Equal(t, tc.want, v.Outcome)
			assert.Equal(t, tc.reason, v.Reason)
		})
	}
}

func TestEvaluateNilSubject(t *testing.T) {
	t.Parallel()
	r, err := rule.Compile(entitled(model.Any, []string{"finance"}, attrs("dept", "finance"), "@isInGroups('finance')"))
	require.NoError(t, err)
	v := r.Evaluate(nil, nil)
	assert.Equal(t, rule.Unsatisfied, v.Outcome)
	assert.NoError(t, v.Err)
}

func TestCompileRuleAccessors(t *testing.T) {
	t.Parallel()
	approvals := []model.Approval{{RequiredPermission: model.Owner}}
	p := &model.Policy{ID: 42, Key: "k", Type: model.PolicySubscription, Action: model.Action{
		Type: model.ActionApproval, AccessGrant: model.Write, AutomaticSubscription: true,
		AllowDiscovery: true, ShareResponsibility: true, Approvals: approvals,
	}}
	r, err := rule.Compile(p)
	require.NoError(t, err)
	assert.Equal(t, int64(42), r.PolicyID())
	assert.Equal(t, "k", r.PolicyKey())
	assert.True(t, r.Subscription())
	assert.Equal(t, model.Write, r.AccessGrant())
	assert.True(t, r.Automatic())
	assert.True(t, r.ShareResponsibility())
	assert.True(t, r.AllowDiscovery())
	assert.Equal(t, approvals, r.Approvals())

	d, err := rule.Compile(&model.Policy{ID: 1, Type: model.PolicyData})
	require.NoError(t, err)
	assert.False(t, d.Subscription())
	assert.Equal(t, model.Read, d.AccessGrant(), "READ is the default level")
	assert.Nil(t, d.Approvals())
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	_, err := rule.Compile(nil)
	require.ErrorIs(t, err, model.ErrInvalid)

	_, err = rule.Compile(entitled("both", []string{"g"}, nil, ""))
	require.ErrorIs(t, err, model.ErrInvalid)
	list := model.Errors(err)
	require.Len(t, list, 1)
	assert.Equal(t, model.Path("actions.entitlements.operator"), list[0].Path)
	assert.Equal(t, model.CodeNotSupported, list[0].Code)
}

// TestEvaluateZeroAllocs proves that judging a groups/attributes rule does not allocate.
func TestEvaluateZeroAllocs(t *testing.T) {
	// Not parallel: AllocsPerRun measures the whole process.
	s := subject([]string{"eng", "analysts"}, "level", "3")
	res := rule.NewResource(&model.DataSource{ID: 1, Tags: []string{"PII"}})
	for _, op := range []model.Operator{model.All, model.Any} {
		r, err := rule.Compile(entitled(op, []string{"finance", "eng"}, attrs("region", "emea", "level", "3"), ""))
		require.NoError(t, err)
		var v rule.Verdict
		allocs := testing.AllocsPerRun(1000, func() { v = r.Evaluate(s, res) })
		assert.Zero(t, allocs, "operator %s", op)
		_ = v
	}
	for _, a := range []model.ActionType{model.ActionAnyone, model.ActionApproval, model.ActionManual} {
		r, err := rule.Compile(policy(1, model.Action{Type: a}))
		require.NoError(t, err)
		allocs := testing.AllocsPerRun(1000, func() { _ = r.Evaluate(s, res) })
		assert.Zero(t, allocs, "action %s", a)
	}
}
