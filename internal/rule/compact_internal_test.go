package rule

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/model"
)

// TestCompactSymbolWidth: a compact form holds symbols of up to 24 bits, judges
// with the widest one, and a rule with a wider symbol has no compact form (it is
// then evaluated in full, never misjudged).
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

	var none Compact
	o, cond := none.Judge(nil)
	require.Equal(t, Unsatisfied, o)
	require.Equal(t, -1, cond)
}
