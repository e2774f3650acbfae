package rule_test

import (
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/rule"
	"github.com/tollgate-dev/tollgate/model"
)

// TestPropertyCompactJudgesAsEvaluate: a rule's compact form, judged on the
// subject's symbols and turned back into a verdict, gives Evaluate's verdict
// (outcome and reason) for every rule that has one; rules with an advanced
// expression or more conditions than the compact form holds have none.
func TestPropertyCompactJudgesAsEvaluate(t *testing.T) {
	t.Parallel()
	params := gopter.DefaultTestParameters()
	params.MinSuccessfulTests = 500
	props := gopter.NewProperties(params)
	kinds := []model.ActionType{model.ActionEntitlements, model.ActionEntitlements, model.ActionAnyone,
		model.ActionApproval, model.ActionManual, "nonsense"}
	gc := gopter.CombineGens(gen.IntRange(0, len(kinds)-1), gen.Bool(), genNames(), genNames(), genNames(), genNames(), gen.Bool()).
		Map(func(v []any) []any { return v })
	props.Property("compact = evaluate", prop.ForAll(func(v []any) bool {
		kind, anyOp := kinds[v[0].(int)], v[1].(bool)
		ruleGroups, ruleAttrs, userGroups, userAttrs := v[2].([]string), v[3].([]string), v[4].([]string), v[5].([]string)
		withAdv := v[6].(bool)
		a := model.Action{Type: kind}
		if kind == model.ActionEntitlements {
			ent := &model.Entitlements{Operator: model.All, Groups: ruleGroups[:len(ruleGroups)%3]}
			if anyOp {
				ent.Operator = model.Any
			}
			for _, x := range ruleAttrs[:1] {
				ent.Attributes = append(ent.Attributes, model.Attribute{Name: "a", Value: x})
			}
			a.Entitlements = ent
			if withAdv {
				a.Advanced = `@hasAttribute("a", "x")`
			}
		}
		p := &model.Policy{ID: 1, Key: "k", Name: "n", Type: model.PolicySubscription, Action: a}
		in := rule.NewInterner()
		r, err := rule.Compile(p, rule.WithInterner(in))
		require.NoError(t, err)
		u := &model.User{ID: 1, Groups: userGroups, Attributes: map[string][]string{"a": userAttrs}}
		s := in.Subject(u, nil)
		want := r.Evaluate(s, nil)
		c, ok := r.Compact()
		if kind == model.ActionEntitlements && (withAdv || len(a.Entitlements.Groups)+len(a.Entitlements.Attributes) > rule.CompactSyms) {
			return !ok
		}
		if !ok {
			return false
		}
		o, cond := c.Judge(s.Symbols())
		got := r.VerdictOf(o, cond)
		return o == want.Outcome && got == want
	}, gc))
	props.TestingRun(t)
}
