package rule_test

import (
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/rule"
	"github.com/tollgate-dev/tollgate/model"
)

// internerCase is a rule's conditions and a user, over a small alphabet so that
// they often meet.
type internerCase struct {
	any        bool
	ruleGroups []string
	ruleAttrs  []string // values of attribute "a"
	userGroups []string
	userAttrs  []string
}

func genNames() gopter.Gen { return gen.SliceOfN(3, gen.OneConstOf("x", "y", "z", "w")) }

// TestInternersNeverChangeVerdicts: a rule's verdict for a user is the same whether
// the rule and the subject use one Interner, two different ones, or none (issue 12
// item 14: interners are per engine, so symbols of different interners must never
// be compared).
func TestInternersNeverChangeVerdicts(t *testing.T) {
	t.Parallel()
	params := gopter.DefaultTestParameters()
	params.MinSuccessfulTests = 300
	props := gopter.NewProperties(params)
	gc := gopter.CombineGens(gen.Bool(), genNames(), genNames(), genNames(), genNames()).Map(func(v []any) internerCase {
		return internerCase{v[0].(bool), v[1].([]string), v[2].([]string), v[3].([]string), v[4].([]string)}
	})
	props.Property("verdicts do not depend on interners", prop.ForAll(func(c internerCase) bool {
		ent := &model.Entitlements{Operator: model.All, Groups: c.ruleGroups}
		if c.any {
			ent.Operator = model.Any
		}
		for _, v := range c.ruleAttrs {
			ent.Attributes = append(ent.Attributes, model.Attribute{Name: "a", Value: v})
		}
		if len(ent.Groups) == 0 && len(ent.Attributes) == 0 {
			ent.Groups = []string{"x"}
		}
		p := &model.Policy{ID: 1, Key: "k", Name: "n", Type: model.PolicySubscription,
			Action: model.Action{Type: model.ActionEntitlements, Entitlements: ent}}
		u := &model.User{ID: 1, Groups: c.userGroups, Attributes: map[string][]string{"a": c.userAttrs}}
		res := rule.NewResource(&model.DataSource{ID: 1})
		a, b := rule.NewInterner(), rule.NewInterner()
		b.Subject(&model.User{ID: 2, Groups: []string{"w", "z", "y"}}, nil) // b numbers names differently
		plain, err := rule.Compile(p)
		require.NoError(t, err)
		inA, err := rule.Compile(p, rule.WithInterner(a))
		require.NoError(t, err)
		want := plain.Evaluate(rule.NewSubject(u, nil), res)
		for _, got := range []rule.Verdict{
			inA.Evaluate(a.Subject(u, nil), res),
			inA.Evaluate(b.Subject(u, nil), res),
			inA.Evaluate(rule.NewSubject(u, nil), res),
			plain.Evaluate(a.Subject(u, nil), res),
		} {
			if got.Outcome != want.Outcome || got.Reason != want.Reason {
				return false
			}
		}
		return true
	}, gc))
	props.TestingRun(t)
}

// TestInternerBelongsToItsOwner: an Interner grows only with what it is given; a
// new one is empty whatever others hold (there is no process-wide table).
func TestInternerBelongsToItsOwner(t *testing.T) {
	t.Parallel()
	a := rule.NewInterner()
	for i := 0; i < 100; i++ {
		a.Subject(&model.User{ID: 1, Attributes: map[string][]string{"v": {string(rune('A' + i))}}}, nil)
	}
	assert.Equal(t, 100, a.Len())
	assert.Equal(t, 0, rule.NewInterner().Len())
}
