package rule_test

import (
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
	"github.com/stretchr/testify/assert"

	"github.com/tollgate-dev/tollgate/internal/rule"
)

func TestOutcomeString(t *testing.T) {
	t.Parallel()
	cases := map[rule.Outcome]string{
		rule.Unsatisfied:   "unsatisfied",
		rule.NeedsManual:   "needs manual grant",
		rule.NeedsApproval: "needs approval",
		rule.Satisfied:     "satisfied",
		rule.Outcome(200):  "unsatisfied",
	}
	for o, want := range cases {
		assert.Equal(t, want, o.String())
	}
}

func TestAndOr(t *testing.T) {
	t.Parallel()
	u, m, a, s := rule.Unsatisfied, rule.NeedsManual, rule.NeedsApproval, rule.Satisfied
	assert.True(t, u < m && m < a && a < s, "outcomes are ordered")
	cases := []struct{ x, y, and, or rule.Outcome }{
		{s, a, a, s}, {a, m, m, a}, {m, u, u, m}, {s, u, u, s}, {a, a, a, a},
		// An out-of-range outcome counts as unsatisfied (deny by default).
		{rule.Outcome(9), s, u, s},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.and, rule.And(tc.x, tc.y), "And(%v, %v)", tc.x, tc.y)
		assert.Equal(t, tc.or, rule.Or(tc.x, tc.y), "Or(%v, %v)", tc.x, tc.y)
	}
}

// genOutcome generates the four outcomes.
func genOutcome() gopter.Gen {
	return gen.UInt8Range(0, 3).Map(func(v uint8) rule.Outcome { return rule.Outcome(v) })
}

func TestOutcomeLaws(t *testing.T) {
	t.Parallel()
	params := gopter.DefaultTestParameters()
	params.MinSuccessfulTests = 500
	props := gopter.NewProperties(params)
	o := genOutcome()
	props.Property("And and Or are commutative", prop.ForAll(func(x, y rule.Outcome) bool {
		return rule.And(x, y) == rule.And(y, x) && rule.Or(x, y) == rule.Or(y, x)
	}, o, o))
	props.Property("And and Or are associative", prop.ForAll(func(x, y, z rule.Outcome) bool {
		return rule.And(x, rule.And(y, z)) == rule.And(rule.And(x, y), z) &&
			rule.Or(x, rule.Or(y, z)) == rule.Or(rule.Or(x, y), z)
	}, o, o, o))
	props.Property("And is never higher, Or never lower, than either operand", prop.ForAll(func(x, y rule.Outcome) bool {
		and, or := rule.And(x, y), rule.Or(x, y)
		return and <= x && and <= y && or >= x && or >= y && (and == x || and == y) && (or == x || or == y)
	}, o, o))
	props.Property("Satisfied is the identity of And, Unsatisfied of Or", prop.ForAll(func(x rule.Outcome) bool {
		return rule.And(x, rule.Satisfied) == x && rule.Or(x, rule.Unsatisfied) == x
	}, o))
	props.TestingRun(t)
}
