package engine

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/model"
)

// TestUserSlotSymbols: Decide judges compact rules from the symbols in the users
// map's slot when they fit, and from the user's state when they do not; both give
// the grant the rule says, for users with 0 to 2*userSlotSyms groups, on a rule
// naming their first or last group, or one they lack.
func TestUserSlotSymbols(t *testing.T) {
	t.Parallel()
	e := New()
	sys := SystemActor()
	const groups = 2*userSlotSyms + 1
	var gs []*model.Group
	for g := 1; g <= groups; g++ {
		gs = append(gs, &model.Group{ID: int64(g), Name: fmt.Sprint("g", g)})
	}
	require.NoError(t, e.PutGroups(sys, gs))
	var ds []*model.DataSource
	for g := 1; g <= groups; g++ {
		ds = append(ds, &model.DataSource{ID: int64(g), Name: fmt.Sprint("d", g), Tags: []string{fmt.Sprint("t", g)}})
		p := &model.Policy{Key: fmt.Sprint("p", g), Name: fmt.Sprint("p", g), Type: model.PolicySubscription,
			Dialect: model.DialectV2, CircumstanceOperator: model.Any,
			Circumstances: []model.Circumstance{{Type: model.CircumstanceTags, Tag: fmt.Sprint("t", g)}},
			Action: model.Action{Type: model.ActionEntitlements, AccessGrant: model.Read, AutomaticSubscription: true,
				Entitlements: &model.Entitlements{Operator: model.Any, Groups: []string{fmt.Sprint("g", g)}}}}
		_, _, err := e.CreatePolicy(sys, p, WriteOptions{})
		require.NoError(t, err)
	}
	require.NoError(t, e.PutDataSources(sys, ds))
	var users []*model.User
	for n := 0; n < groups; n++ { // user n+1 is in groups 1..n
		u := &model.User{ID: int64(n + 1), Name: fmt.Sprint("u", n)}
		for g := 1; g <= n; g++ {
			u.Groups = append(u.Groups, fmt.Sprint("g", g))
		}
		users = append(users, u)
	}
	require.NoError(t, e.PutUsers(sys, users))
	s := e.Snapshot()
	for n := 0; n < groups; n++ {
		slot, ok := s.users.m.Get(int64(n + 1))
		require.True(t, ok)
		require.True(t, slices.Equal(slot.st.symbols(), slot.symbols()), "user with %d groups: the slot's symbols are the state's", n)
		require.Equal(t, n <= userSlotSyms, slot.nsyms >= 0, "user with %d groups: symbols in the slot", n)
		for g := 1; g <= groups; g++ {
			want := LevelNone
			if g <= n {
				want = LevelRead
			}
			require.Equal(t, want, e.Decide(int64(n+1), int64(g)).Grant, "user in %d groups, policy on g%d", n, g)
		}
	}
}
