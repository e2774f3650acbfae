package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/store/postgres"
	"github.com/tollgate-dev/tollgate/store/postgres/pgtest"
	"github.com/tollgate-dev/tollgate/store/storetest"
)

func open(t testing.TB, dsn string, opts ...postgres.Option) *postgres.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := postgres.Open(ctx, dsn, opts...)
	require.NoError(t, err)
	return st
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, retention int) func() engine.Store {
		dsn := pgtest.Schema(t)
		return func() engine.Store { return open(t, dsn, postgres.WithRetention(retention)) }
	})
}

// TestReplicas: three engines, each on its own connection pool to one database,
// eight writers spread over them, the workload's random command mix for 20 s.
func TestReplicas(t *testing.T) {
	dsn := pgtest.Schema(t)
	storetest.Replicas(t, func() engine.Store { return open(t, dsn) },
		storetest.ReplicaConfig{Duration: 20 * time.Second, Seed: time.Now().UnixNano(), FullLog: true})
}

// TestReplicasWithoutListen: followers that only poll converge too.
func TestReplicasWithoutListen(t *testing.T) {
	dsn := pgtest.Schema(t)
	storetest.Replicas(t, func() engine.Store { return open(t, dsn, postgres.WithoutListen()) },
		storetest.ReplicaConfig{Duration: 3 * time.Second, Seed: 7, FullLog: true})
}

func TestWakeOnOtherInstancesCommit(t *testing.T) {
	dsn := pgtest.Schema(t)
	a, b := open(t, dsn), open(t, dsn)
	defer a.Close()
	defer b.Close()
	ctx := context.Background()
	// Drain the wake-up of b's first LISTEN, then commit through a.
	select {
	case <-b.Wake():
	case <-time.After(10 * time.Second):
		t.Fatal("no wake-up after LISTEN")
	}
	c := &engine.Change{Revision: 1, Op: "putGroup", Changes: []engine.Mutation{{Kind: engine.KindGroup, ID: "1", After: []byte(`{"id":1,"name":"a"}`)}}}
	require.NoError(t, a.Commit(ctx, 0, []*engine.Change{c}))
	select {
	case <-b.Wake():
	case <-time.After(10 * time.Second):
		t.Fatal("b was not woken by a's commit")
	}
	got, err := b.ChangesSince(ctx, 0, 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.JSONEq(t, `{"id":1,"name":"a"}`, string(got[0].Changes[0].After))
}

func TestReplicasAreSerial(t *testing.T) {
	storetest.ReplicasAreSerial(t, func() func() engine.Store {
		dsn := pgtest.Schema(t)
		return func() engine.Store { return open(t, dsn) }
	}, 3)
}
