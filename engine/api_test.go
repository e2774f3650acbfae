package engine_test

import (
	"errors"
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
