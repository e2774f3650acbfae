package engine_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

func TestStateStringNeverPanics(t *testing.T) {
	t.Parallel()
	cases := []struct {
		s    engine.State
		want string
	}{
		{engine.StateNone, "none"},
		{engine.StateRequestable, "requestable"},
		{engine.StateEligible, "eligible"},
		{engine.StatePending, "pending"},
		{engine.StateSubscribed, "subscribed"},
		{engine.StateOwner, "owner"},
		{engine.StateOwner + 1, "State(6)"},
		{engine.State(255), "State(255)"},
	}
	for _, c := range cases {
		assert.NotPanics(t, func() { assert.Equal(t, c.want, c.s.String()) })
	}
}

func TestLevelString(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "NONE", engine.LevelNone.String())
	assert.Equal(t, "READ", engine.LevelRead.String())
	assert.Equal(t, "WRITE", engine.LevelWrite.String())
	assert.Equal(t, "NONE", engine.Level(9).String(), "out of range is no access")
}

func TestReasonsOnAValue(t *testing.T) {
	t.Parallel()
	e, _ := world(t)
	create(t, e, v2("p", model.Action{Type: model.ActionAnyone, AutomaticSubscription: true}, tag("Finance")))

	got := e.Decide(alice, 10).Reasons() // on the returned value: must compile
	require.Len(t, got, 2)
	assert.Equal(t, engine.Reason{Kind: engine.ReasonNoPolicy, Level: model.Write, Detail: "no subscription policy applies at WRITE"}, got[0])
	assert.Equal(t, engine.ReasonPolicy, got[1].Kind)
	assert.Equal(t, "p", got[1].PolicyKey)

	got[1].PolicyKey = "changed"
	assert.Equal(t, "p", e.Decide(alice, 10).Reasons()[1].PolicyKey, "Reasons returns a copy")
	for _, r := range e.Decide(outsider, 12).Reasons() {
		assert.Equal(t, engine.ReasonNoPolicy, r.Kind, "no policy applies to data source 12")
	}
}

func TestZeroActorIsNobody(t *testing.T) {
	t.Parallel()
	e, _ := world(t)
	assert.False(t, engine.Actor{}.IsSystem())
	assert.False(t, engine.As(0).IsSystem())
	assert.True(t, engine.SystemActor().IsSystem())
	assert.Equal(t, engine.Actor{}, engine.As(0))

	for name, a := range map[string]engine.Actor{"zero": {}, "As(0)": engine.As(0), "ID 0": {ID: 0}} {
		_, _, err := e.CreatePolicy(a, v2("p", model.Action{Type: model.ActionAnyone}), engine.WriteOptions{})
		assert.True(t, errors.Is(err, engine.ErrUnauthenticated), "%s: %v", name, err)
		err = e.PutUsers(a, []*model.User{{ID: 99, Name: "x"}})
		assert.True(t, errors.Is(err, engine.ErrUnauthenticated), "%s: %v", name, err)
	}
	_, ok := e.Snapshot().User(99)
	assert.False(t, ok, "nothing was stored")

	_, _, err := e.CreatePolicy(engine.SystemActor(), v2("p", model.Action{Type: model.ActionAnyone}), engine.WriteOptions{})
	require.NoError(t, err, "the system actor is GOVERNANCE")
}

