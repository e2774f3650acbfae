package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

func kinds(c engine.Change) []string {
	var out []string
	for _, m := range c.Changes {
		out = append(out, string(m.Kind)+":"+m.ID)
	}
	return out
}

func TestChangesRevisionsAndMutations(t *testing.T) {
	t.Parallel()
	e, _ := world(t)
	// world made three writes (groups, users, data sources).
	require.Equal(t, int64(3), e.Snapshot().Revision())
	all, err := e.Changes(0, 0)
	require.NoError(t, err)
	require.Len(t, all, 3)
	for i, c := range all {
		assert.Equal(t, int64(i+1), c.Revision)
		assert.Equal(t, engine.SystemActor(), c.Actor)
		assert.Equal(t, t0, c.Time)
	}
	assert.Equal(t, []string{"group:1", "group:2"}, kinds(all[0]))
	assert.Equal(t, "putDataSource", all[2].Op)

	p := create(t, e, v2("fin", model.Action{Type: model.ActionAnyone}, tag("Finance")))
	c, err := e.Changes(3, 0)
	require.NoError(t, err)
	require.Len(t, c, 1)
	assert.Equal(t, int64(4), c[0].Revision)
	assert.Equal(t, engine.As(gov), c[0].Actor)
	assert.Equal(t, "createPolicy", c[0].Op)
	require.Equal(t, []string{"policy:1", "counter:policy"}, kinds(c[0]))
	assert.Nil(t, c[0].Changes[0].Before, "a creation has no before")
	var after map[string]any
	require.NoError(t, json.Unmarshal(c[0].Changes[0].After, &after))
	assert.Equal(t, "fin", after["policyKey"])
	assert.Equal(t, float64(p.ID), after["id"])
	assert.JSONEq(t, "1", string(c[0].Changes[1].Before))
	assert.JSONEq(t, "2", string(c[0].Changes[1].After))

	// Disabling is its own kind; the data source row is unchanged.
	require.NoError(t, e.DisablePolicy(engine.As(carol), 10, p.ID, "not here"))
	c, err = e.Changes(4, 0)
	require.NoError(t, err)
	require.Equal(t, []string{"disable:10"}, kinds(c[0]))
	assert.JSONEq(t, `[{"policyKey":"fin","reason":"not here"}]`, string(c[0].Changes[0].After))

	// A write that changes no stored value keeps the revision and logs nothing.
	rev := e.Snapshot().Revision()
	require.NoError(t, e.EnablePolicy(engine.As(gov), 12, p.ID))
	assert.Equal(t, rev, e.Snapshot().Revision())

	// A refused write changes nothing.
	_, err = e.DeletePolicy(engine.As(alice), p.ID)
	require.ErrorIs(t, err, engine.ErrForbidden)
	assert.Equal(t, rev, e.Snapshot().Revision())

	// A deletion has no after; it also removes the policy's disable on data source 10
	// (disables follow the policy, see docs/semantics.md, Owner-selected policies).
	_, err = e.DeletePolicy(engine.As(gov), p.ID)
	require.NoError(t, err)
	c, err = e.Changes(rev, 0)
	require.NoError(t, err)
	require.Equal(t, []string{"policy:1", "disable:10"}, kinds(c[0]))
	assert.NotNil(t, c[0].Changes[0].Before)
	assert.Nil(t, c[0].Changes[0].After)

	// Limits page the log.
	c, err = e.Changes(0, 2)
	require.NoError(t, err)
	assert.Len(t, c, 2)
	_, err = e.Changes(-1, 0)
	assert.Error(t, err)
	c, err = e.Changes(e.Snapshot().Revision(), 0)
	require.NoError(t, err)
	assert.Empty(t, c)
}

