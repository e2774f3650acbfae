package rule

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/model"
)

// TestCompactSymbolWidth: a compact form holds two symbols of up to 24 bits or
// three of up to 16, judges with the widest ones, and a rule with a wider symbol
// has no compact form (it is then evaluated in full, never misjudged).
func TestCompactSymbolWidth(t *testing.T) {
	t.Parallel()
	p := &model.Policy{ID: 1, Key: "k", Name: "n", Type: model.PolicySubscription, Action: model.Action{
		Type: model.ActionEntitlements, Entitlements: &model.Entitlements{Operator: model.All, Groups: []string{"g", "h"}},
	}}
	r, err := Compile(p, WithInterner(NewInterner()))
	require.NoError(t, err)
	require.Len(t, r.conds, 2)

	r.conds[0].sym, r.conds[1].sym = maxCompactSym, 5
	c, ok := r.Compact()
	require.True(t, ok)
	require.Zero(t, uint64(c)>>CompactBits, "the high bits are the caller's")
	o, _ := c.Judge([]uint32{5, maxCompactSym})
	require.Equal(t, Satisfied, o)
	o, _ = c.Judge([]uint32{5, maxCompactSym - 1})
	require.Equal(t, Unsatisfied, o)

	r.conds[0].sym = maxCompactSym + 1
	_, ok = r.Compact()
	require.False(t, ok, "a symbol wider than 24 bits has no compact form")

	// Three conditions fit when each symbol fits 16 bits.
	p.Action.Entitlements.Groups = []string{"g", "h", "i"}
	r, err = Compile(p, WithInterner(NewInterner()))
	require.NoError(t, err)
	require.Len(t, r.conds, 3)
	r.conds[0].sym, r.conds[1].sym, r.conds[2].sym = 3, maxNarrowSym, 9
	c, ok = r.Compact()
	require.True(t, ok)
	o, _ = c.Judge([]uint32{3, 9, maxNarrowSym})
	require.Equal(t, Satisfied, o)
	o, _ = c.Judge([]uint32{3, 9})
	require.Equal(t, Unsatisfied, o)
	r.conds[1].sym = maxNarrowSym + 1
	_, ok = r.Compact()
	require.False(t, ok, "three conditions with a symbol wider than 16 bits have no compact form")

	var none Compact
	o, cond := none.Judge(nil)
	require.Equal(t, Unsatisfied, o)
	require.Equal(t, -1, cond)
}
