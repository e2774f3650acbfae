package engine_test

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/benchmarks"
	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/store/memory"
)

// TestBundleLoadEqualsWrites: loading a bundle (its data sources prepared on every
// core, after the policies) gives the state the same catalog, directory and
// policies give through ordinary writes (policies first, then the data sources one
// write at a time): the same policies applied on every data source, the same
// decisions, and the same bulk answers. The catalog is large enough that the load
// splits it between several workers.
func TestBundleLoadEqualsWrites(t *testing.T) {
	t.Parallel()
	w := benchmarks.Generate(benchmarks.Config{Seed: 7, DataSources: 4000, Policies: 120, Users: 2500})
	loaded := engine.New()
	require.NoError(t, w.Load(loaded))
	written := engine.New()
	require.NoError(t, w.LoadInBatches(written))
	a, b := loaded.Snapshot(), written.Snapshot()
	require.Equal(t, b.DataSourceIDs(), a.DataSourceIDs())
	require.Equal(t, b.Users(), a.Users())
	for _, id := range a.DataSourceIDs() {
		pa, err := a.AppliedPolicies(id)
		require.NoError(t, err)
		pb, err := b.AppliedPolicies(id)
		require.NoError(t, err)
		ida := make([]int64, len(pa))
		for i, p := range pa {
			ida[i] = p.ID
		}
		idb := make([]int64, len(pb))
		for i, p := range pb {
			idb[i] = p.ID
		}
		require.Equal(t, idb, ida, "data source %d", id)
		require.Equal(t, b.Indeterminate(id) == nil, a.Indeterminate(id) == nil, "data source %d", id)
	}
	for _, r := range w.Requests(2000, 3) {
		require.Equal(t, b.Decide(r.UserID, r.DataSourceID).Grant, a.Decide(r.UserID, r.DataSourceID).Grant,
			"user %d, data source %d", r.UserID, r.DataSourceID)
	}
	for u := int64(1); u <= 2500; u += 97 {
		require.True(t, slices.Equal(b.DataSourcesFor(u, engine.LevelRead), a.DataSourcesFor(u, engine.LevelRead)), "user %d", u)
	}
}

// TestReopenLargeStore: an engine opened on a store holding a catalog large enough
// to be decoded by several workers exports exactly what the engine that wrote it
// exported.
func TestReopenLargeStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := memory.New()
	e, err := engine.Open(ctx, st)
	require.NoError(t, err)
	w := benchmarks.Generate(benchmarks.Config{Seed: 11, DataSources: 9000, Policies: 60, Users: 200})
	require.NoError(t, w.Load(e))
	want, err := e.Export()
	require.NoError(t, err)
	reopened, err := engine.Open(ctx, st)
	require.NoError(t, err)
	got, err := reopened.Export()
	require.NoError(t, err)
	require.Equal(t, string(want), string(got))
}
