package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/store/sqlite"
	"github.com/tollgate-dev/tollgate/store/storetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, retention int) func() engine.Store {
		path := filepath.Join(t.TempDir(), "tollgate.db")
		return func() engine.Store {
			s, err := sqlite.Open(context.Background(), path, sqlite.WithRetention(retention))
			require.NoError(t, err)
			return s
		}
	})
}

func TestBackupWhileRunning(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "a.db"))
	require.NoError(t, err)
	e := storetest.OpenEngine(t, st)
	require.NoError(t, e.ApplyBundle(storetest.Seed()))
	require.NoError(t, storetest.Apply(e, storetest.Command{Op: "createPolicy", Actor: storetest.Governor(0), Key: "b", N: 3}))
	want, err := e.Export()
	require.NoError(t, err)
	require.NoError(t, st.Backup(ctx, filepath.Join(dir, "copy.db")))
	// The original goes on; the copy holds the state of the backup.
	require.NoError(t, storetest.Apply(e, storetest.Command{Op: "putGroup", Actor: storetest.Governor(0), ID: 4, N: 1}))
	cp, err := sqlite.Open(ctx, filepath.Join(dir, "copy.db"))
	require.NoError(t, err)
	r := storetest.OpenEngine(t, cp)
	got, err := r.Export()
	require.NoError(t, err)
	require.Equal(t, string(want), string(got))
	require.NoError(t, r.Close())
	require.NoError(t, e.Close())
}

func TestOpenRefusesAnotherSchemaVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v.db")
	st, err := sqlite.Open(ctx, path)
	require.NoError(t, err)
	_, err = st.DB().ExecContext(ctx, `UPDATE tollgate_meta SET version = 99`)
	require.NoError(t, err)
	require.NoError(t, st.Close())
	_, err = sqlite.Open(ctx, path)
	require.ErrorContains(t, err, "schema version 99")
}
