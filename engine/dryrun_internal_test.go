package engine

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/model"
)

// TestDryRunImpactOutsideTheLock (issue 12 item 7): a dry run compares decisions
// after it released the writer lock, so a write can run meanwhile (here: one that
// commits while the dry run is between its lock and its comparison), and the dry
// run's answer is about the state it started from.
func TestDryRunImpactOutsideTheLock(t *testing.T) {
	t.Parallel()
	e := txnEngine(t)
	require.NoError(t, e.PutDataSource(SystemActor(), &model.DataSource{ID: 11, Name: "plain"}))
	ran := false
	e.cfg.dryRunUnlocked = func() {
		requireUnlocked(t, e)
		require.NoError(t, e.PutDataSource(SystemActor(), &model.DataSource{ID: 30, Name: "meanwhile", Tags: []string{"Sensitive"}}))
		ran = true
	}
	p := &model.Policy{Name: "auto", Key: "auto", Type: model.PolicySubscription,
		Action: model.Action{Type: model.ActionAnyone, AccessGrant: model.Read, AutomaticSubscription: true}}
	_, imp, err := e.CreatePolicy(SystemActor(), p, WriteOptions{DryRun: true})
	require.NoError(t, err)
	require.True(t, ran, "the hook ran")
	assert.Equal(t, []int64{10, 11}, imp.DataSourcesAdded, "the dry run saw the state it started from")
	assert.Equal(t, []UserImpact{{ProfileID: 1, DataSourceID: 11, Before: LevelNone, After: LevelRead},
		{ProfileID: 2, DataSourceID: 11, Before: LevelNone, After: LevelRead}}, imp.Users)
	_, ok := e.Snapshot().dataSources.Get(30)
	assert.True(t, ok, "the write made during the dry run committed")
	_, stored := e.Snapshot().Policy(2)
	assert.False(t, stored, "the dry run stored nothing")
}