func TestSnapshotReads(t *testing.T) {
	t.Parallel()
	e, _ := world(t)
	p := create(t, e, v2("pay", model.Action{Type: model.ActionAnyone, AutomaticSubscription: true}, tag("Finance")))
	s := e.Snapshot()

	got, ok := s.Policy(p.ID)
	require.True(t, ok)
	assert.Equal(t, "pay", got.Key)
	byKey, ok := s.PolicyByKey("pay")
	require.True(t, ok)
	assert.Same(t, got, byKey)
	_, ok = s.PolicyByKey("nope")
	assert.False(t, ok)
	assert.Equal(t, []*model.Policy{got}, s.Policies())

	groups := s.Groups()
	require.Len(t, groups, 2)
	assert.Equal(t, []string{"finance", "marketing"}, []string{groups[0].Name, groups[1].Name})
	g, ok := s.GroupByName("marketing")
	require.True(t, ok)
	assert.Equal(t, int64(2), g.ID)
	_, ok = s.GroupByName("nope")
	assert.False(t, ok)

	var dsIDs, userIDs []int64
	for _, d := range s.DataSources() {
		dsIDs = append(dsIDs, d.ID)
	}
	for _, u := range s.Users() {
		userIDs = append(userIDs, u.ID)
	}
	assert.Equal(t, s.DataSourceIDs(), dsIDs)
	assert.Equal(t, []int64{10, 11, 12}, dsIDs)
	assert.Equal(t, s.UserIDs(), userIDs)

	assert.True(t, s.Owns(carol, 10), "listed owner")
	assert.False(t, s.Owns(alice, 10))
	assert.False(t, s.Owns(carol, 99), "unknown data source")

	// The bulk queries agree with Decide, on the snapshot and through the engine.
	assert.Equal(t, []int64{10}, s.DataSourcesFor(alice, engine.LevelRead))
	assert.Equal(t, s.DataSourcesFor(alice, engine.LevelRead), e.DataSourcesFor(alice, engine.LevelRead))
	users := s.UsersFor(10, engine.LevelRead)
	for _, id := range s.UserIDs() {
		assert.Equal(t, s.Decide(id, 10).Grant >= engine.LevelRead, slices.Contains(users, id), "user %d", id)
	}
	assert.Equal(t, users, e.UsersFor(10, engine.LevelRead))
}

func TestCheckPolicy(t *testing.T) {
	t.Parallel()
	e, _ := world(t)
	before, err := e.Export()
	require.NoError(t, err)

	assert.NoError(t, e.CheckPolicy(v2("ok", model.Action{Type: model.ActionAnyone}, tag("Finance"))))
	bad := v2("bad", model.Action{Type: model.ActionEntitlements, Advanced: "@noSuchFunction('x')"},
		model.Circumstance{Type: model.CircumstanceColumnRegex, Regex: "(ssn"})
	err = e.CheckPolicy(bad)
	var paths []string
	for _, fe := range model.Errors(err) {
		paths = append(paths, fe.Path.String())
	}
	assert.ElementsMatch(t, []string{"circumstances[0].regex", "actions.advanced"}, paths, "every problem: %v", err)
	assert.Error(t, e.CheckPolicy(nil))

	after, err := e.Export()
	require.NoError(t, err)
	assert.Equal(t, before, after, "checking stores nothing")
	assert.Empty(t, e.Snapshot().Policies())
}

// TestDecisionEqual: decisions compare by what they say (grant, states,
// discoverability, reasons), across engines holding the same state; a different
// reason or grant makes them differ.
func TestDecisionEqual(t *testing.T) {
	t.Parallel()
	build := func() *engine.Engine {
		e, _ := world(t)
		create(t, e, v2("p", model.Action{Type: model.ActionAnyone, AutomaticSubscription: true}, tag("Finance")))
		create(t, e, v2("q", model.Action{Type: model.ActionEntitlements, AutomaticSubscription: true,
			Entitlements: &model.Entitlements{Operator: model.Any, Groups: []string{"finance"}}}, tag("Finance")))
		return e
	}
	e1, e2 := build(), build()
	d := e1.Decide(alice, 10)
	assert.True(t, d.Equal(d))
	assert.True(t, d.Equal(e2.Decide(alice, 10)), "another engine with the same state")
	explained, _ := e1.Explain(alice, 10)
	assert.True(t, d.Equal(explained), "Explain's decision")
	assert.False(t, d.Equal(e1.Decide(outsider, 10)), "another user: other reasons")
	assert.False(t, d.Equal(e1.Decide(alice, 12)), "another data source")
	assert.Equal(t, d.Reasons(), e2.Decide(alice, 10).Reasons())
}