func TestChangeJSONShape(t *testing.T) {
	t.Parallel()
	e, _ := world(t)
	c, err := e.Changes(0, 1)
	require.NoError(t, err)
	raw, err := json.Marshal(c[0])
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	assert.Equal(t, float64(1), m["revision"])
	assert.Equal(t, "2026-01-01T00:00:00Z", m["time"])
	assert.Equal(t, float64(0), m["actor"])
	assert.Equal(t, "putGroup", m["op"])
	ch := m["changes"].([]any)[0].(map[string]any)
	assert.Equal(t, "group", ch["kind"])
	assert.Equal(t, "1", ch["id"])
	assert.NotContains(t, ch, "before")
	var back engine.Change
	require.NoError(t, json.Unmarshal(raw, &back))
	assert.Equal(t, c[0].Revision, back.Revision)
	assert.Equal(t, c[0].Actor, back.Actor)
}

func TestExportCarriesRevision(t *testing.T) {
	t.Parallel()
	e, _ := world(t)
	create(t, e, v2("fin", model.Action{Type: model.ActionAnyone}, tag("Finance")))
	exp, err := e.Export()
	require.NoError(t, err)
	var b struct {
		State struct {
			Revision int64 `json:"revision"`
		} `json:"state"`
	}
	require.NoError(t, json.Unmarshal(exp, &b))
	assert.Equal(t, int64(4), b.State.Revision)
	// A fresh engine importing it is at that revision and exports the same bytes.
	n := engine.New(engine.WithClock(e.Now))
	require.NoError(t, n.Import(exp))
	assert.Equal(t, int64(4), n.Snapshot().Revision())
	again, err := n.Export()
	require.NoError(t, err)
	assert.Equal(t, string(exp), string(again))
	// Importing what it holds changes nothing; an engine further along moves
	// forward: revisions never go back.
	require.NoError(t, e.Import(exp))
	assert.Equal(t, int64(4), e.Snapshot().Revision())
	require.NoError(t, e.PutGroup(engine.SystemActor(), &model.Group{ID: 9, Name: "x"}))
	require.NoError(t, e.Import(exp))
	assert.Equal(t, int64(6), e.Snapshot().Revision())
	last, err := e.Changes(5, 0)
	require.NoError(t, err)
	assert.Equal(t, "load", last[0].Op)
	assert.Equal(t, []string{"group:9"}, kinds(last[0]), "a load logs only what it changed")
}

func TestWatchDeliversInOrderAndCallbackSeesChanges(t *testing.T) {
	t.Parallel()
	var seen []int64
	c := &clock{now: t0}
	e := engine.New(engine.WithClock(c.Now), engine.WithChangeCallback(func(ch engine.Change) { seen = append(seen, ch.Revision) }))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan int64, 100)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ch, err := range e.Watch(ctx, 0) {
			if err != nil {
				return
			}
			got <- ch.Revision
		}
	}()
	for i := int64(1); i <= 20; i++ {
		require.NoError(t, e.PutGroup(engine.SystemActor(), &model.Group{ID: i, Name: fmt.Sprint("g", i)}))
	}
	for i := int64(1); i <= 20; i++ {
		assert.Equal(t, i, <-got)
	}
	cancel()
	<-done
	assert.Len(t, seen, 20)
}

func TestChangesFellBehindRetention(t *testing.T) {
	t.Parallel()
	e := engine.New(engine.WithRetention(5))
	for i := int64(1); i <= 30; i++ {
		require.NoError(t, e.PutGroup(engine.SystemActor(), &model.Group{ID: i, Name: fmt.Sprint("g", i)}))
	}
	_, err := e.Changes(0, 0)
	require.True(t, errors.Is(err, engine.ErrFellBehind), "%v", err)
	c, err := e.Changes(25, 0)
	require.NoError(t, err)
	require.Len(t, c, 5)
	assert.Equal(t, int64(26), c[0].Revision)
	// A watcher behind the retained log is told so, once.
	n := 0
	for _, err := range e.Watch(context.Background(), 0) {
		require.ErrorIs(t, err, engine.ErrFellBehind)
		n++
	}
	assert.Equal(t, 1, n)
}
