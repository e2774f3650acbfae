package entitlement_test

import (
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
	"github.com/stretchr/testify/assert"

	"github.com/tollgate-dev/tollgate/entitlement"
)

func TestOutcomeString(t *testing.T) {
	t.Parallel()
	cases := map[entitlement.Outcome]string{
		entitlement.Unsatisfied:   "unsatisfied",
		entitlement.NeedsManual:   "needs manual grant",
		entitlement.NeedsApproval: "needs approval",
		entitlement.Satisfied:     "satisfied",
		entitlement.Outcome(200):  "unsatisfied",
	}
	for o, want := range cases {
		assert.Equal(t, want, o.String())
	}
}

func TestAndOr(t *testing.T) {
	t.Parallel()
	u, m, a, s := entitlement.Unsatisfied, entitlement.NeedsManual, entitlement.NeedsApproval, entitlement.Satisfied
	assert.True(t, u < m && m < a && a < s, "outcomes are ordered")
	cases := []struct{ x, y, and, or entitlement.Outcome }{
		{s, a, a, s}, {a, m, m, a}, {m, u, u, m}, {s, u, u, s}, {a, a, a, a},
		// An out-of-range outcome counts as unsatisfied (deny by default).
		{entitlement.Outcome(9), s, u, s},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.and, entitlement.And(tc.x, tc.y), "And(%v, %v)", tc.x, tc.y)
		assert.Equal(t, tc.or, entitlement.Or(tc.x, tc.y), "Or(%v, %v)", tc.x, tc.y)
	}
}

// genOutcome generates the four outcomes.
func genOutcome() gopter.Gen {
	return gen.UInt8Range(0, 3).Map(func(v uint8) entitlement.Outcome { return entitlement.Outcome(v) })
}

func TestOutcomeLaws(t *testing.T) {
	t.Parallel()
	params := gopter.DefaultTestParameters()
	params.MinSuccessfulTests = 500
	props := gopter.NewProperties(params)
	o := genOutcome()
	props.Property("And and Or are commutative", prop.ForAll(func(x, y entitlement.Outcome) bool {
		return entitlement.And(x, y) == entitlement.And(y, x) && entitlement.Or(x, y) == entitlement.Or(y, x)
	}, o, o))
	props.Property("And and Or are associative", prop.ForAll(func(x, y, z entitlement.Outcome) bool {
		return entitlement.And(x, entitlement.And(y, z)) == entitlement.And(entitlement.And(x, y), z) &&
			entitlement.Or(x, entitlement.Or(y, z)) == entitlement.Or(entitlement.Or(x, y), z)
	}, o, o, o))
	props.Property("And is never higher, Or never lower, than either operand", prop.ForAll(func(x, y entitlement.Outcome) bool {
		and, or := entitlement.And(x, y), entitlement.Or(x, y)
		return and <= x && and <= y && or >= x && or >= y && (and == x || and == y) && (or == x || or == y)
	}, o, o))
	props.Property("Satisfied is the identity of And, Unsatisfied of Or", prop.ForAll(func(x entitlement.Outcome) bool {
		return entitlement.And(x, entitlement.Satisfied) == x && entitlement.Or(x, entitlement.Unsatisfied) == x
	}, o))
	props.TestingRun(t)
}
