package engine

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/model"
)

const txnBundle = `
name: txn
users:
  - {id: 1, name: Gov, apiKey: k-gov, permissions: [GOVERNANCE]}
  - {id: 2, name: Owner, apiKey: k-own}
dataSources:
  - {id: 10, name: payments, owners: [2], tags: [Sensitive]}
policies:
  - {name: s, policyKey: s, type: subscription, actions: {type: anyone}, circumstances: [{type: tags, tag: Sensitive}]}
`

func txnEngine(t *testing.T) *Engine {
	t.Helper()
	b, err := model.DecodeBundle([]byte(txnBundle), model.DefaultLimits())
	require.NoError(t, err)
	e := New()
	require.NoError(t, e.ApplyBundle(b))
	return e
}

// requireUnlocked checks the writer lock is free (without waiting for it).
func requireUnlocked(t *testing.T, e *Engine) {
	t.Helper()
	require.True(t, e.mu.TryLock(), "the writer lock is released")
	e.mu.Unlock()
}

// TestPanickingWriteReleasesTheLock (issue 12 item 4): a write that panics halfway
// (after touching the writer-owned indexes) returns an error wrapping ErrInternal,
// leaves the state as it was, releases the writer lock, and later writes work.
func TestPanickingWriteReleasesTheLock(t *testing.T) {
	t.Parallel()
	e := txnEngine(t)
	before, err := e.Export()
	require.NoError(t, err)
	err = e.write(SystemActor(), "probe", func(tx *txn, ai actorInfo) error {
		require.NoError(t, tx.putDataSources(ai, []*model.DataSource{{ID: 11, Name: "half", Tags: []string{"Sensitive"}}}))
		var m map[string]int
		m["boom"] = 1 // panics: assignment to a nil map
		return nil
	})
	require.ErrorIs(t, err, ErrInternal)
	assert.Contains(t, err.Error(), "nil map")
	requireUnlocked(t, e)
	after, err := e.Export()
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after), "nothing changed")
	// the indexes were rebuilt: the policy still applies to 10, and a new data
	// source is matched by it
	require.NoError(t, e.PutDataSource(SystemActor(), &model.DataSource{ID: 12, Name: "later", Tags: []string{"Sensitive"}}))
	applied, err := e.AppliedPolicies(12)
	require.NoError(t, err)
	require.Len(t, applied, 1)
	assert.Equal(t, "s", applied[0].Key)
	assert.Equal(t, LevelRead, e.Decide(2, 10).Grant, "the owner reads")
}

// TestAbortAfterCommitIsSafe (issue 12 item 4): abort and commit after a commit or
// an abort do nothing (no double unlock, no second publish).
func TestAbortAfterCommitIsSafe(t *testing.T) {
	t.Parallel()
	e := txnEngine(t)
	tx := e.begin()
	tx.nextPolicy = 99
	tx.commit(SystemActor(), "x")
	tx.abort()
	tx.commit(SystemActor(), "x")
	requireUnlocked(t, e)
	assert.Equal(t, int64(99), e.Snapshot().nextPolicyID)

	tx = e.begin()
	tx.nextPolicy = 500
	tx.abort()
	tx.abort()
	tx.commit(SystemActor(), "y")
	requireUnlocked(t, e)
	assert.Equal(t, int64(99), e.Snapshot().nextPolicyID, "an aborted write publishes nothing")
}

// TestNilArgumentsNeverPanic (issue 12 item 4): the probe of the issue,
// Access(SystemActor(), 10, AccessRequest{}), and the other writes given nil, return (an error or an
// empty request's result) without panicking and without holding the lock.
func TestNilArgumentsNeverPanic(t *testing.T) {
	t.Parallel()
	e := txnEngine(t)
	calls := map[string]func() error{
		"Access":             func() error { _, err := e.Access(As(2), 10, AccessRequest{}); return err },
		"Access SystemActor": func() error { _, err := e.Access(SystemActor(), 10, AccessRequest{}); return err },
		"ChangeRecord":       func() error { _, err := e.ChangeRecord(As(1), 10, 1, nil); return err },
		"CreatePolicy":       func() error { _, _, err := e.CreatePolicy(As(1), nil, WriteOptions{}); return err },
		"UpdatePolicy":       func() error { _, _, err := e.UpdatePolicy(As(1), 1, nil, WriteOptions{}); return err },
		"PutDataSource":      func() error { return e.PutDataSource(As(1), nil) },
		"PutUser":            func() error { return e.PutUser(As(1), nil) },
		"PutGroup":           func() error { return e.PutGroup(As(1), nil) },
		"ApplyBundle":        func() error { return e.ApplyBundle(nil) },
	}
	for name, call := range calls {
		assert.NotPanics(t, func() { _ = call() }, name)
		requireUnlocked(t, e)
	}
	_, err := e.Access(As(2), 10, AccessRequest{})
	assert.NoError(t, err, "an empty request is a request")
}

// An imported (or opened) state's users are interned in the engine's own table, so
// rules compiled later compare symbols with them instead of falling back to strings
// (and the bulk queries can narrow by symbol).
func TestImportInternsInTheEnginesTable(t *testing.T) {
	b, err := model.DecodeBundle([]byte(`
name: interned
users:
  - {id: 1, name: Ana, groups: [finance]}
dataSources:
  - {id: 10, name: payments, tags: [Finance]}
policies:
  - {name: f, policyKey: f, type: subscription, actions: {type: entitlements, automaticSubscription: true, entitlements: {operator: any, groups: [finance]}}}
`), model.DefaultLimits())
	require.NoError(t, err)
	src := New()
	require.NoError(t, src.ApplyBundle(b))
	data, err := src.Export()
	require.NoError(t, err)

	e := New()
	require.NoError(t, e.Import(data))
	u, ok := e.Snapshot().users.Get(1)
	require.True(t, ok)
	assert.NotEmpty(t, u.subj.Symbols(), "the imported user's groups are interned in the engine's table")
	assert.Equal(t, LevelRead, e.Decide(1, 10).Grant)
}

// TestParallelRaisesPanicsInTheCaller: a panic in a worker of parallel reaches the
// caller's goroutine (where a write recovers it) instead of ending the process.
func TestParallelRaisesPanicsInTheCaller(t *testing.T) {
	defer func() {
		assert.Equal(t, "boom", recover())
	}()
	parallel(5000, 100, func(i int) {
		if i == 1234 {
			panic("boom")
		}
	})
	t.Fatal("parallel returned after a panic")
}
