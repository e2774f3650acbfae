package rule

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/model"
)

func TestReach(t *testing.T) {
	t.Parallel()
	in := NewInterner()
	pol := func(a model.Action) *model.Policy {
		return &model.Policy{Key: "p", Type: model.PolicySubscription, Dialect: model.DialectV2, Action: a}
	}
	ent := func(op model.Operator, groups ...string) *model.Entitlements {
		return &model.Entitlements{Operator: op, Groups: groups}
	}
	for _, c := range []struct {
		name string
		a    model.Action
		want Reach
	}{
		{"anyone", model.Action{Type: model.ActionAnyone}, Reach{Outcome: Satisfied}},
		{"approval", model.Action{Type: model.ActionApproval, Approvals: []model.Approval{{RequiredPermission: model.Owner}}}, Reach{Outcome: NeedsApproval}},
		{"manual", model.Action{Type: model.ActionManual}, Reach{Outcome: NeedsManual}},
		{"no entitlements", model.Action{Type: model.ActionEntitlements}, Reach{Outcome: Unsatisfied}},
		{"any group", model.Action{Type: model.ActionEntitlements, Entitlements: ent(model.Any, "a", "b")},
			Reach{Varies: true, Syms: []uint32{in.groupSymbol("a"), in.groupSymbol("b")}, PerSubject: true}},
		{"all groups", model.Action{Type: model.ActionEntitlements, Entitlements: ent(model.All, "a")},
			Reach{Varies: true, Syms: []uint32{in.groupSymbol("a")}, All: true, PerSubject: true}},
		{"subject-only expression", model.Action{Type: model.ActionEntitlements, Advanced: "@isInGroups('a') OR @hasAttribute('k', 'v')"},
			Reach{Varies: true, Everyone: true, PerSubject: true}},
		{"expression reading a variable", model.Action{Type: model.ActionEntitlements, Advanced: "@hasAttribute('db', '@database')"},
			Reach{Varies: true, Everyone: true}},
		{"expression reading tags", model.Action{Type: model.ActionEntitlements, Entitlements: ent(model.Any, "a"), Advanced: "@hasTagAsGroup('dataSource')"},
			Reach{Varies: true, Syms: []uint32{in.groupSymbol("a")}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := Compile(pol(c.a), WithInterner(in))
			require.NoError(t, err)
			assert.Equal(t, c.want, r.Reach())
		})
	}
	r, err := Compile(pol(model.Action{Type: model.ActionEntitlements, Entitlements: ent(model.Any, "a")}))
	require.NoError(t, err)
	assert.Equal(t, Reach{Varies: true, Everyone: true, PerSubject: true}, r.Reach(), "without an Interner, conditions have no symbols")
}
