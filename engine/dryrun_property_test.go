package engine_test

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"

	"github.com/tollgate-dev/tollgate/engine"
)

// TestPropertyDryRunPredictsTheWrite: a dry run (computed on a snapshot without the
// writer lock or the writer's indexes, issue 12 item 7) predicts exactly what the
// same write then does: the data sources added and removed, and every user whose
// grant changes (compared by brute force over all users and data sources).
func TestPropertyDryRunPredictsTheWrite(t *testing.T) {
	params := gopter.DefaultTestParameters()
	params.MinSuccessfulTests = 40
	props := gopter.NewProperties(params)
	props.Property("dry run = write", prop.ForAll(func(seed int64, update bool) string {
		e := newRandomEngine(t, seed, 20)
		r := rand.New(rand.NewSource(seed + 1))
		before := e.Snapshot()
		var id int64
		key := "dry"
		if ps := before.Policies(); update && len(ps) > 0 {
			id, key = ps[0].ID, ps[0].Key
			if r.Intn(2) == 0 {
				key = "renamed" // a key change moves selections and disables
			}
		}
		p := randPolicy(r, key)
		var dry, real *engine.Impact
		var err error
		if id == 0 {
			if _, dry, err = e.CreatePolicy(engine.SystemActor(), p, engine.WriteOptions{DryRun: true}); err != nil {
				return "" // refused (a taken key): nothing to compare
			}
			if _, real, err = e.CreatePolicy(engine.SystemActor(), p, engine.WriteOptions{}); err != nil {
				return "the write failed after its dry run passed: " + err.Error()
			}
		} else {
			if _, dry, err = e.UpdatePolicy(engine.SystemActor(), id, p, engine.WriteOptions{DryRun: true}); err != nil {
				return ""
			}
			if _, real, err = e.UpdatePolicy(engine.SystemActor(), id, p, engine.WriteOptions{}); err != nil {
				return "the write failed after its dry run passed: " + err.Error()
			}
		}
		if !slices.Equal(dry.DataSourcesAdded, real.DataSourcesAdded) || !slices.Equal(dry.DataSourcesRemoved, real.DataSourcesRemoved) {
			return fmt.Sprintf("dry run %v/%v, write %v/%v", dry.DataSourcesAdded, dry.DataSourcesRemoved, real.DataSourcesAdded, real.DataSourcesRemoved)
		}
		after := e.Snapshot()
		var want []engine.UserImpact
		for _, u := range before.UserIDs() {
			for _, ds := range before.DataSourceIDs() {
				b, a := before.Decide(u, ds).Grant, after.Decide(u, ds).Grant
				if a != b {
					want = append(want, engine.UserImpact{ProfileID: u, DataSourceID: ds, Before: b, After: a})
				}
			}
		}
		if len(want) == 0 {
			want = []engine.UserImpact{}
		}
		if fmt.Sprint(dry.Users) != fmt.Sprint(want) || dry.UsersTotal != len(want) || dry.Truncated {
			return fmt.Sprintf("dry run users %v (total %d), write changed %v", dry.Users, dry.UsersTotal, want)
		}
		return ""
	}, gen.Int64(), gen.Bool()))
	props.TestingRun(t)
}
