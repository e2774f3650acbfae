package engine_test

// Owner selections and disables follow the policy, not the key
// (docs/semantics.md, Owner-selected policies). Data sources 10 (owner carol), 11
// and 12 come from world; expected values are worked out by hand.

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

func selectionsOf(t testing.TB, e *engine.Engine, id int64) ([]string, []model.DisabledPolicy) {
	t.Helper()
	ds, ok := e.Snapshot().DataSource(id)
	require.True(t, ok)
	return ds.SelectedPolicies, ds.DisabledPolicies
}

func autoAnyone() model.Action { return aAnyone(true) }

func TestSelectionsFollowAKeyChange(t *testing.T) {
	t.Parallel()
	e, _ := world(t)
	p := create(t, e, semPolicy("p1", autoAnyone(), ownerSelected))
	all := create(t, e, semPolicy("all", autoAnyone()))
	require.NoError(t, e.ApplyPolicy(engine.As(carol), p.ID, 10))
	require.NoError(t, e.DisablePolicy(engine.As(carol), 10, all.ID, "not here"))
	require.Equal(t, []string{"p1"}, appliedKeys(t, e, 10))
	require.Equal(t, engine.LevelRead, e.Decide(bob, 10).Grant)

	// A dry run that changes the key reports no change of applicability and stores nothing.
	before := mustExport(t, e)
	_, imp, err := e.UpdatePolicy(engine.As(gov), p.ID, semPolicy("p1-new", autoAnyone(), ownerSelected), engine.WriteOptions{DryRun: true})
	require.NoError(t, err)
	assert.Empty(t, imp.DataSourcesAdded)
	assert.Empty(t, imp.DataSourcesRemoved)
	assert.Empty(t, imp.Users)
	assert.Equal(t, before, mustExport(t, e))

	semUpdate(t, e, p.ID, semPolicy("p1-new", autoAnyone(), ownerSelected))
	semUpdate(t, e, all.ID, semPolicy("all-new", autoAnyone()))
	assert.Equal(t, []string{"p1-new"}, appliedKeys(t, e, 10), "the selection moved with the key; the disable too")
	assert.Equal(t, []string{"all-new"}, appliedKeys(t, e, 11))
	assert.Equal(t, engine.LevelRead, e.Decide(bob, 10).Grant, "bob keeps the READ the selection gave")
	sel, dis := selectionsOf(t, e, 10)
	assert.Equal(t, []string{"p1-new"}, sel)
	assert.Equal(t, []model.DisabledPolicy{{PolicyKey: "all-new", Reason: "not here"}}, dis)

	// A new policy under a freed key is not the old one: nothing carries over to it.
	create(t, e, semPolicy("p1", autoAnyone(), ownerSelected))
	create(t, e, semPolicy("all", autoAnyone()))
	assert.Equal(t, []string{"p1-new", "all"}, appliedKeys(t, e, 10))

	// The selection survives an export and import under its new key.
	e2 := engine.New(engine.WithClock(func() time.Time { return t0 }))
	require.NoError(t, e2.Import([]byte(mustExport(t, e))))
	assert.Equal(t, []string{"p1-new", "all"}, appliedKeys(t, e2, 10))
}

func TestSelectionsEndWithTheirPolicy(t *testing.T) {
	t.Parallel()
	e, _ := world(t)
	p2 := create(t, e, semPolicy("p2", autoAnyone(), ownerSelected))
	gone := create(t, e, semPolicy("gone", autoAnyone(), onTag("Finance")))
	require.NoError(t, e.ApplyPolicy(engine.As(carol), p2.ID, 10))
	require.NoError(t, e.DisablePolicy(engine.As(gov), 11, p2.ID, "never here"))
	require.NoError(t, e.DisablePolicy(engine.As(carol), 10, gone.ID, "not here"))
	require.Equal(t, []string{"p2"}, appliedKeys(t, e, 10))

	_, err := e.DeletePolicy(engine.As(gov), p2.ID)
	require.NoError(t, err)
	_, err = e.DeletePolicy(engine.As(gov), gone.ID)
	require.NoError(t, err)
	for _, id := range []int64{10, 11} {
		sel, dis := selectionsOf(t, e, id)
		assert.Empty(t, sel, "ds %d", id)
		assert.Empty(t, dis, "ds %d", id)
	}

	// A different policy reusing the keys starts applied nowhere (owner-selected) and
	// disabled nowhere.
	create(t, e, semPolicy("p2", autoAnyone(), ownerSelected))
	create(t, e, semPolicy("gone", autoAnyone(), onTag("Finance")))
	assert.Equal(t, []string{"gone"}, appliedKeys(t, e, 10))
	assert.Empty(t, appliedKeys(t, e, 11))
	assert.Equal(t, engine.LevelRead, e.Decide(bob, 10).Grant, "through gone, not p2")
	assert.Equal(t, engine.LevelNone, e.Decide(bob, 11).Grant)
}

func TestSelectionsNamedBeforeThePolicy(t *testing.T) {
	t.Parallel()
	e, _ := world(t)
	require.NoError(t, e.PutDataSource(engine.As(gov), &model.DataSource{ID: 20, Name: "early", Tags: []string{"Finance"},
		SelectedPolicies: []string{"later", "renamed-to"},
		DisabledPolicies: []model.DisabledPolicy{{PolicyKey: "later-all", Reason: "named early"}, {PolicyKey: "into", Reason: "dangling"}}}))
	create(t, e, semPolicy("later", autoAnyone(), ownerSelected))
	create(t, e, semPolicy("later-all", autoAnyone()))
	assert.Equal(t, []string{"later"}, appliedKeys(t, e, 20), "a key named early takes effect when the policy is created")

	// A policy renamed to a key that a data source named early gets that selection too.
	other := create(t, e, semPolicy("other", autoAnyone(), ownerSelected))
	semUpdate(t, e, other.ID, semPolicy("renamed-to", autoAnyone(), ownerSelected))
	assert.Equal(t, []string{"later", "renamed-to"}, appliedKeys(t, e, 20))

	// A disable moved onto a key that a data source already disabled replaces it (one
	// entry, the moved reason).
	f := create(t, e, semPolicy("from", autoAnyone(), onTag("Finance")))
	require.NoError(t, e.DisablePolicy(engine.As(gov), 20, f.ID, "moved"))
	semUpdate(t, e, f.ID, semPolicy("into", autoAnyone(), onTag("Finance")))
	_, dis := selectionsOf(t, e, 20)
	assert.Equal(t, []model.DisabledPolicy{{PolicyKey: "later-all", Reason: "named early"}, {PolicyKey: "into", Reason: "moved"}}, dis)
	assert.Equal(t, []string{"later", "renamed-to"}, appliedKeys(t, e, 20))
}
