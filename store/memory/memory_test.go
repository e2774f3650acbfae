package memory_test

import (
	"testing"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/store/memory"
	"github.com/tollgate-dev/tollgate/store/storetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T, retention int) func() engine.Store {
		s := memory.New(memory.WithRetention(retention))
		return func() engine.Store { return s.Reopen() }
	})
}
