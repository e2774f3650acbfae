package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
	"github.com/tollgate-dev/tollgate/store/memory"
)

// twoEngines opens two engines on one shared memory store, seeded by the first.
func twoEngines(t *testing.T, opts ...memory.Option) (a, b *engine.Engine) {
	t.Helper()
	st := memory.New(opts...)
	ctx := context.Background()
	a, err := engine.Open(ctx, st)
	require.NoError(t, err)
	b, err = engine.Open(ctx, st)
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	gov := model.User{ID: 1, Name: "gov", Permissions: []model.Permission{model.Governance, model.UserAdmin}}
	admin := model.User{ID: 2, Name: "admin", Permissions: []model.Permission{model.Governance, model.UserAdmin}}
	require.NoError(t, a.ApplyBundle(&model.Bundle{Name: "two", Users: []model.User{gov, admin},
		DataSources: []model.DataSource{{ID: 1, Name: "ds1", Tags: []string{"T"}}}}))
	return a, b
}

func createdPolicy(key string) *model.Policy {
	return &model.Policy{Key: key, Name: key, Type: model.PolicySubscription, CircumstanceOperator: model.Any,
		Circumstances: []model.Circumstance{{Type: model.CircumstanceTags, Tag: "T"}},
		Action:        model.Action{Type: model.ActionAnyone, AccessGrant: model.Read, AutomaticSubscription: true}}
}

func TestSyncAppliesOtherInstancesWrites(t *testing.T) {
	a, b := twoEngines(t)
	ctx := context.Background()
	require.NoError(t, b.Sync(ctx))
	p, _, err := a.CreatePolicy(engine.As(1), createdPolicy("p"), engine.WriteOptions{})
	require.NoError(t, err)
	require.NotEqual(t, a.Snapshot().Revision(), b.Snapshot().Revision(), "b has not synced yet")
	s, err := b.WaitRevision(ctx, a.Snapshot().Revision())
	require.NoError(t, err)
	require.Equal(t, a.Snapshot().Revision(), s.Revision())
	got, ok := b.Snapshot().Policy(p.ID)
	require.True(t, ok)
	require.Equal(t, "p", got.Key)
	require.Equal(t, engine.LevelRead, b.Decide(1, 1).Grant, "the policy decides on b")
	ea, err := a.Export()
	require.NoError(t, err)
	eb, err := b.Export()
	require.NoError(t, err)
	require.Equal(t, string(ea), string(eb))
	require.Zero(t, b.ReplicaStatus().LastError)
}

func TestConflictRunsTheCommandAgain(t *testing.T) {
	a, b := twoEngines(t)
	ctx := context.Background()
	require.NoError(t, b.Sync(ctx))
	// a creates policy 1; b, still at the old revision, creates another: its
	// commit conflicts, it syncs and runs again, getting the next id.
	p1, _, err := a.CreatePolicy(engine.As(1), createdPolicy("one"), engine.WriteOptions{})
	require.NoError(t, err)
	p2, _, err := b.CreatePolicy(engine.As(1), createdPolicy("two"), engine.WriteOptions{})
	require.NoError(t, err)
	require.Equal(t, p1.ID+1, p2.ID, "ids stay unique and gap-free")
	// Validation runs on the new state: a duplicate key made elsewhere is refused.
	_, _, err = a.CreatePolicy(engine.As(1), createdPolicy("three"), engine.WriteOptions{})
	require.NoError(t, err)
	_, _, err = b.CreatePolicy(engine.As(1), createdPolicy("three"), engine.WriteOptions{})
	require.ErrorIs(t, err, engine.ErrConflict)
	// Permissions too: a takes GOVERNANCE from user 1; b's stale snapshot still
	// has it, but the write runs again on the new state and is forbidden.
	require.NoError(t, a.PutUser(engine.As(2), &model.User{ID: 1, Name: "gov"}))
	_, _, err = b.CreatePolicy(engine.As(1), createdPolicy("four"), engine.WriteOptions{})
	require.ErrorIs(t, err, engine.ErrForbidden)
	require.NoError(t, a.Sync(ctx))
	ea, err := a.Export()
	require.NoError(t, err)
	eb, err := b.Export()
	require.NoError(t, err)
	require.Equal(t, string(ea), string(eb))
}

func TestFollowerPastTheRetainedLogReloads(t *testing.T) {
	a, b := twoEngines(t, memory.WithRetention(3))
	ctx := context.Background()
	require.NoError(t, b.Sync(ctx))
	reloads := b.ReplicaStatus().Reloads
	for i := 0; i < 10; i++ {
		_, _, err := a.CreatePolicy(engine.As(1), createdPolicy(string(rune('a'+i))), engine.WriteOptions{})
		require.NoError(t, err)
	}
	require.NoError(t, b.Sync(ctx))
	require.Equal(t, reloads+1, b.ReplicaStatus().Reloads)
	ea, err := a.Export()
	require.NoError(t, err)
	eb, err := b.Export()
	require.NoError(t, err)
	require.Equal(t, string(ea), string(eb))
}

func TestFollowAndWaitRevision(t *testing.T) {
	a, b := twoEngines(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Follow(ctx, time.Hour) }() // only wake-ups and waiters sync
	_, _, err := a.CreatePolicy(engine.As(1), createdPolicy("p"), engine.WriteOptions{})
	require.NoError(t, err)
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	s, err := b.WaitRevision(wctx, a.Snapshot().Revision())
	require.NoError(t, err)
	require.Equal(t, a.Snapshot().Revision(), s.Revision())
	// A revision nobody wrote is not reached.
	short, scancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer scancel()
	_, err = b.WaitRevision(short, s.Revision()+1)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
}
