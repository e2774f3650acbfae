package memory_test

import (
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/store/memory"
	"github.com/tollgate-dev/tollgate/store/storetest"
)

// TestReplicas runs three engines sharing one memory store (the store object is
// shared, as one database would be).
func TestReplicas(t *testing.T) {
	t.Parallel()
	for _, retention := range []int{engine.DefaultRetention, 50} {
		s := memory.New(memory.WithRetention(retention))
		storetest.Replicas(t, func() engine.Store { return s.Reopen() },
			storetest.ReplicaConfig{Duration: 2 * time.Second, Seed: int64(retention), FullLog: retention == engine.DefaultRetention})
	}
}

func TestReplicasAreSerial(t *testing.T) {
	t.Parallel()
	storetest.ReplicasAreSerial(t, func() func() engine.Store {
		s := memory.New()
		return func() engine.Store { return s.Reopen() }
	}, 3)
}
